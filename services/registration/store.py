"""Registration records: who registered (until erased), and where each registration stands."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from services.registration.group_commit import GroupCommit
from services.registration.schemas import RegistrationStatus, StaffRegistration
from services.registration.tables import Base, IdempotencyKeyRow, RegistrationRow
from services.registration.upserts import (
    status_upsert,
    status_values,
    submitted_upsert,
    submitted_values,
)
from shared.contracts import RegistrationSubmittedV1

PERSONAL_FIELDS = ("full_name", "email", "phone", "organisation", "role")


class RegistrationStore:
    """Reads and writes registration records."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.submitted_upsert = submitted_upsert(engine.dialect.name)
        self.status_upsert = status_upsert(engine.dialect.name)
        self.submissions = GroupCommit(self.record_submitted_many)
        self.lookups = GroupCommit(self.exist_many)

    async def create_tables(self) -> None:
        """Create the tables if they are missing."""
        async with self.engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)

    async def exists(self, registration_id: UUID) -> bool:
        """Tell whether a registration was already accepted (and not erased).

        Concurrent checks share one query (group commit).
        """
        return await self.lookups.run(registration_id)

    async def exist_many(self, registration_ids: Sequence[UUID]) -> list[bool]:
        """For each id, whether it was accepted and not erased: one query."""
        query = select(RegistrationRow.registration_id).where(
            RegistrationRow.registration_id.in_(set(registration_ids)),
            RegistrationRow.email.is_not(None),
        )
        async with self.engine.connect() as connection:
            known = set(await connection.scalars(query))
        return [registration_id in known for registration_id in registration_ids]

    async def record_submitted(self, event: RegistrationSubmittedV1) -> None:
        """Remember an accepted registration with its personal data (idempotent).

        Concurrent submissions share one transaction (group commit); this returns once the
        transaction holding this one committed.
        """
        await self.submissions.run(event)

    async def record_submitted_many(self, events: Sequence[RegistrationSubmittedV1]) -> list[None]:
        """Remember accepted registrations in one transaction (a repeated id: the last one wins)."""
        rows = {event.registration_id: submitted_values(event) for event in events}
        async with self.engine.begin() as connection:
            await connection.execute(self.submitted_upsert, list(rows.values()))
        return [None] * len(events)

    async def record_status(self, status: RegistrationStatus) -> None:
        """Store the scheduler's decision unless a newer revision is already stored (one statement)."""
        await self.record_statuses([status])

    async def record_statuses(self, statuses: Sequence[RegistrationStatus]) -> None:
        """Store many decisions in one transaction, in order: a newer revision always wins."""
        if statuses:
            async with self.engine.begin() as connection:
                await connection.execute(self.status_upsert, [status_values(s) for s in statuses])

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
