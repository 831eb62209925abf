"""Placements survive concurrency and crashes: no overbooking, one decision, the same event again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast
from uuid import uuid4

import pytest
import yaml
from aiokafka.errors import KafkaConnectionError
from faststream.kafka import KafkaBroker, TestKafkaBroker

from services.scheduler.handlers import Deps, place_registration
from services.scheduler.store import PlacementStore
from shared.catalogue import parse_catalogue
from shared.clock import ManualClock
from shared.contracts import Registrant, RegistrationSubmittedV1, SeatAssignedV1
from shared.kafka import make_broker

pytestmark = pytest.mark.service

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CATALOGUE = {
    "programmes": [
        {
            "id": "tiny",
            "title": "Tiny programme",
            "mode": "first_come",
            "phases": [{"id": "training", "title": "Training"}],
            "sessions": [
                {
                    "id": "tiny-1",
                    "phase": "training",
                    "title": "Three seats only",
                    "mode": "online",
                    "timezone": "Europe/Belgrade",
                    "dates": [date(2027, 6, 8)],
                    "start": "10:00",
                    "end": "11:30",
                    "online_url": "https://meet.jit.si/trainingops-tiny",
                    "capacity": 3,
                    "language": "sr-Latn",
                }
            ],
        }
    ]
}


@pytest.fixture
async def deps(tmp_path: Path) -> AsyncIterator[Deps]:
    store = PlacementStore(f"sqlite+aiosqlite:///{tmp_path / 'scheduler.sqlite3'}")
    await store.create_tables()
    broker = make_broker("127.0.0.1:9092", client_id="scheduler")
    catalogue = parse_catalogue(yaml.safe_dump(CATALOGUE))
    async with TestKafkaBroker(broker):
        yield Deps(catalogue=catalogue, store=store, broker=broker, clock=ManualClock(NOW))
    await store.dispose()


def registration(n: int) -> RegistrationSubmittedV1:
    return RegistrationSubmittedV1(
        event_id=uuid4(),
        occurred_at=NOW,
        correlation_id=f"corr-{n}",
        producer="registration",
        registration_id=uuid4(),
        programme_id="tiny",
        registrant=Registrant(
            full_name=f"Registrant {n}", email=f"r{n}@example.org", organisation="Grad Primer"
        ),
        preferences=("tiny-1",),
    )


async def test_concurrent_registrations_never_overbook(deps: Deps) -> None:
    registrations = [registration(n) for n in range(20)]
    outcomes = await asyncio.gather(*(place_registration(r, deps) for r in registrations))
    seated = [o for o in outcomes if isinstance(o, SeatAssignedV1)]
    waiting = sorted(o.position for o in outcomes if not isinstance(o, SeatAssignedV1))
    assert len(seated) == 3
    assert waiting == list(range(1, 18))


async def test_concurrent_redeliveries_make_one_decision(deps: Deps) -> None:
    submitted = registration(1)
    outcomes = await asyncio.gather(*(place_registration(submitted, deps) for _ in range(8)))
    assert len({o.event_id for o in outcomes}) == 1
    async with deps.store.transaction("tiny") as placements:
        assert await placements.taken_seats() == {"tiny-1": 1}


class FlakyBroker:
    """Fails the first publish, as if the process died between the commit and the publish."""

    def __init__(self) -> None:
        self.published: list[Any] = []
        self.failures = 1

    async def publish(self, message: Any, topic: str, **_: Any) -> None:
        if self.failures:
            self.failures -= 1
            raise KafkaConnectionError("broker unreachable")
        self.published.append(message)


async def test_publish_failure_after_commit_is_healed_by_redelivery(deps: Deps) -> None:
    flaky = FlakyBroker()
    crashy = Deps(
        catalogue=deps.catalogue,
        store=deps.store,
        broker=cast(KafkaBroker, flaky),
        clock=deps.clock,
    )
    submitted = registration(1)
    with pytest.raises(KafkaConnectionError):
        await place_registration(
            submitted, crashy
        )  # committed, not published: offset not committed
    async with deps.store.transaction("tiny") as placements:
        stored = await placements.find(submitted.registration_id)
    redelivered = await place_registration(submitted, crashy)
    assert flaky.published == [redelivered]
    assert redelivered == stored
