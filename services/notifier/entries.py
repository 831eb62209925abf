"""Calendar entries and SMS consents: the state the notifier checks before it sends."""

from __future__ import annotations

from datetime import datetime
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

    async def record_entry(self, entry: CalendarEntry) -> bool:
        """Store the entry unless a newer revision is stored; False when `entry` is stale."""
        key = (str(entry.recipient_id), entry.session_id)
        async with self._sessions.begin() as session:
            row = await session.get(CalendarEntryRow, key, with_for_update=True)
            if row is None:
                row = CalendarEntryRow(recipient_id=key[0], session_id=key[1])
                session.add(row)
            elif row.revision > entry.revision:
                return False
            row.role, row.revision, row.active = entry.recipient.role, entry.revision, entry.active
            row.recipient = entry.recipient.model_dump_json()
        return True

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
        async with self._sessions.begin() as session:
            await session.merge(SmsOptOutRow(phone=phone, opted_in=opted_in, updated_at=now))

    async def sms_opted_out(self, phone: str) -> bool:
        """Whether the number replied STOP and not START since."""
        async with self._sessions() as session:
            row = await session.get(SmsOptOutRow, phone)
            return row is not None and not row.opted_in
