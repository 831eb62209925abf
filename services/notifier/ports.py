"""The notifier's I/O as Protocols: each has a real adapter and a test fake."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Literal, Protocol
from uuid import UUID

from shared.contracts import NotificationOutcomeV1
from shared.kafka import PermanentError

Status = Literal["pending", "sent", "failed"]


class TransientMailError(Exception):
    """The mail may go through later (4xx, lost connection, timeout): retry with backoff."""


class PermanentMailError(PermanentError):
    """The mail will never go through as it is (5xx, refused recipient): dead-letter it."""


class Mailer(Protocol):
    """Hands a message to a mail server, or raises one of the two errors above."""

    async def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True)
class NotificationRecord:
    """What the notifier remembers about one notification."""

    notification_key: str
    registration_id: UUID
    session_id: str
    channel: str
    kind: str
    revision: int
    status: Status
    message_id: str
    attempts: int


class NotificationStore(Protocol):
    """Remembers every notification by its deterministic key."""

    async def get(self, notification_key: str) -> NotificationRecord | None: ...

    async def begin_attempt(self, record: NotificationRecord, now: datetime) -> NotificationRecord:
        """Insert `record` as pending or count one more attempt (unless sent); return the state."""
        ...

    async def set_status(self, notification_key: str, status: Status, now: datetime) -> None: ...


class OutcomePublisher(Protocol):
    """Publishes what happened to a notification."""

    async def publish(self, outcome: NotificationOutcomeV1) -> None: ...
