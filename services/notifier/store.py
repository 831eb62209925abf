"""Notification records in SQL (SQLite by default, PostgreSQL via DATABASE_URL)."""

from __future__ import annotations

from datetime import datetime
from typing import cast
from uuid import UUID

from sqlalchemy import Integer, String
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.notifier.ports import NotificationRecord, Status
from shared.db import UtcDateTime


class Base(DeclarativeBase):
    """The notifier's tables."""


class NotificationRow(Base):
    """One row per notification key: the unique key is what makes sending idempotent."""

    __tablename__ = "notifications"

    notification_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    registration_id: Mapped[str] = mapped_column(String(36), index=True)
    session_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16))
    revision: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(8))
    message_id: Mapped[str] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


def _record(row: NotificationRow) -> NotificationRecord:
    return NotificationRecord(
        notification_key=row.notification_key,
        registration_id=UUID(row.registration_id),
        session_id=row.session_id,
        channel=row.channel,
        kind=row.kind,
        revision=row.revision,
        status=cast(Status, row.status),
        message_id=row.message_id,
        attempts=row.attempts,
    )


class SqlNotificationStore:
    """The NotificationStore over SQLAlchemy's async engine; nothing connects until first use."""

    def __init__(self, url: str) -> None:
        self.engine: AsyncEngine = create_async_engine(url)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def create_tables(self) -> None:
        """Create the tables that do not exist yet."""
        async with self.engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()

    async def get(self, notification_key: str) -> NotificationRecord | None:
        """The record under `notification_key`, if any."""
        async with self._sessions() as session:
            row = await session.get(NotificationRow, notification_key)
            return _record(row) if row else None

    async def begin_attempt(self, record: NotificationRecord, now: datetime) -> NotificationRecord:
        """Insert `record` as pending, or count one more attempt; a sent record stays untouched."""
        async with self._sessions.begin() as session:
            row = await session.get(NotificationRow, record.notification_key, with_for_update=True)
            if row is None:
                row = NotificationRow(
                    notification_key=record.notification_key,
                    registration_id=str(record.registration_id),
                    session_id=record.session_id,
                    channel=record.channel,
                    kind=record.kind,
                    revision=record.revision,
                    message_id=record.message_id,
                    attempts=0,
                )
                session.add(row)  # a concurrent insert of the same key fails on the primary key
            elif row.status == "sent":
                return _record(row)
            row.status, row.attempts, row.updated_at = "pending", row.attempts + 1, now
            return _record(row)

    async def set_status(self, notification_key: str, status: Status, now: datetime) -> None:
        """Record the outcome of the latest attempt."""
        async with self._sessions.begin() as session:
            row = await session.get(NotificationRow, notification_key, with_for_update=True)
            if row is None:
                raise LookupError(notification_key)
            row.status, row.updated_at = status, now
