"""The scheduler end to end on FastStream's in-memory broker: registrations in, placements out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from faststream import TestApp
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import TypeAdapter
from structlog.testing import capture_logs

from services.scheduler.handlers import placement_event_id
from services.scheduler.main import create_app
from services.scheduler.settings import SchedulerSettings
from services.scheduler.store import PlacementStore
from shared import topics
from shared.clock import ManualClock
from shared.contracts import (
    PlacementEvent,
    Registrant,
    RegistrationSubmittedV1,
    RegistrationWaitlistedV1,
    SeatAssignedV1,
)
from shared.kafka import make_broker, publish_event

pytestmark = pytest.mark.service

SEED = Path(__file__).resolve().parents[3] / "deploy" / "seed" / "programmes.yaml"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PROGRAMME = "social-networks-lsg"
placement_events: TypeAdapter[PlacementEvent] = TypeAdapter(PlacementEvent)


@dataclass
class Scheduler:
    """A running scheduler and what it published."""

    broker: KafkaBroker
    database_url: str
    placed: list[tuple[PlacementEvent, KafkaMessage]] = field(default_factory=list)
    dead: list[KafkaMessage] = field(default_factory=list)

    async def submit(self, registration: RegistrationSubmittedV1) -> PlacementEvent:
        """Publish a registration and return the placement it produced."""
        before = len(self.placed)
        await publish_event(self.broker, topics.REGISTRATIONS, registration, key=PROGRAMME)
        assert len(self.placed) == before + 1
        return self.placed[-1][0]

    async def taken(self, session_id: str) -> int:
        """Seats taken in a session, read straight from the database."""
        store = PlacementStore(self.database_url)
        try:
            async with store.transaction(PROGRAMME) as placements:
                return (await placements.taken_seats()).get(session_id, 0)
        finally:
            await store.dispose()


def registration(
    *preferences: str, n: int = 0, programme: str = PROGRAMME
) -> RegistrationSubmittedV1:
    return RegistrationSubmittedV1(
        event_id=uuid4(),
        occurred_at=NOW,
        correlation_id=f"corr-{uuid4()}",
        producer="registration",
        registration_id=uuid4(),
        programme_id=programme,
        registrant=Registrant(
            full_name=f"Petra Testić {n}",
            email=f"petra.{n}@example.org",
            phone="+381601234567",
            organisation="Opština Primer",
        ),
        preferences=preferences,
    )


@pytest.fixture
async def scheduler(tmp_path: Path) -> AsyncIterator[Scheduler]:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'scheduler.sqlite3'}"
    settings = SchedulerSettings(
        data_dir=tmp_path, catalogue_path=SEED, database_url=database_url, log_format="json"
    )
    broker = make_broker(settings.kafka_bootstrap_servers, client_id="scheduler")
    app = create_app(settings, clock=ManualClock(NOW), broker=broker, provision_topics=False)
    running = Scheduler(broker, database_url)

    @broker.subscriber(topics.PLACEMENTS, group_id="test-probe")
    async def placements_probe(body: dict[str, Any], message: KafkaMessage) -> None:
        running.placed.append((placement_events.validate_python(body), message))

    @broker.subscriber(topics.dead_letter(topics.REGISTRATIONS), group_id="test-probe")
    async def dead_letter_probe(body: dict[str, Any], message: KafkaMessage) -> None:
        running.dead.append(message)

    async with TestKafkaBroker(broker), TestApp(app):
        yield running


async def test_registration_gets_a_seat_in_its_first_choice(scheduler: Scheduler) -> None:
    submitted = registration("sn-training-3", "sn-training-1")
    placed = await scheduler.submit(submitted)
    assert isinstance(placed, SeatAssignedV1)
    assert placed.registration_id == submitted.registration_id
    assert placed.session.session_id == "sn-training-3"
    assert placed.session.days[0].starts_at == datetime(2027, 6, 29, 7, 30, tzinfo=UTC)
    assert (placed.revision, placed.choice_rank, placed.reason) == (1, 1, "1st choice")
    assert placed.attendee == submitted.registrant
    assert (placed.correlation_id, placed.producer) == (submitted.correlation_id, "scheduler")
    message = scheduler.placed[-1][1]
    assert message.correlation_id == submitted.correlation_id
    record = message.raw_message
    assert not isinstance(record, tuple)
    assert record.key == str(submitted.registration_id).encode()


async def test_redelivery_republishes_the_same_event_and_takes_no_second_seat(
    scheduler: Scheduler,
) -> None:
    submitted = registration("sn-training-1")
    first = await scheduler.submit(submitted)
    with capture_logs() as logs:
        again = await scheduler.submit(submitted)
    assert again == first
    assert again.event_id == first.event_id
    assert await scheduler.taken("sn-training-1") == 1
    assert [entry["event"] for entry in logs] == ["placement.replayed"]


async def test_full_session_sends_next_registrant_to_second_choice_then_waitlist(
    scheduler: Scheduler,
) -> None:
    for n in range(24):
        await scheduler.submit(registration("sn-training-1", n=n))
    second = await scheduler.submit(registration("sn-training-1", "sn-training-2", n=24))
    assert isinstance(second, SeatAssignedV1)
    assert (second.session.session_id, second.choice_rank) == ("sn-training-2", 2)
    assert second.reason == "2nd choice: 1st choice full"
    for n in range(25, 48):
        await scheduler.submit(registration("sn-training-2", n=n))
    waiting = await scheduler.submit(registration("sn-training-1", "sn-training-2", n=48))
    assert isinstance(waiting, RegistrationWaitlistedV1)
    assert (waiting.position, waiting.reason) == (1, "waitlisted: all 2 preferences full")
    assert await scheduler.taken("sn-training-1") == 24
    assert await scheduler.taken("sn-training-2") == 24


async def test_logs_carry_ids_but_no_personal_data(scheduler: Scheduler) -> None:
    submitted = registration("sn-training-1", n=7)
    with capture_logs() as logs:
        await scheduler.submit(submitted)
    assert [entry["event"] for entry in logs] == ["placement.assigned"]
    assert logs[0]["registration_id"] == str(submitted.registration_id)
    text = repr(logs)
    for personal in ("Petra", "petra.7@example.org", "+381601234567", "Opština"):
        assert personal not in text


async def test_unknown_programme_is_dead_lettered(scheduler: Scheduler) -> None:
    submitted = registration(programme="no-such-programme")
    await publish_event(scheduler.broker, topics.REGISTRATIONS, submitted, key="no-such-programme")
    assert scheduler.placed == []
    assert len(scheduler.dead) == 1
    assert "no programme 'no-such-programme'" in scheduler.dead[0].headers["x-dead-letter-reason"]


def test_event_ids_are_deterministic() -> None:
    registration_id = UUID("6f1c1d2e-9a43-4c55-8a8e-2b4c8f0d9e11")
    assert placement_event_id(registration_id, 1) == placement_event_id(registration_id, 1)
    assert placement_event_id(registration_id, 1) != placement_event_id(registration_id, 2)
