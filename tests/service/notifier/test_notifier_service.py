"""The notifier end to end in memory: placements in, emails and outcomes out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from faststream import TestApp
from faststream.kafka import KafkaBroker, TestKafkaBroker

from services.notifier.main import create_app
from services.notifier.ports import PermanentMailError, TransientMailError
from services.notifier.settings import NotifierSettings
from shared import topics
from shared.clock import ManualClock
from shared.contracts import NotificationOutcomeV1, RegistrationWaitlistedV1, SeatAssignedV1
from shared.kafka import DeliveryGuard, RetryPolicy, make_broker, publish_event

pytestmark = pytest.mark.service
NOW = datetime(2026, 5, 4, 8, 15, tzinfo=UTC)


@dataclass
class FakeMailer:
    """Records what it sends; raises the queued errors first."""

    sent: list[EmailMessage] = field(default_factory=list)
    errors: list[Exception] = field(default_factory=list)

    async def send(self, message: EmailMessage) -> None:
        """Fail with the next queued error, or record the message."""
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append(message)


def seat_assigned(registration_id: UUID | None = None, **attendee: Any) -> SeatAssignedV1:
    """A two-day training in Belgrade, placed by the scheduler."""
    return SeatAssignedV1.model_validate(
        {
            "event_id": str(uuid4()),
            "occurred_at": NOW,
            "correlation_id": "corr-svc-1",
            "producer": "scheduler",
            "registration_id": str(registration_id or uuid4()),
            "programme_id": "ppz-2026",
            "session": {
                "session_id": "ppz-bg-06",
                "programme_id": "ppz-2026",
                "title": "Javne nabavke u praksi",
                "mode": "in_person",
                "timezone": "Europe/Belgrade",
                "days": [
                    {"starts_at": "2026-06-10T07:30:00Z", "ends_at": "2026-06-10T14:30:00Z"},
                    {"starts_at": "2026-06-11T07:30:00Z", "ends_at": "2026-06-11T14:30:00Z"},
                ],
                "venue": {"name": "Palata Srbije", "city": "Beograd"},
                "language": "sr-Latn",
            },
            "attendee": {
                "full_name": "Jelena Petrović",
                "email": "jelena@opstina.example",
                "organisation": "Opština Zemun",
            }
            | attendee,
            "revision": 1,
            "reason": "first choice",
        }
    )


@dataclass
class Harness:
    """The running app, what it mailed and what it published."""

    broker: KafkaBroker
    mailer: FakeMailer
    outcomes: list[NotificationOutcomeV1]
    dead_letters: list[dict[str, Any]]

    async def place(self, event: SeatAssignedV1 | RegistrationWaitlistedV1) -> None:
        """Publish a placement as the scheduler does."""
        await publish_event(self.broker, topics.PLACEMENTS, event, key=str(event.registration_id))


async def no_sleep(_: float) -> None:
    """Backoff without waiting."""


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    """The notifier on an in-memory broker, a fake mailer and a temporary SQLite file."""
    settings = NotifierSettings(data_dir=tmp_path, _env_file=None)
    guard = DeliveryGuard.factory(RetryPolicy(attempts=3), sleep=no_sleep)
    broker = make_broker(settings.kafka_bootstrap_servers, client_id="notifier", guard=guard)
    mailer = FakeMailer()
    app = create_app(
        settings, mailer=mailer, clock=ManualClock(NOW), broker=broker, provision_topics=False
    )
    h = Harness(broker, mailer, [], [])

    @broker.subscriber(topics.NOTIFICATIONS, group_id="test-outcomes")
    async def outcome(event: NotificationOutcomeV1) -> None:
        h.outcomes.append(event)

    @broker.subscriber(topics.dead_letter(topics.PLACEMENTS), group_id="test-dlq")
    async def dead_letter(body: dict[str, Any]) -> None:
        h.dead_letters.append(body)

    async with TestKafkaBroker(broker), TestApp(app):
        yield h
    assert (tmp_path / "notifier.sqlite3").exists()


async def test_a_seat_gets_one_email_and_one_sent_outcome(harness: Harness) -> None:
    event = seat_assigned()
    await harness.place(event)

    assert len(harness.mailer.sent) == 1
    assert harness.mailer.sent[0]["To"].addresses[0].addr_spec == "jelena@opstina.example"
    [outcome] = harness.outcomes
    assert outcome.status == "sent"
    assert outcome.correlation_id == "corr-svc-1"
    assert outcome.producer == "notifier"
    assert outcome.registration_id == event.registration_id
    assert outcome.notification_key == f"{event.registration_id}:ppz-bg-06:invite:1"
    assert (outcome.channel, outcome.kind, outcome.attempt) == ("email", "invite", 1)


async def test_a_redelivered_seat_sends_no_second_email(harness: Harness) -> None:
    event = seat_assigned()
    await harness.place(event)
    await harness.place(event)

    assert len(harness.mailer.sent) == 1
    # The outcome is published again (it may have been lost), under the same event id.
    assert {o.event_id for o in harness.outcomes} == {harness.outcomes[0].event_id}
    assert harness.dead_letters == []


async def test_a_transient_failure_is_deferred_then_retried(harness: Harness) -> None:
    harness.mailer.errors.append(TransientMailError("SMTP 451 reply: try later"))
    await harness.place(seat_assigned())

    assert len(harness.mailer.sent) == 1
    assert [(o.status, o.attempt) for o in harness.outcomes] == [("deferred", 1), ("sent", 2)]
    assert harness.dead_letters == []


async def test_a_permanent_failure_is_reported_and_dead_lettered(harness: Harness) -> None:
    harness.mailer.errors.append(PermanentMailError("SMTP 550 reply: no such user"))
    event = seat_assigned()
    await harness.place(event)

    assert harness.mailer.sent == []
    [outcome] = harness.outcomes
    assert (outcome.status, outcome.detail) == ("failed", "SMTP 550 reply: no such user")
    assert [d["registration_id"] for d in harness.dead_letters] == [str(event.registration_id)]


async def test_no_email_without_consent(harness: Harness) -> None:
    await harness.place(seat_assigned(consent_email=False))
    assert harness.mailer.sent == []
    assert harness.outcomes == []


async def test_a_waitlisting_sends_nothing_yet(harness: Harness) -> None:
    waitlisted = RegistrationWaitlistedV1(
        event_id=uuid4(),
        occurred_at=NOW,
        correlation_id="corr-svc-2",
        producer="scheduler",
        registration_id=uuid4(),
        programme_id="ppz-2026",
        position=3,
        reason="all sessions full",
    )
    await harness.place(waitlisted)
    assert harness.mailer.sent == []
    assert harness.dead_letters == []
