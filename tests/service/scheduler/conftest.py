"""A scheduler on FastStream's in-memory broker, with a probe on what it publishes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
import yaml
from faststream import TestApp
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import TypeAdapter

from services.scheduler import handlers
from services.scheduler.handlers import Deps
from services.scheduler.main import build_app
from services.scheduler.settings import SchedulerSettings
from shared import topics
from shared.clock import ManualClock
from shared.contracts import (
    CancellationRequestedV1,
    ErasureRequestedV1,
    Event,
    OfferAnsweredV1,
    PlacementEvent,
    Registrant,
    RegistrationSubmittedV1,
    SessionPublishedV1,
)
from shared.kafka import make_broker, publish_event

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
placement_events: TypeAdapter[PlacementEvent] = TypeAdapter(PlacementEvent)


def small_catalogue(
    *capacities: int, mode: str = "first_come", cap: int | None = None
) -> dict[str, Any]:
    """Programme `small`: one online session `s<n>` per capacity, a week apart from June 2027."""
    sessions = [
        {
            "id": f"s{n}",
            "phase": "training",
            "title": f"Session {n}",
            "mode": "in_person",
            "timezone": "Europe/Belgrade",
            "dates": [date(2027, 6, 1 + 7 * n)],
            "start": "10:00",
            "end": "16:00",
            "venue": {"name": "SKIP Center", "city": "Belgrade"},
            "capacity": capacity,
            "language": "sr-Latn",
            "registration_deadline": f"2027-05-{10 + n:02d}T23:59",
            **({"municipality_cap": cap} if cap else {}),
        }
        for n, capacity in enumerate(capacities, start=1)
    ]
    programme = {
        "id": "small",
        "title": "Small",
        "mode": mode,
        "phases": [{"id": "training", "title": "T"}],
    }
    return {"programmes": [{**programme, "sessions": sessions}]}


@dataclass
class Scheduler:
    """A running scheduler, what it published, and how to talk to it."""

    broker: KafkaBroker
    deps: Deps
    clock: ManualClock
    programme: str
    placed: list[tuple[PlacementEvent, KafkaMessage]] = field(default_factory=list)
    sessions: list[SessionPublishedV1] = field(default_factory=list)
    dead: list[KafkaMessage] = field(default_factory=list)

    async def send(self, event: Event) -> list[PlacementEvent]:
        """Publish on the registrations stream; return the placement events it caused."""
        before = len(self.placed)
        await publish_event(self.broker, topics.REGISTRATIONS, event, key=self.programme)
        return [p for p, _ in self.placed[before:]]

    async def submit(self, registration: RegistrationSubmittedV1) -> PlacementEvent:
        """Publish a registration and return the one placement it produced."""
        caused = await self.send(registration)
        assert len(caused) == 1, caused
        return caused[0]

    async def tick(self) -> list[PlacementEvent]:
        """Run the periodic tick now; return the placement events it caused."""
        before = len(self.placed)
        await handlers.tick(self.deps)
        return [p for p, _ in self.placed[before:]]

    def latest(self, registration_id: UUID) -> PlacementEvent:
        """The last placement event published for a registration."""
        return [p for p, _ in self.placed if p.registration_id == registration_id][-1]

    def cancellation(
        self, registration_id: UUID, by: str = "participant"
    ) -> CancellationRequestedV1:
        return CancellationRequestedV1(
            **_envelope(),
            registration_id=registration_id,
            programme_id=self.programme,
            requested_by=by,  # type: ignore[arg-type]
        )

    def erasure(self, registration_id: UUID) -> ErasureRequestedV1:
        return ErasureRequestedV1(
            **_envelope(), registration_id=registration_id, programme_id=self.programme
        )

    def answer(self, offer: PlacementEvent, *, accepted: bool) -> OfferAnsweredV1:
        session = getattr(offer, "session")  # noqa: B009
        return OfferAnsweredV1(
            **_envelope(),
            registration_id=offer.registration_id,
            programme_id=self.programme,
            session_id=session.session_id,
            offer_revision=offer.revision,
            accepted=accepted,
        )


def _envelope() -> dict[str, Any]:
    return {
        "event_id": uuid4(),
        "occurred_at": NOW,
        "correlation_id": f"corr-{uuid4()}",
        "producer": "registration",
    }


def registration(
    *preferences: str,
    n: int = 0,
    programme: str = "small",
    organisation: str = "Opština Primer",
    language: str = "sr-Latn",
    unavailable: tuple[date, ...] = (),
) -> RegistrationSubmittedV1:
    return RegistrationSubmittedV1(
        **_envelope(),
        registration_id=uuid4(),
        programme_id=programme,
        registrant=Registrant(
            full_name=f"Petra Testić {n}",
            email=f"petra.{n}@example.org",
            phone="+381601234567",
            organisation=organisation,
            language=language,  # type: ignore[arg-type]
        ),
        preferences=preferences,
        unavailable_dates=unavailable,
    )


async def start_scheduler(
    tmp_path: Path,
    catalogue: dict[str, Any] | Path,
    programme: str,
    *,
    admin_api: bool = False,
    **settings: Any,
) -> AsyncIterator[Scheduler]:
    """Run a scheduler on an in-memory broker until the caller is done."""
    if isinstance(catalogue, Path):
        path = catalogue
    else:
        path = tmp_path / "catalogue.yaml"
        path.write_text(yaml.safe_dump(catalogue), encoding="utf-8")
    config = SchedulerSettings(
        data_dir=tmp_path,
        catalogue_path=path,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'scheduler.sqlite3'}",
        log_format="json",
        **settings,
    )
    broker = make_broker(config.kafka_bootstrap_servers, client_id="scheduler")
    clock = ManualClock(NOW)
    app, runtime = build_app(
        config, clock=clock, broker=broker, provision_topics=False, admin_api=admin_api
    )
    box: list[Scheduler] = []

    @broker.subscriber(topics.PLACEMENTS, group_id="test-probe")
    async def placements_probe(body: dict[str, Any], message: KafkaMessage) -> None:
        box[0].placed.append((placement_events.validate_python(body), message))

    @broker.subscriber(topics.CATALOGUE, group_id="test-probe")
    async def catalogue_probe(body: dict[str, Any]) -> None:
        box[0].sessions.append(SessionPublishedV1.model_validate(body))

    @broker.subscriber(topics.dead_letter(topics.REGISTRATIONS), group_id="test-probe")
    async def dead_letter_probe(body: dict[str, Any], message: KafkaMessage) -> None:
        box[0].dead.append(message)

    async with TestKafkaBroker(broker):
        # the app's startup publishes the seed catalogue: the probe must be ready first
        box.append(Scheduler(broker, None, clock, programme))  # type: ignore[arg-type]
        async with TestApp(app):
            box[0].deps = runtime.deps()
            yield box[0]


@pytest.fixture
async def small(tmp_path: Path) -> AsyncIterator[Scheduler]:
    """Two sessions: s1 with 1 seat, s2 with 2 seats."""
    async for running in start_scheduler(tmp_path, small_catalogue(1, 2), "small"):
        yield running
