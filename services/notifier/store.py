"""The NotificationStore in SQL (SQLite by default, PostgreSQL via DATABASE_URL)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast
from uuid import UUID

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.notifier.entries import EntriesAndConsents
from services.notifier.notices import Kind, Notice, Recipient
from services.notifier.ports import CalendarEntry, Delivery, Status
from services.notifier.tables import Base, CalendarEntryRow, NotificationRow, OutcomeRow
from shared.contracts import NotificationOutcomeV1
from shared.db import create_engine


async def _add_outcome(
    session: AsyncSession, outcome: NotificationOutcomeV1 | None, now: datetime
) -> None:
    if outcome is not None:  # merge: a repeated outcome (same deterministic id) is one row
        payload = outcome.model_dump_json()
        await session.merge(
            OutcomeRow(event_id=str(outcome.event_id), payload=payload, created_at=now)
        )


def _delivery(row: NotificationRow) -> Delivery:
    return Delivery(
        notice=Notice.model_validate_json(row.payload),
        status=cast(Status, row.status),
        message_id=row.message_id,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
    )


def _entry(row: CalendarEntryRow) -> CalendarEntry:
    recipient = Recipient.model_validate_json(row.recipient)
    return CalendarEntry(
        UUID(row.recipient_id), row.session_id, row.revision, row.active, recipient
    )


class SqlNotificationStore(EntriesAndConsents):
    """The store over SQLAlchemy's async engine; nothing connects until first use."""

    def __init__(self, url: str) -> None:
        self.engine: AsyncEngine = create_engine(url)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def create_tables(self) -> None:
        """Create the tables that do not exist yet."""
        async with self.engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()

    async def enqueue(
        self, notice: Notice, *, message_id: str, due: datetime, now: datetime
    ) -> bool:
        """Insert the notice as pending unless its key exists; True when inserted."""
        row = NotificationRow(
            notification_key=notice.key,
            recipient_id=str(notice.recipient_id),
            session_id=notice.session.session_id,
            channel=notice.channel,
            kind=notice.kind,
            revision=notice.revision,
            status="pending",
            message_id=message_id,
            attempts=0,
            next_attempt_at=due,
            payload=notice.model_dump_json(),
            updated_at=now,
        )
        try:
            async with self._sessions.begin() as session:
                if await session.get(NotificationRow, notice.key) is not None:
                    return False
                session.add(row)
        except IntegrityError:  # another instance inserted the same key first
            return False
        return True

    async def get(self, notification_key: str) -> Delivery | None:
        """The notification under `notification_key`, if any."""
        async with self._sessions() as session:
            row = await session.get(NotificationRow, notification_key)
            return _delivery(row) if row else None

    async def claim_due(self, now: datetime, *, limit: int, lease: timedelta) -> list[Delivery]:
        """Take due pending rows (SKIP LOCKED on PostgreSQL) and push them out by `lease`."""
        query = (
            select(NotificationRow)
            .where(NotificationRow.status == "pending", NotificationRow.next_attempt_at <= now)
            .order_by(NotificationRow.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self._sessions.begin() as session:
            rows = list((await session.scalars(query)).all())
            claimed = [_delivery(row) for row in rows]
            for row in rows:  # a dispatcher that dies mid-send leaves it due again after the lease
                row.next_attempt_at = now + lease
        return claimed

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
        values = {"status": status, "updated_at": now, "detail": detail}
        statement = update(NotificationRow).where(NotificationRow.notification_key == key)
        async with self._sessions.begin() as session:
            await session.execute(statement.values(**values, attempts=NotificationRow.attempts + 1))
            await _add_outcome(session, outcome, now)

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
        statement = update(NotificationRow).where(NotificationRow.notification_key == key)
        attempts = NotificationRow.attempts + (1 if attempted else 0)
        async with self._sessions.begin() as session:
            await session.execute(
                statement.values(next_attempt_at=until, updated_at=now, attempts=attempts)
            )
            await _add_outcome(session, outcome, now)

    async def unpublished_outcomes(self, limit: int) -> list[NotificationOutcomeV1]:
        """Outcome events not yet on Kafka, oldest first."""
        query = select(OutcomeRow).order_by(OutcomeRow.created_at).limit(limit)
        async with self._sessions() as session:
            rows = (await session.scalars(query)).all()
        return [NotificationOutcomeV1.model_validate_json(row.payload) for row in rows]

    async def outcome_published(self, event_id: UUID) -> None:
        """Forget an outcome once Kafka acknowledged it."""
        async with self._sessions.begin() as session:
            await session.execute(delete(OutcomeRow).where(OutcomeRow.event_id == str(event_id)))

    async def replay(self, key: str, now: datetime) -> bool:
        """Make a failed notification due again (an operator's decision); True if it was failed."""
        statement = (
            update(NotificationRow)
            .where(NotificationRow.notification_key == key, NotificationRow.status == "failed")
            .values(status="pending", attempts=0, next_attempt_at=now, detail=None, updated_at=now)
        )
        async with self._sessions.begin() as session:
            result = await session.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def has_calendar(self, recipient_id: UUID, session_id: str) -> bool:
        """Whether any invite or update was ever queued for this calendar entry."""
        query = select(NotificationRow.notification_key).where(
            NotificationRow.recipient_id == str(recipient_id),
            NotificationRow.session_id == session_id,
            NotificationRow.kind.in_(("invite", "update")),
        )
        async with self._sessions() as session:
            return (await session.scalars(query.limit(1))).first() is not None

    async def close_pending(
        self,
        recipient_id: UUID,
        session_id: str,
        kinds: tuple[Kind, ...],
        below: int,
        now: datetime,
    ) -> int:
        """Mark older pending notices of these kinds superseded (cancelled for reminders)."""
        statement = (
            update(NotificationRow)
            .where(
                NotificationRow.recipient_id == str(recipient_id),
                NotificationRow.session_id == session_id,
                NotificationRow.kind.in_(kinds),
                NotificationRow.revision < below,
                NotificationRow.status == "pending",
            )
            .values(status="superseded", updated_at=now)
        )
        async with self._sessions.begin() as session:
            result = await session.execute(statement)
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def erase(self, registration_id: UUID) -> int:
        """Delete everything kept about a registration (its pending reminders included)."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(NotificationRow).where(NotificationRow.recipient_id == str(registration_id))
            )
            await session.execute(
                delete(CalendarEntryRow).where(
                    CalendarEntryRow.recipient_id == str(registration_id)
                )
            )
        return int(result.rowcount)  # type: ignore[attr-defined]
