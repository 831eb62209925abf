"""Registration records: what was accepted, and where each registration stands now."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Integer, String, Uuid, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.registration.schemas import RegistrationStatus
from shared.db import UtcDateTime


class Base(DeclarativeBase):
    """Tables of the registration service."""


class RegistrationRow(Base):
    """One accepted registration (ids and status only: the personal data travels in the event)."""

    __tablename__ = "registration_records"

    registration_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    programme_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    session_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    waitlist_position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


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
        """Tell whether a registration was already accepted."""
        async with self.sessions() as session:
            return await session.get(RegistrationRow, registration_id) is not None

    async def record_submitted(
        self, registration_id: UUID, programme_id: str, now: datetime
    ) -> None:
        """Remember an accepted registration (a no-op if it is already known)."""
        async with self.sessions.begin() as session:
            if await session.get(RegistrationRow, registration_id) is None:
                session.add(
                    RegistrationRow(
                        registration_id=registration_id,
                        programme_id=programme_id,
                        submitted_at=now,
                        updated_at=now,
                    )
                )

    async def record_status(self, status: RegistrationStatus) -> None:
        """Store the scheduler's decision unless a newer revision is already stored."""
        async with self.sessions.begin() as session:
            row = await session.get(RegistrationRow, status.registration_id, with_for_update=True)
            if row is None:
                row = RegistrationRow(
                    registration_id=status.registration_id,
                    programme_id=status.programme_id,
                    submitted_at=status.updated_at,
                )
                session.add(row)
            elif row.revision > status.revision:
                return  # a redelivered older decision must not overwrite a newer one
            row.status, row.session_id = status.status, status.session_id
            row.waitlist_position, row.reason = status.waitlist_position, status.reason
            row.offer_expires_at, row.revision = status.offer_expires_at, status.revision
            row.updated_at = status.updated_at

    async def status(self, registration_id: UUID) -> RegistrationStatus | None:
        """Return where a registration stands, or None if it is unknown."""
        async with self.sessions() as session:
            row = await session.scalar(
                select(RegistrationRow).where(RegistrationRow.registration_id == registration_id)
            )
        if row is None:
            return None
        return RegistrationStatus(
            registration_id=row.registration_id,
            programme_id=row.programme_id,
            status=row.status,
            session_id=row.session_id,
            waitlist_position=row.waitlist_position,
            offer_expires_at=row.offer_expires_at,
            reason=row.reason,
            revision=row.revision,
            updated_at=row.updated_at,
        )
