"""The NotificationStore in SQL (SQLite by default, PostgreSQL via DATABASE_URL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, nullcontext
from datetime import datetime, timedelta
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Row, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from services.notifier.entries import EntriesAndConsents
from services.notifier.intake_work import IntakeWork
from services.notifier.notices import Kind, Notice
from services.notifier.ports import CalendarEntry, Delivery, Status
from services.notifier.recording import Record, forget_outcomes, write_records
from services.notifier.tables import OUTBOX, Base, NotificationRow, OutcomeRow
from shared.contracts import NotificationOutcomeV1
from shared.db import create_engine, create_missing

# Core statements: a claim needs neither the identity map nor the ORM's flush.
DUE_ROWS = (
    select(OUTBOX)
    .where(OUTBOX.c.status == "pending", OUTBOX.c.next_attempt_at <= bindparam("now_"))
    .order_by(OUTBOX.c.next_attempt_at)
    .limit(bindparam("limit_"))
    .with_for_update(skip_locked=True)
)
LEASE_ROWS = (
    update(OUTBOX)
    .where(OUTBOX.c.notification_key.in_(bindparam("keys_", expanding=True)))
    .values(next_attempt_at=bindparam("until_"))
)
# SQLite, where processes share one file: one statement takes the write lock before it reads,
# so two dispatchers never read the same due rows (a read-then-write transaction would fail
# with SQLITE_BUSY_SNAPSHOT when another claim commits in between). Rows come back leased.
CLAIM_ROWS = (
    update(OUTBOX)
    .where(OUTBOX.c.notification_key.in_(DUE_ROWS.with_only_columns(OUTBOX.c.notification_key)))
    .values(next_attempt_at=bindparam("until_"))
    .returning(*OUTBOX.c)
)


def _delivery(row: NotificationRow | Row[Any]) -> Delivery:
    return Delivery(
        notice=Notice.model_validate_json(row.payload),
        status=cast(Status, row.status),
        message_id=row.message_id,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
    )


class SqlNotificationStore(EntriesAndConsents):
    """The store over SQLAlchemy's async engine; nothing connects until first use."""

    def __init__(self, url: str) -> None:
        self.engine: AsyncEngine = create_engine(url)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer: queue this process's writers here instead of in its busy-wait.
        self._single_writer = self.engine.dialect.name == "sqlite"
        self._serial = asyncio.Lock() if self._single_writer else nullcontext()

    async def create_tables(self) -> None:
        """Create the tables that do not exist yet (a dispatcher may start beside the notifier)."""
        await create_missing(self.engine, Base.metadata)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()

    @asynccontextmanager
    async def intake(self) -> AsyncIterator[IntakeWork]:
        """One transaction for the writes of one event: all of them commit, or none."""
        async with self._writing() as session:
            yield IntakeWork(session)

    async def enqueue(
        self, notice: Notice, *, message_id: str, due: datetime, now: datetime
    ) -> bool:
        """Insert the notice as pending unless its key exists; True when inserted."""
        return await self.enqueue_many([(notice, message_id, due)], now=now) == 1

    async def enqueue_many(
        self, items: Sequence[tuple[Notice, str, datetime]], *, now: datetime
    ) -> int:
        """Insert (notice, message_id, due) as pending where the key is absent, in one transaction."""
        async with self.intake() as work:
            return await work.enqueue_many(items, now=now)

    async def record_entries(self, entries: Sequence[CalendarEntry]) -> int:
        """Insert new entries and raise older revisions, in one transaction; return how many."""
        async with self.intake() as work:
            return await work.record_entries(entries)

    async def record_entry(self, entry: CalendarEntry) -> bool:
        """Store the entry unless a newer revision is stored; False when `entry` is stale."""
        return await self.record_entries([entry]) == 1

    async def get(self, notification_key: str) -> Delivery | None:
        """The notification under `notification_key`, if any."""
        async with self._sessions() as session:
            row = await session.get(NotificationRow, notification_key)
            return _delivery(row) if row else None

    async def claim_due(self, now: datetime, *, limit: int, lease: timedelta) -> list[Delivery]:
        """Take due pending rows (SKIP LOCKED on PostgreSQL) and push them out by `lease`."""
        async with self._writing() as session:
            if self._single_writer:
                params = {"now_": now, "limit_": limit, "until_": now + lease}
                rows = (await session.execute(CLAIM_ROWS, params)).all()
                return [_delivery(row) for row in rows]
            rows = (await session.execute(DUE_ROWS, {"now_": now, "limit_": limit})).all()
            if rows:  # a dispatcher that dies mid-send leaves them due again after the lease
                keys = [row.notification_key for row in rows]
                await session.execute(LEASE_ROWS, {"keys_": keys, "until_": now + lease})
        return [_delivery(row) for row in rows]

    async def next_due(self) -> datetime | None:
        """When the earliest pending row falls due (one step down the due index)."""
        query = select(func.min(NotificationRow.next_attempt_at)).where(
            NotificationRow.status == "pending"
        )
        async with self._sessions() as session:
            return await session.scalar(query)

    async def finish(
        self,
        key: str,
        status: Status,
        now: datetime,
        *,
        detail: str | None = None,
        outcome: NotificationOutcomeV1 | None = None,
    ) -> None:
        """Record the final state after one more attempt, with its outcome event, atomically."""
        await self.record([Record(key, status, now, detail=detail, outcome=outcome)])

    async def defer(
        self,
        key: str,
        until: datetime,
        now: datetime,
        *,
        attempted: bool,
        outcome: NotificationOutcomeV1 | None = None,
    ) -> None:
        """Keep it pending until `until` (counting an attempt when one was made), with its outcome."""
        await self.record(
            [Record(key, None, now, until=until, attempted=attempted, outcome=outcome)]
        )

    async def record(self, records: Sequence[Record], forget: Sequence[UUID] = ()) -> None:
        """Write attempts' results and their outcome events (and forget published ones), at once."""
        async with self._writing() as session:
            await write_records(session, records)
            if forget:
                await forget_outcomes(session, forget)

    async def unpublished_outcomes(self, limit: int) -> list[NotificationOutcomeV1]:
        """Outcome events not yet on Kafka, oldest first."""
        query = select(OutcomeRow).order_by(OutcomeRow.created_at).limit(limit)
        async with self._sessions() as session:
            rows = (await session.scalars(query)).all()
        return [NotificationOutcomeV1.model_validate_json(row.payload) for row in rows]

    async def outcomes_published(self, event_ids: Sequence[UUID]) -> int:
        """Forget the outcomes Kafka acknowledged, in one statement; return how many."""
        if not event_ids:
            return 0
        async with self._writing() as session:
            return await forget_outcomes(session, event_ids)

    async def replay(self, key: str, now: datetime) -> bool:
        """Make a failed notification due again (an operator's decision); True if it was failed."""
        statement = (
            update(NotificationRow)
            .where(NotificationRow.notification_key == key, NotificationRow.status == "failed")
            .values(status="pending", attempts=0, next_attempt_at=now, detail=None, updated_at=now)
        )
        async with self._writing() as session:
            result = await session.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def has_calendar(self, recipient_id: UUID, session_id: str) -> bool:
        """Whether any invite or update was ever queued for this calendar entry."""
        async with self.intake() as work:
            return await work.has_calendar(recipient_id, session_id)

    async def close_pending(
        self,
        recipient_id: UUID,
        session_id: str,
        kinds: tuple[Kind, ...],
        below: int,
        now: datetime,
    ) -> int:
        """Mark older pending notices of these kinds superseded (cancelled for reminders)."""
        async with self.intake() as work:
            return await work.close_pending(recipient_id, session_id, kinds, below, now)

    async def erase(self, registration_id: UUID) -> int:
        """Delete everything kept about a registration (its pending reminders included)."""
        async with self.intake() as work:
            return await work.erase(registration_id)
