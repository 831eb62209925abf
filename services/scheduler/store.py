"""Placements in SQL: one serialised transaction per decision, so seats are never overbooked.

Serialisation:
- SQLite: every transaction starts with `BEGIN IMMEDIATE`, which takes the database's write lock
  up front; a second decider waits (busy timeout) until the first commits, then sees its placement.
- PostgreSQL: every transaction first takes `pg_advisory_xact_lock` on the programme id, released
  at commit or rollback. Seat counts span all sessions of a programme (a registrant may fall
  through to any of them), so one lock per programme is the right grain. Registrations are keyed
  by programme on Kafka, so the lock is rarely contended: it matters during consumer-group
  rebalances and when several scheduler replicas share a database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import TypeAdapter
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from services.scheduler.tables import metadata, placements, processed_events
from shared.contracts import PlacementEvent, SeatAssignedV1

_events: TypeAdapter[PlacementEvent] = TypeAdapter(PlacementEvent)


class PlacementStore:
    """Where placement decisions and the events announcing them are kept."""

    def __init__(self, url: str) -> None:
        sqlite = url.startswith("sqlite")
        self.engine: AsyncEngine = create_async_engine(
            url, connect_args={"timeout": 30} if sqlite else {}
        )
        if sqlite:
            _begin_immediate(self.engine)

    async def create_tables(self) -> None:
        """Create the tables if they do not exist yet."""
        async with self.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(self, programme_id: str) -> AsyncIterator[Placements]:
        """A serialised unit of work on a programme's placements; commits on success."""
        async with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                lock = text("SELECT pg_advisory_xact_lock(hashtext(:key))")
                await conn.execute(lock, {"key": f"scheduler:{programme_id}"})
            yield Placements(conn, programme_id)


class Placements:
    """The placements of one programme, inside an open transaction."""

    def __init__(self, conn: AsyncConnection, programme_id: str) -> None:
        self.conn, self.programme_id = conn, programme_id

    async def find(self, registration_id: UUID) -> PlacementEvent | None:
        """The event stored for a registration's placement, if it was already placed."""
        query = select(placements.c.event_json).where(
            placements.c.registration_id == registration_id
        )
        stored = (await self.conn.execute(query)).scalar_one_or_none()
        return None if stored is None else _events.validate_json(stored)

    async def taken_seats(self) -> dict[str, int]:
        """Seats taken per session of the programme."""
        query = (
            select(placements.c.session_id, func.count())
            .where(placements.c.programme_id == self.programme_id)
            .where(placements.c.status == "assigned")
            .group_by(placements.c.session_id)
        )
        return {str(session_id): int(n) for session_id, n in (await self.conn.execute(query)).all()}

    async def waitlist_length(self) -> int:
        """How many registrants of the programme are waiting."""
        query = select(func.count()).where(
            placements.c.programme_id == self.programme_id, placements.c.status == "waitlisted"
        )
        return int((await self.conn.execute(query)).scalar_one())

    async def add(self, placement: PlacementEvent) -> None:
        """Store a new placement together with the event that announces it (our outbox)."""
        seat = placement if isinstance(placement, SeatAssignedV1) else None
        await self.conn.execute(
            placements.insert().values(
                registration_id=placement.registration_id,
                programme_id=placement.programme_id,
                session_id=seat.session.session_id if seat else None,
                status="assigned" if seat else "waitlisted",
                revision=seat.revision if seat else 1,
                reason=placement.reason,
                event_id=placement.event_id,
                event_json=placement.model_dump_json(),
                created_at=placement.occurred_at,
            )
        )

    async def mark_processed(self, consumer: str, event_id: UUID, at: datetime) -> bool:
        """Record that `consumer` handled `event_id`; False if it already had."""
        query = select(processed_events.c.event_id).where(
            processed_events.c.consumer == consumer, processed_events.c.event_id == event_id
        )
        if (await self.conn.execute(query)).first() is not None:
            return False
        await self.conn.execute(
            processed_events.insert().values(consumer=consumer, event_id=event_id, processed_at=at)
        )
        return True


def _begin_immediate(engine: AsyncEngine) -> None:
    """Let SQLAlchemy, not the driver, begin SQLite transactions, taking the write lock at BEGIN."""

    @event.listens_for(engine.sync_engine, "connect")
    def _no_driver_begin(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
