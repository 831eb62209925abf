"""Registration records: who registered (until erased), and where each registration stands."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.registration.schemas import RegistrationStatus, StaffRegistration
from services.registration.tables import Base, IdempotencyKeyRow, RegistrationRow
from shared.contracts import RegistrationSubmittedV1
from shared.db import insert_if_absent

PERSONAL_FIELDS = ("full_name", "email", "phone", "organisation", "role")


class RegistrationStore:
    """Reads and writes registration records."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def create_tables(self) -> None:
        """Create the tables if they are missing."""
        async with self.engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)

    async def exists(self, registration_id: UUID) -> bool:
        """Tell whether a registration was already accepted (and not erased)."""
        async with self.sessions() as session:
            row = await session.get(RegistrationRow, registration_id)
            return row is not None and row.email is not None

    async def record_submitted(self, event: RegistrationSubmittedV1) -> None:
        """Remember an accepted registration with its personal data (idempotent)."""
        person = event.registrant
        async with self.sessions.begin() as session:
            row = await self._ensure_row(
                session, event.registration_id, event.programme_id, event.occurred_at
            )
            row.full_name, row.email, row.phone = person.full_name, person.email, person.phone
            row.organisation, row.role, row.language = (
                person.organisation,
                person.role,
                person.language,
            )
            row.consent_email, row.consent_sms = person.consent_email, person.consent_sms
            row.preferences = list(event.preferences)
            row.unavailable_dates = [d.isoformat() for d in event.unavailable_dates]
            row.erased_at = None

    async def record_status(self, status: RegistrationStatus) -> None:
        """Store the scheduler's decision unless a newer revision is already stored."""
        async with self.sessions.begin() as session:
            row = await self._ensure_row(
                session, status.registration_id, status.programme_id, status.updated_at
            )
            if row.revision > status.revision:
                return  # a redelivered older decision must not overwrite a newer one
            row.status, row.session_id = status.status, status.session_id
            row.waitlist_position, row.reason = status.waitlist_position, status.reason
            row.offer_expires_at, row.revision = status.offer_expires_at, status.revision
            row.updated_at = status.updated_at

    @staticmethod
    async def _ensure_row(
        session: AsyncSession, registration_id: UUID, programme_id: str, at: datetime
    ) -> RegistrationRow:
        """The registration's row, inserted if absent first: the API and the placement consumer race."""
        values = {
            "registration_id": registration_id,
            "programme_id": programme_id,
            "submitted_at": at,
            "updated_at": at,
        }
        dialect = session.get_bind().dialect.name
        await session.execute(insert_if_absent(dialect, RegistrationRow.__table__, values))  # type: ignore[arg-type]
        row = await session.get(
            RegistrationRow, registration_id, with_for_update=True, populate_existing=True
        )
        assert row is not None
        return row

    async def row(self, registration_id: UUID) -> RegistrationRow | None:
        """Return the stored record of a registration, or None."""
        async with self.sessions() as session:
            return await session.get(RegistrationRow, registration_id)

    async def status(self, registration_id: UUID) -> RegistrationStatus | None:
        """Return where a registration stands, or None if it is unknown."""
        row = await self.row(registration_id)
        return None if row is None else RegistrationStatus.model_validate(row, from_attributes=True)

    async def list_people(self, programme_id: str | None) -> list[StaffRegistration]:
        """Every registration with personal data, oldest first, optionally of one programme."""
        query = select(RegistrationRow).where(RegistrationRow.email.is_not(None))
        if programme_id is not None:
            query = query.where(RegistrationRow.programme_id == programme_id)
        async with self.sessions() as session:
            rows = await session.scalars(query.order_by(RegistrationRow.submitted_at))
            return [StaffRegistration.model_validate(r, from_attributes=True) for r in rows]

    async def erase(self, registration_id: UUID, now: datetime) -> None:
        """Remove a person's data; ids and status stay so late events still find the record."""
        async with self.sessions.begin() as session:
            row = await session.get(RegistrationRow, registration_id, with_for_update=True)
            if row is None:
                return
            for name in PERSONAL_FIELDS:
                setattr(row, name, None)
            row.consent_email = row.consent_sms = False
            row.preferences, row.unavailable_dates = [], []
            row.erased_at = now
            # the key's fingerprint is a digest of the request, personal data included
            await session.execute(
                delete(IdempotencyKeyRow).where(
                    IdempotencyKeyRow.registration_id == registration_id
                )
            )

    async def ids_of_programme(self, programme_id: str) -> list[UUID]:
        """The ids of every registration of a programme."""
        async with self.sessions() as session:
            query = select(RegistrationRow.registration_id)
            return list(
                await session.scalars(query.where(RegistrationRow.programme_id == programme_id))
            )

    async def purge(self, registration_ids: Sequence[UUID]) -> None:
        """Delete registrations entirely (retention)."""
        async with self.sessions.begin() as session:
            await session.execute(
                delete(RegistrationRow).where(RegistrationRow.registration_id.in_(registration_ids))
            )
            await session.execute(
                delete(IdempotencyKeyRow).where(
                    IdempotencyKeyRow.registration_id.in_(registration_ids)
                )
            )

    async def sms_consents_since(self, moment: datetime) -> int:
        """How many registrations with SMS consent were accepted since `moment`."""
        query = select(func.count()).where(
            RegistrationRow.consent_sms.is_(True), RegistrationRow.submitted_at >= moment
        )
        async with self.sessions() as session:
            return int(await session.scalar(query) or 0)
