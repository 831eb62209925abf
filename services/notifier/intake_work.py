"""One intake transaction: calendar entries, closing older notices and queueing new ones, together.

Every write is a set-based statement (insert-if-absent, conditional upsert, one UPDATE), so a
placement costs one transaction and a handful of round trips however many reminders it plans.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.notices import Kind, Notice
from services.notifier.ports import CalendarEntry
from services.notifier.tables import ENTRIES, OUTBOX, CalendarEntryRow, NotificationRow
from shared.db import MOST_ROWS_PER_STATEMENT, statement_slices

CHUNK = MOST_ROWS_PER_STATEMENT  # most rows per statement (slices are powers of two)
Queued = tuple[Notice, str, datetime]
T = TypeVar("T")


def chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    """`items` in statement-sized slices (powers of two, at most `CHUNK`)."""
    return statement_slices(items, CHUNK)


def outbox_row(notice: Notice, message_id: str, due: datetime, now: datetime) -> dict[str, Any]:
    """The pending outbox row of a notice."""
    return {
        "notification_key": notice.key,
        "recipient_id": str(notice.recipient_id),
        "session_id": notice.session_id,
        "channel": notice.channel,
        "kind": notice.kind,
        "revision": notice.revision,
        "status": "pending",
        "message_id": message_id,
        "attempts": 0,
        "next_attempt_at": due,
        "payload": notice.model_dump_json(),
        "detail": None,
        "updated_at": now,
    }


def entry_row(entry: CalendarEntry) -> dict[str, Any]:
    """The calendar-entry row of an entry."""
    return {
        "recipient_id": str(entry.recipient_id),
        "session_id": entry.session_id,
        "role": entry.recipient.role,
        "revision": entry.revision,
        "active": entry.active,
        "recipient": entry.recipient.model_dump_json(),
    }


def newest_per_key(entries: Sequence[CalendarEntry]) -> list[CalendarEntry]:
    """One entry per (recipient, session): the highest revision, the later one on a tie."""
    newest: dict[tuple[UUID, str], CalendarEntry] = {}
    for entry in entries:
        key = (entry.recipient_id, entry.session_id)
        if key not in newest or newest[key].revision <= entry.revision:
            newest[key] = entry
    return list(newest.values())


@functools.lru_cache(maxsize=8)  # built once per dialect: SQLAlchemy then reuses its compiled form
def _enqueue_statement(dialect: str) -> Any:
    statement = insert_statement(dialect, OUTBOX).on_conflict_do_nothing()
    return statement.returning(OUTBOX.c.notification_key)


@functools.lru_cache(maxsize=8)
def _upsert_entry_statement(dialect: str) -> Any:
    insert = insert_statement(dialect, ENTRIES)
    changed = {c: insert.excluded[c] for c in ("role", "revision", "active", "recipient")}
    return insert.on_conflict_do_update(
        index_elements=[ENTRIES.c.recipient_id, ENTRIES.c.session_id],
        set_=changed,
        where=ENTRIES.c.revision <= insert.excluded.revision,
    ).returning(ENTRIES.c.recipient_id, ENTRIES.c.session_id)


# Core (not ORM) statements: nothing here needs the identity map, and the ORM's bulk path
# costs several times the CPU of the statement itself.
_CLOSE_PENDING = (
    update(OUTBOX)
    .where(
        OUTBOX.c.recipient_id == bindparam("recipient_id_"),
        OUTBOX.c.session_id == bindparam("session_id_"),
        OUTBOX.c.kind.in_(bindparam("kinds_", expanding=True)),
        OUTBOX.c.revision < bindparam("below_"),
        OUTBOX.c.status == "pending",
    )
    .values(status="superseded", updated_at=bindparam("now_"))
)


def insert_statement(dialect: str, table: Table) -> Any:
    """The dialect's INSERT, which has `on_conflict_do_nothing` / `_do_update`."""
    if dialect == "sqlite":
        return sqlite.insert(table)
    if dialect == "postgresql":
        return postgresql.insert(table)
    raise NotImplementedError(f"no insert-if-absent for {dialect}")


class IntakeWork:
    """The intake writes of one transaction (see `SqlNotificationStore.intake`)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._dialect = session.get_bind().dialect.name

    async def enqueue_many(self, items: Sequence[Queued], *, now: datetime) -> int:
        """Insert the notices whose key is absent as pending; return how many were inserted."""
        return len(await self.enqueue_keys(items, now=now))

    async def enqueue_keys(self, items: Sequence[Queued], *, now: datetime) -> set[str]:
        """Insert the notices whose key is absent as pending; return the keys inserted."""
        statement = _enqueue_statement(self._dialect)
        inserted: set[str] = set()
        for chunk in chunks(items):
            rows = [outbox_row(notice, mail_id, due, now) for notice, mail_id, due in chunk]
            inserted.update((await self._session.execute(statement, rows)).scalars())
        return inserted

    async def record_entries(self, entries: Sequence[CalendarEntry]) -> int:
        """Insert new entries, overwrite those at an equal or lower revision; return how many."""
        return len(await self.fresh_entries(entries))

    async def fresh_entries(self, entries: Sequence[CalendarEntry]) -> set[tuple[UUID, str]]:
        """Record the entries (see `record_entries`); the (recipient, session) of those written.

        An entry left out is stale: its calendar already holds a newer revision.
        """
        statement = _upsert_entry_statement(self._dialect)
        written: set[tuple[UUID, str]] = set()
        for chunk in chunks(newest_per_key(entries)):
            result = await self._session.execute(statement, [entry_row(e) for e in chunk])
            written.update((UUID(recipient), session) for recipient, session in result.all())
        return written

    async def record_entry(self, entry: CalendarEntry) -> bool:
        """Store the entry unless a newer revision is stored; False when `entry` is stale."""
        return await self.record_entries([entry]) == 1

    async def close_pending(
        self,
        recipient_id: UUID,
        session_id: str,
        kinds: tuple[Kind, ...],
        below: int,
        now: datetime,
    ) -> int:
        """Mark older pending notices of these kinds superseded."""
        if below <= 1:
            return 0  # revisions start at 1: nothing can be older than the first
        params = {
            "recipient_id_": str(recipient_id),
            "session_id_": session_id,
            "kinds_": list(kinds),
            "below_": below,
            "now_": now,
        }
        result = await self._session.execute(_CLOSE_PENDING, params)
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def has_calendar(self, recipient_id: UUID, session_id: str) -> bool:
        """Whether any invite or update was ever queued for this calendar entry."""
        query = select(NotificationRow.notification_key).where(
            NotificationRow.recipient_id == str(recipient_id),
            NotificationRow.session_id == session_id,
            NotificationRow.kind.in_(("invite", "update")),
        )
        return (await self._session.scalars(query.limit(1))).first() is not None

    async def erase(self, registration_id: UUID) -> int:
        """Delete everything kept about a registration (its pending reminders included)."""
        recipient = str(registration_id)
        result = await self._session.execute(
            delete(NotificationRow).where(NotificationRow.recipient_id == recipient)
        )
        await self._session.execute(
            delete(CalendarEntryRow).where(CalendarEntryRow.recipient_id == recipient)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
