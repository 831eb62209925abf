"""The registration service's tables: registrations with their personal data, and request logs."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import JSON, Boolean, Integer, String, Text, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UtcDateTime


class Base(DeclarativeBase):
    """Tables of the registration service."""


class RegistrationRow(Base):
    """One accepted registration: the person (until erased or purged) and where it stands."""

    __tablename__ = "registration_records"

    registration_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    programme_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    session_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    waitlist_position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Personal data: null for rows known only from placements, and after an erasure.
    full_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    organisation: Mapped[str | None] = mapped_column(String(200), nullable=True)
    role: Mapped[str | None] = mapped_column(String(200), nullable=True)
    language: Mapped[str] = mapped_column(String(8), default="sr-Latn")
    consent_email: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    preferences: Mapped[list[str]] = mapped_column(JSON, default=list)
    unavailable_dates: Mapped[list[str]] = mapped_column(JSON, default=list)
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class IdempotencyKeyRow(Base):
    """An Idempotency-Key seen on a submission, with what it answered."""

    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    registration_id: Mapped[UUID] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class LinkUseRow(Base):
    """A personal link that was used: the request it published, once."""

    __tablename__ = "link_uses"

    event_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    registration_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    action: Mapped[str] = mapped_column(String(16))
    used_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PublishedSessionRow(Base):
    """The newest SessionPublishedV1 of each session, to rebuild the catalogue view at start."""

    __tablename__ = "published_sessions"

    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
    event_json: Mapped[str] = mapped_column(Text)
