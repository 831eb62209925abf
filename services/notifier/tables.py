"""The notifier's tables: notifications (the durable outbox), calendar entries, SMS opt-outs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Table, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UtcDateTime


class Base(DeclarativeBase):
    """The notifier's tables."""


class NotificationRow(Base):
    """One row per notification key: the unique key is what makes sending idempotent."""

    __tablename__ = "notification_outbox"  # "notifications" held the pre-outbox schema
    __table_args__ = (Index("ix_notification_outbox_due", "status", "next_attempt_at"),)

    notification_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    recipient_id: Mapped[str] = mapped_column(String(36), index=True)
    session_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16))
    revision: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))
    message_id: Mapped[str] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    payload: Mapped[str] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(String(500), default=None)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CalendarEntryRow(Base):
    """The latest revision each recipient's calendar holds for a session, and whether it is live."""

    __tablename__ = "calendar_entries"

    recipient_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(12))
    revision: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean)
    recipient: Mapped[str] = mapped_column(Text)


class SmsOptOutRow(Base):
    """Numbers that replied STOP (opted_in false) or START again."""

    __tablename__ = "sms_consents"

    phone: Mapped[str] = mapped_column(String(16), primary_key=True)
    opted_in: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class OutcomeRow(Base):
    """Outcome events written with the status they report, published (and deleted) afterwards."""

    __tablename__ = "outcome_outbox"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


# The same tables for Core statements (hot paths need neither the identity map nor a flush).
OUTBOX: Table = NotificationRow.__table__  # type: ignore[assignment]
ENTRIES: Table = CalendarEntryRow.__table__  # type: ignore[assignment]
OUTCOMES: Table = OutcomeRow.__table__  # type: ignore[assignment]
