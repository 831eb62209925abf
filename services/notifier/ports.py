"""The notifier's I/O as Protocols: each has a real adapter and a test fake."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal, Protocol
from uuid import UUID

from services.notifier.notices import Kind, Notice, Recipient
from shared.contracts import NotificationOutcomeV1

if TYPE_CHECKING:
    from services.notifier.recording import Record
    from services.notifier.sms_text import SmsMessage

Status = Literal["pending", "sent", "failed", "superseded", "cancelled"]


class TransientDeliveryError(Exception):
    """The message may go through later (4xx, lost connection, timeout): retry with backoff."""


class PermanentDeliveryError(Exception):
    """The message will never go through as it is (5xx, refused recipient): give up now."""


class TransientMailError(TransientDeliveryError):
    """A temporary SMTP failure."""


class PermanentMailError(PermanentDeliveryError):
    """A permanent SMTP failure."""


@dataclass(frozen=True)
class OutgoingMail:
    """A composed email as it goes on the wire (CRLF, 7-bit), with its SMTP envelope."""

    sender: str
    recipients: tuple[str, ...]
    message_id: str
    data: bytes


class Mailer(Protocol):
    """Hands a message to a mail server, or raises one of the two errors above."""

    async def send(self, mail: OutgoingMail) -> None: ...


class SmsSender(Protocol):
    """Hands an SMS to a gateway, or raises a Transient/PermanentDeliveryError."""

    async def send(self, message: SmsMessage) -> None: ...


@dataclass(frozen=True)
class Delivery:
    """A notification as the dispatcher works it: what to send, and how often it was tried."""

    notice: Notice
    status: Status
    message_id: str
    attempts: int
    next_attempt_at: datetime


@dataclass(frozen=True)
class CalendarEntry:
    """What a recipient's calendar holds for a session: revision, live or cancelled, and who."""

    recipient_id: UUID
    session_id: str
    revision: int
    active: bool
    recipient: Recipient


class IntakeUnit(Protocol):
    """The intake writes of one transaction: they all commit together, or none does."""

    async def enqueue_many(
        self, items: Sequence[tuple[Notice, str, datetime]], *, now: datetime
    ) -> int: ...

    async def enqueue_keys(
        self, items: Sequence[tuple[Notice, str, datetime]], *, now: datetime
    ) -> set[str]: ...

    async def record_entry(self, entry: CalendarEntry) -> bool: ...

    async def fresh_entries(self, entries: Sequence[CalendarEntry]) -> set[tuple[UUID, str]]: ...

    async def close_pending(
        self,
        recipient_id: UUID,
        session_id: str,
        kinds: tuple[Kind, ...],
        below: int,
        now: datetime,
    ) -> int: ...

    async def has_calendar(self, recipient_id: UUID, session_id: str) -> bool: ...

    async def erase(self, registration_id: UUID) -> int: ...


class NotificationStore(Protocol):
    """Remembers every notification by its deterministic key, and what each calendar holds."""

    def intake(self) -> AbstractAsyncContextManager[IntakeUnit]:
        """One transaction for the writes of one event."""
        ...

    async def enqueue_many(
        self, items: Sequence[tuple[Notice, str, datetime]], *, now: datetime
    ) -> int:
        """Insert (notice, message_id, due) where the key is absent, in one transaction."""
        ...

    async def record_entries(self, entries: Sequence[CalendarEntry]) -> int:
        """Insert new entries and raise older revisions, in one transaction; return how many."""
        ...

    async def enqueue(
        self, notice: Notice, *, message_id: str, due: datetime, now: datetime
    ) -> bool:
        """Insert the notice as pending unless its key exists; True when inserted."""
        ...

    async def get(self, notification_key: str) -> Delivery | None: ...

    async def claim_due(self, now: datetime, *, limit: int, lease: timedelta) -> list[Delivery]:
        """Take due pending notifications, hidden from other dispatchers until the lease ends."""
        ...

    async def next_due(self) -> datetime | None:
        """When the earliest pending notification falls due (None when nothing is pending)."""
        ...

    async def finish(
        self,
        key: str,
        status: Status,
        now: datetime,
        *,
        detail: str | None = None,
        outcome: NotificationOutcomeV1 | None = None,
    ) -> None:
        """Record the final state and its outcome event in one transaction."""
        ...

    async def defer(
        self,
        key: str,
        until: datetime,
        now: datetime,
        *,
        attempted: bool,
        outcome: NotificationOutcomeV1 | None = None,
    ) -> None:
        """Keep it pending until `until`, with its outcome event, in one transaction."""
        ...

    async def record(self, records: Sequence[Record], forget: Sequence[UUID] = ()) -> None:
        """Write attempts' results and their outcome events (and forget published ones), at once."""
        ...

    async def unpublished_outcomes(self, limit: int) -> list[NotificationOutcomeV1]: ...

    async def outcomes_published(self, event_ids: Sequence[UUID]) -> int:
        """Forget the outcomes Kafka acknowledged."""
        ...

    async def record_entry(self, entry: CalendarEntry) -> bool:
        """Store the entry unless a newer revision is stored; False when `entry` is stale."""
        ...

    async def entry(self, recipient_id: UUID, session_id: str) -> CalendarEntry | None: ...

    async def trainer_entries(self, session_id: str) -> list[CalendarEntry]: ...

    async def has_calendar(self, recipient_id: UUID, session_id: str) -> bool: ...

    async def close_pending(
        self,
        recipient_id: UUID,
        session_id: str,
        kinds: tuple[Kind, ...],
        below: int,
        now: datetime,
    ) -> int:
        """Mark older pending notices of these kinds superseded (cancelled for reminders)."""
        ...

    async def erase(self, registration_id: UUID) -> int: ...

    async def set_sms_consent(self, phone: str, opted_in: bool, now: datetime) -> None: ...

    async def sms_opted_out(self, phone: str) -> bool: ...


class OutcomePublisher(Protocol):
    """Publishes what happened to a notification."""

    async def publish(self, outcome: NotificationOutcomeV1) -> None: ...
