"""Calendar entries and SMS consents: the state the notifier checks before it sends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notifier.notices import Recipient
from services.notifier.ports import CalendarEntry
from services.notifier.tables import CalendarEntryRow, SmsOptOutRow


def _entry(row: CalendarEntryRow) -> CalendarEntry:
    recipient = Recipient.model_validate_json(row.recipient)
    return CalendarEntry(
        UUID(row.recipient_id), row.session_id, row.revision, row.active, recipient
    )


class EntriesAndConsents:
    """What each calendar holds, and who said STOP; mixed into the SQL store."""

    _sessions: async_sessionmaker[AsyncSession]
    _serial: AbstractAsyncContextManager[Any]

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncSession]:
        """A write transaction, after the writers queued before it (on SQLite)."""
        async with self._serial, self._sessions.begin() as session:
            yield session

    async def entry(self, recipient_id: UUID, session_id: str) -> CalendarEntry | None:
        """What the recipient's calendar holds for the session."""
        async with self._sessions() as session:
            row = await session.get(CalendarEntryRow, (str(recipient_id), session_id))
            return _entry(row) if row else None

    async def trainer_entries(self, session_id: str) -> list[CalendarEntry]:
        """The trainers' entries of one session."""
        query = select(CalendarEntryRow).where(
            CalendarEntryRow.session_id == session_id, CalendarEntryRow.role == "trainer"
        )
        async with self._sessions() as session:
            return [_entry(row) for row in (await session.scalars(query)).all()]

    async def set_sms_consent(self, phone: str, opted_in: bool, now: datetime) -> None:
        """Remember a STOP (opted_in false) or START reply."""
        async with self._writing() as session:
            await session.merge(SmsOptOutRow(phone=phone, opted_in=opted_in, updated_at=now))

    async def sms_opted_out(self, phone: str) -> bool:
        """Whether the number replied STOP and not START since."""
        async with self._sessions() as session:
            row = await session.get(SmsOptOutRow, phone)
            return row is not None and not row.opted_in
