"""One programme's rows inside an open, serialised transaction."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.scheduler.book_cache import BookCache
from services.scheduler.deferred import DeferredWrites, Write
from services.scheduler.domain import Book, Placement, Request, WaitlistPolicy
from services.scheduler.tables import inbox, outbox, programme_versions, registrations, sessions
from services.scheduler.views import frozen, slot_of
from shared.catalogue import Session
from shared.contracts import TRUSTED, Event, Registrant, SessionSnapshot
from shared.db import insert_if_absent, statement_slices


@functools.lru_cache(maxsize=16384)
def parse_session(session_json: str) -> Session:
    """Parse a stored session once per distinct text: sessions are frozen, and every decision
    reads all of the programme's sessions (500 on an opening day)."""
    return Session.model_validate_json(session_json)


@dataclass(frozen=True)
class StoredSession:
    """A session as staff last left it."""

    session: Session
    status: str
    revision: int

    @property
    def cancelled(self) -> bool:
        """True once staff cancelled it."""
        return self.status == "cancelled"

    @functools.cached_property
    def snapshot(self) -> SessionSnapshot:
        """The session as events carry it, built once (every seat event of the session has it)."""
        return self.session.snapshot()


class ProgrammeTx:
    """Reads and writes of one programme; every write commits with the others or not at all."""

    def __init__(
        self,
        conn: AsyncConnection,
        programme_id: str,
        cache: BookCache | None = None,
        *,
        title: str | None = None,
    ) -> None:
        self.conn, self.programme_id, self.cache = conn, programme_id, cache
        self.programme_title = title
        self.version: int | None = None
        self.bumped = False
        self.book: Book | None = None
        self.book_reusable = True
        self._sessions: dict[str, StoredSession] | None = None
        self._deferred = DeferredWrites()
        """Placement and outbox writes, run together (`flush`) before a read needs them."""

    def _defer(self, statement: Write, row: dict[str, Any]) -> None:
        self._deferred.add(statement, row)

    async def flush(self) -> None:
        """Run the deferred writes: per table in order, each run of a statement as one executemany."""
        await self._deferred.flush(self.conn)

    async def _current_version(self) -> int:
        if self.version is None:
            query = select(programme_versions.c.version).where(
                programme_versions.c.programme_id == self.programme_id
            )
            self.version = (await self.conn.execute(query)).scalar_one_or_none() or 0
        return self.version

    async def _wrote(self, *, book_stays_valid: bool = True) -> None:
        """Raise the programme's version once per transaction (it changes what a book would load)."""
        self.book_reusable = self.book_reusable and book_stays_valid
        if self.bumped:
            return
        version = await self._current_version()
        row = {"programme_id": self.programme_id, "version": version}
        await self.conn.execute(insert_if_absent(self.conn.dialect.name, programme_versions, row))
        key = programme_versions.c.programme_id == self.programme_id
        await self.conn.execute(update(programme_versions).where(key).values(version=version + 1))
        self.version, self.bumped = version + 1, True

    def keep_book(self) -> None:
        """After the commit: cache the book if everything written was the book's own placements."""
        book, version = self.book, self.version
        if self.cache is None or book is None or version is None or not self.book_reusable:
            return
        if not book.changes and self._sessions is not None:  # memory and database agree
            self.cache.put(self.programme_id, version, book, self._sessions)

    async def sessions(self) -> dict[str, StoredSession]:
        """The programme's sessions by id (read once per transaction, or taken with the book)."""
        if self._sessions is None:
            query = select(sessions).where(sessions.c.programme_id == self.programme_id)
            rows = (await self.conn.execute(query)).mappings().all()
            self._sessions = {
                row["session_id"]: StoredSession(
                    parse_session(row["session_json"]), row["status"], row["revision"]
                )
                for row in rows
            }
        return dict(self._sessions)

    async def session(self, session_id: str | None) -> StoredSession | None:
        """One stored session (None for none or an unknown id), without copying them all."""
        stored = self._sessions if self._sessions is not None else await self.sessions()
        return None if session_id is None else stored.get(session_id)

    async def save_session(self, stored: StoredSession, now: datetime) -> None:
        """Insert or replace a session."""
        await self._wrote(book_stays_valid=False)
        self._sessions = None
        values = {
            "programme_id": self.programme_id,
            "status": stored.status,
            "revision": stored.revision,
            "session_json": stored.session.model_dump_json(),
            "updated_at": now,
        }
        key = stored.session.id
        found = await self.conn.execute(
            update(sessions).where(sessions.c.session_id == key).values(**values)
        )
        if found.rowcount == 0:
            await self.conn.execute(insert(sessions).values(session_id=key, **values))

    async def load_book(self, policy: WaitlistPolicy, *, cached: bool = True) -> Book:
        """The programme's sessions and placements, ready for the rules (from the cache if current)."""
        version = await self._current_version()
        taken = self.cache.take(self.programme_id, version) if self.cache and cached else None
        if taken is not None and taken[0].policy is policy:
            book, self._sessions = taken[0], dict(taken[1])
        else:
            book = await self._load_book(policy)
        self.book = book
        return book

    async def _load_book(self, policy: WaitlistPolicy) -> Book:
        slots = [
            slot_of(s.session, cancelled=s.cancelled) for s in (await self.sessions()).values()
        ]
        query = select(registrations).where(registrations.c.programme_id == self.programme_id)
        # in chunks: all rows at once held ~1.4 KB per placement on top of the book being built
        rows = await self.conn.stream(query.execution_options(yield_per=_ROWS_PER_FETCH))
        placements = [
            _placement(row) async for part in rows.mappings().partitions() for row in part
        ]
        return Book.of(slots, placements, policy)

    async def add_placement(
        self, placement: Placement, registrant: Registrant, correlation_id: str, now: datetime
    ) -> None:
        """Store a new registration's placement with the registrant's details."""
        await self._wrote()
        row = {
            "registration_id": placement.registration_id,
            "programme_id": self.programme_id,
            "arrival": placement.arrival,
            "registrant_json": registrant.model_dump_json(),
            "correlation_id": correlation_id,
            **_columns(placement, now),
        }
        self._defer(_INSERT_PLACEMENT, row)

    async def save_placement(self, placement: Placement, now: datetime) -> None:
        """Store a changed placement."""
        await self._wrote()
        row = {"key": placement.registration_id, **_columns(placement, now)}
        self._defer(_UPDATE_PLACEMENT, row)

    async def contact(self, registration_id: UUID) -> tuple[Registrant | None, str]:
        """The registrant (None once erased) and the registration's correlation id."""
        await self.flush()
        query = select(registrations.c.registrant_json, registrations.c.correlation_id).where(
            registrations.c.registration_id == registration_id
        )
        registrant_json, correlation_id = (await self.conn.execute(query)).one()
        registrant = (
            None
            if registrant_json is None
            else Registrant.model_validate_json(registrant_json, context=TRUSTED)  # our own row
        )
        return registrant, str(correlation_id)

    async def erase(self, registration_id: UUID) -> None:
        """Remove a registrant's personal data, including every event stored about them."""
        await self._wrote(book_stays_valid=False)
        await self.flush()
        key = registrations.c.registration_id == registration_id
        await self.conn.execute(update(registrations).where(key).values(registrant_json=None))
        await self.conn.execute(delete(outbox).where(outbox.c.registration_id == registration_id))

    async def enqueue(
        self, event: Event, *, topic: str, key: str, registration_id: UUID | None = None
    ) -> None:
        """Write an event to the outbox; the relay publishes it after the commit."""
        row = {
            "event_id": event.event_id,
            "topic": topic,
            "key": key,
            "registration_id": registration_id,
            "event_json": event.model_dump_json(),
            "created_at": event.occurred_at,
        }
        self._defer(_INSERT_OUTBOX, row)

    async def first_time(self, consumer: str, event_id: UUID, now: datetime) -> bool:
        """Record that `consumer` handled `event_id`; False if it already had."""
        return event_id in await self.first_times(consumer, [event_id], now)

    async def first_times(
        self, consumer: str, event_ids: Sequence[UUID], now: datetime
    ) -> set[UUID]:
        """Record that `consumer` handled these events; those it had not before (a statement per slice)."""
        if not event_ids:
            return set()
        statement = _record_inbox(self.conn.dialect.name)
        rows = [{"consumer": consumer, "event_id": e, "processed_at": now} for e in event_ids]
        fresh: set[UUID] = set()
        for part in statement_slices(rows):
            fresh.update(map(_uuid, (await self.conn.execute(statement, part)).scalars()))
        return fresh


def _uuid(value: Any) -> UUID:
    """A driver's UUID as the standard library's (asyncpg has its own type)."""
    return value if type(value) is UUID else UUID(str(value))


@functools.lru_cache(maxsize=4)
def _record_inbox(dialect: str) -> Any:
    statement: Any = insert_if_absent(dialect, inbox)
    return statement.returning(inbox.c.event_id)


_ROWS_PER_FETCH = 1000

# Built once: executing a prepared statement with parameters skips building and caching a new one.
_INSERT_PLACEMENT = insert(registrations)
_UPDATE_PLACEMENT = update(registrations).where(registrations.c.registration_id == bindparam("key"))
_INSERT_OUTBOX = insert(outbox)


def _columns(placement: Placement, now: datetime) -> dict[str, Any]:
    request = placement.request
    return {
        "status": placement.status,
        "session_id": placement.session_id,
        "choice_rank": placement.rank,
        "reason": placement.reason[:500],
        "revision": placement.revision,
        "expires_at": placement.expires_at,
        "declined_json": json.dumps(sorted(placement.declined)),
        "held_since": placement.held_since,
        "request_json": json.dumps(
            {
                "preferences": list(request.preferences),
                "unavailable_dates": sorted(d.isoformat() for d in request.unavailable_dates),
                "language": request.language,
                "municipality": request.municipality,
            }
        ),
        "updated_at": now,
    }


def _placement(row: Any) -> Placement:
    request = json.loads(row["request_json"])
    return Placement(
        registration_id=row["registration_id"],
        arrival=row["arrival"],
        request=Request(
            preferences=tuple(request["preferences"]),
            unavailable_dates=frozen(date.fromisoformat(d) for d in request["unavailable_dates"]),
            language=request["language"],
            municipality=request["municipality"],
        ),
        status=row["status"],
        session_id=row["session_id"],
        rank=row["choice_rank"],
        reason=row["reason"],
        revision=row["revision"],
        expires_at=row["expires_at"],
        declined=frozen(json.loads(row["declined_json"])),
        held_since=row["held_since"],
    )
