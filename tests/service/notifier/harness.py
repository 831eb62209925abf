"""The notifier in memory: an in-memory broker, a fake mailer and SMS gateway, a manual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import icalendar
from faststream import TestApp
from faststream.kafka import KafkaBroker, TestKafkaBroker
from pydantic import BaseModel
from sqlalchemy import event

from services.notifier.main import Notifier, create_notifier
from services.notifier.ports import OutgoingMail
from services.notifier.settings import NotifierSettings
from services.notifier.sms_text import SmsMessage
from services.notifier.store import SqlNotificationStore
from shared import topics
from shared.clock import ManualClock
from shared.contracts import (
    Event,
    NotificationOutcomeV1,
    RegistrationWaitlistedV1,
    SeatAssignedV1,
)
from shared.kafka import DeliveryGuard, RetryPolicy, make_broker, publish_event

NOW = datetime(2026, 5, 4, 8, 15, tzinfo=UTC)
SECRET = "service-test-link-secret-0123"
TWO_DAYS = (
    {"starts_at": "2026-06-10T07:30:00Z", "ends_at": "2026-06-10T14:30:00Z"},
    {"starts_at": "2026-06-11T07:30:00Z", "ends_at": "2026-06-11T14:30:00Z"},
)


def parsed(mail: OutgoingMail) -> EmailMessage:
    """The mail as its receiver parses it off the wire."""
    message = BytesParser(policy=policy.default).parsebytes(mail.data)
    assert isinstance(message, EmailMessage)
    return message


@dataclass
class FakeMailer:
    """Records what it sends (as the receiver parses it); raises the queued errors first."""

    sent: list[EmailMessage] = field(default_factory=list)
    errors: list[Exception] = field(default_factory=list)

    async def send(self, mail: OutgoingMail) -> None:
        """Fail with the next queued error, or record the message."""
        if self.errors:
            raise self.errors.pop(0)
        message = parsed(mail)
        assert mail.recipients == (message["To"].addresses[0].addr_spec,)
        assert mail.message_id == message["Message-ID"]
        self.sent.append(message)

    def calendars(self, to: str | None = None) -> list[tuple[str, icalendar.Event]]:
        """(METHOD, VEVENT) of every calendar mailed (to one address)."""
        found = []
        for message in self.sent:
            if to is not None and message["To"].addresses[0].addr_spec != to:
                continue
            for part in message.walk():
                if part.get_content_type() == "text/calendar":
                    calendar = icalendar.Calendar.from_ical(part.get_payload(decode=True))
                    assert part.get_param("method") == calendar["METHOD"]
                    found.append((str(calendar["METHOD"]), calendar.events[0]))
        return found


@dataclass
class FakeSms:
    """Records SMS messages."""

    sent: list[SmsMessage] = field(default_factory=list)

    async def send(self, message: SmsMessage) -> None:
        """Record the message."""
        self.sent.append(message)


ATTENDEE = {
    "full_name": "Jelena Petrović",
    "email": "jelena@opstina.example",
    "organisation": "Opština Zemun",
}
PROGRAMME_TITLE = "Odnosi s javnošću u lokalnoj samoupravi"


def placement(kind: type[Event], registration_id: UUID | None = None, **top: Any) -> Any:
    """A placement event of `kind` for a two-day training in Belgrade."""
    session = {
        "session_id": "ppz-bg-06",
        "programme_id": "ppz-2026",
        "title": "Javne nabavke u praksi",
        "mode": "in_person",
        "timezone": "Europe/Belgrade",
        "days": list(TWO_DAYS),
        "venue": {"name": "Palata Srbije", "city": "Beograd"},
        "language": "sr-Latn",
    } | top.pop("session", {})
    attendee = ATTENDEE | top.pop("attendee", {})
    data = _placement_fields(registration_id) | {"session": session, "attendee": attendee} | top
    return kind.model_validate(data)


def without_session(kind: type[Event], registration_id: UUID | None = None, **top: Any) -> Any:
    """A placement event of `kind` that names no session: waitlisted (with whom), cancelled."""
    data = _placement_fields(registration_id)
    if kind is RegistrationWaitlistedV1:
        attendee = ATTENDEE | top.pop("attendee", {})
        data |= {"position": 1, "programme_title": PROGRAMME_TITLE, "attendee": attendee}
    return kind.model_validate(data | top)


def _placement_fields(registration_id: UUID | None) -> dict[str, Any]:
    return {
        "event_id": str(uuid4()),
        "occurred_at": NOW,
        "correlation_id": "corr-svc-1",
        "producer": "scheduler",
        "registration_id": str(registration_id or uuid4()),
        "programme_id": "ppz-2026",
        "revision": 1,
        "reason": "test",
    }


def seat_assigned(registration_id: UUID | None = None, **top: Any) -> SeatAssignedV1:
    """A seat in the two-day training."""
    return placement(SeatAssignedV1, registration_id, **top)  # type: ignore[no-any-return]


@dataclass
class Harness:
    """The running notifier, what it mailed and what it published."""

    notifier: Notifier
    broker: KafkaBroker
    clock: ManualClock
    mailer: FakeMailer
    sms: FakeSms
    outcomes: list[NotificationOutcomeV1]
    dead_letters: list[dict[str, Any]]

    async def publish(self, topic: str, event: BaseModel, key: str = "k") -> None:
        """Publish an event as its producer does."""
        await publish_event(self.broker, topic, event, key=key)  # type: ignore[arg-type]

    async def place(self, event: BaseModel) -> None:
        """Publish a placement and let the dispatcher work what is due."""
        await self.publish(topics.PLACEMENTS, event)
        await self.dispatch()

    async def dispatch(self) -> int:
        """Work every due notification now."""
        total = 0
        while worked := await self.notifier.dispatcher.run_once():
            total += worked
        return total

    async def travel_to(self, moment: datetime) -> int:
        """Move the clock to `moment` and dispatch what became due."""
        return await self.travel(moment - self.clock.now())

    async def travel(self, delta: timedelta) -> int:
        """Move the clock and dispatch what became due."""
        self.clock.advance(delta)
        return await self.dispatch()


async def no_sleep(_: float) -> None:
    """Backoff without waiting."""


def settings_for(data_dir: Path, **overrides: Any) -> NotifierSettings:
    """Settings for a notifier under test, with its SQLite file in `data_dir`."""
    return NotifierSettings(
        data_dir=data_dir, link_signing_secret=SECRET, _env_file=None, **overrides
    )


@asynccontextmanager
async def running(
    data_dir: Path, *, clock: ManualClock | None = None, **overrides: Any
) -> AsyncIterator[Harness]:
    """The notifier on an in-memory broker; the dispatcher is driven by the test."""
    settings = settings_for(data_dir, **overrides)
    guard = DeliveryGuard.factory(RetryPolicy(attempts=3), sleep=no_sleep)
    broker = make_broker(settings.kafka_bootstrap_servers, client_id="notifier", guard=guard)
    mailer, sms, clock = FakeMailer(), FakeSms(), clock or ManualClock(NOW)
    notifier = create_notifier(
        settings, mailer=mailer, sms=sms, clock=clock, broker=broker,
        provision_topics=False, run_dispatcher=False,
    )  # fmt: skip
    h = Harness(notifier, broker, clock, mailer, sms, [], [])

    @broker.subscriber(topics.NOTIFICATIONS, group_id="test-outcomes")
    async def outcome(event: NotificationOutcomeV1) -> None:
        h.outcomes.append(event)

    for topic in (topics.PLACEMENTS, topics.CATALOGUE, topics.REGISTRATIONS, topics.CONSENTS):

        @broker.subscriber(topics.dead_letter(topic), group_id="test-dlq")
        async def dead_letter(body: dict[str, Any]) -> None:
            h.dead_letters.append(body)

    async with TestKafkaBroker(broker), TestApp(notifier.app):
        yield h


@contextmanager
def counted_transactions(store: SqlNotificationStore) -> Iterator[list[int]]:
    """Count the transactions the store begins inside the block."""
    begun: list[int] = []

    def on_begin(_: Any) -> None:
        begun.append(1)

    event.listen(store.engine.sync_engine, "begin", on_begin)
    try:
        yield begun
    finally:
        event.remove(store.engine.sync_engine, "begin", on_begin)
