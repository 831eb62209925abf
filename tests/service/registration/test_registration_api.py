"""The registration API with an in-memory broker: validation, idempotency, honesty about Kafka."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from aiokafka.errors import KafkaConnectionError
from faststream.kafka import KafkaBroker, TestKafkaBroker

from services.registration.main import create_app
from services.registration.settings import RegistrationSettings
from shared import topics
from shared.catalogue import load_catalogue
from shared.clock import ManualClock
from shared.contracts import RegistrationSubmittedV1, RegistrationWaitlistedV1, envelope
from shared.kafka import make_broker, publish_event

pytestmark = pytest.mark.service

REPO = Path(__file__).resolve().parents[3]
FORM = {
    "programme_id": "social-networks-lsg",
    "full_name": "Milica Primerović",
    "email": "Milica.Primerovic@Example.org",
    "phone": "064 123 4567",
    "organisation": "Opština Primer",
    "preferences": ["sn-training-2", "sn-training-3"],
}


@dataclass
class Api:
    """A client on the app plus what reached Kafka."""

    client: httpx.AsyncClient
    broker: KafkaBroker
    published: list[RegistrationSubmittedV1] = field(default_factory=list)


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    settings = RegistrationSettings(
        data_dir=tmp_path, catalogue_path=REPO / "deploy/seed/programmes.yaml"
    )
    broker = make_broker("localhost:9092", client_id="test")
    clock = ManualClock(datetime(2027, 5, 1, 9, tzinfo=UTC))
    app = create_app(settings, broker=broker, clock=clock, provision_topics=False)
    published: list[RegistrationSubmittedV1] = []

    @broker.subscriber(topics.REGISTRATIONS, group_id="spy")
    async def spy(event: RegistrationSubmittedV1) -> None:
        published.append(event)

    async with TestKafkaBroker(broker), app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Api(client, broker, published)


async def test_accepts_a_registration_once_it_is_in_kafka(api: Api) -> None:
    response = await api.client.post(
        "/registrations", json=FORM, headers={"X-Correlation-ID": "form-42"}
    )
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending"
    assert body["status_url"] == f"http://test/registrations/{body['registration_id']}"
    assert response.headers["X-Correlation-ID"] == "form-42"
    [event] = api.published
    assert event.registration_id == UUID(body["registration_id"])
    assert event.correlation_id == "form-42"
    assert event.registrant.phone == "+381641234567"
    assert event.preferences == ("sn-training-2", "sn-training-3")
    assert event.producer == "registration"


async def test_same_person_same_programme_same_id_and_one_event(api: Api) -> None:
    first = await api.client.post("/registrations", json=FORM)
    second = await api.client.post(
        "/registrations", json={**FORM, "email": " milica.primerovic@example.org"}
    )
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert len(api.published) == 1


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"nickname": "mici"}, "nickname", "unknown field"),
        ({"email": "not-an-email"}, "email", "email"),
        ({"email": "светлана@opstina.rs"}, "email", "Latin letters only"),
        ({"full_name": "Milica\r\nBcc: x@example.org"}, "full_name", "pattern"),
        ({"phone": "12"}, "phone", "phone number"),
        ({"programme_id": "no-such-programme"}, "programme_id", "unknown programme"),
        ({"preferences": ["sn-training-1", "nope"]}, "preferences.1", "unknown session"),
        ({"preferences": ["sn-training-1", "sn-training-1"]}, "preferences", "only once"),
        ({"language": "de"}, "language", "sr-Latn"),
    ],
)
async def test_invalid_input_names_the_field_and_the_reason(
    api: Api, change: dict[str, Any], field: str, message: str
) -> None:
    response = await api.client.post("/registrations", json={**FORM, **change})
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert any(e["field"] == field and message in e["message"] for e in errors), errors
    assert "x@example.org" not in response.text
    assert api.published == []


async def test_missing_fields_are_named(api: Api) -> None:
    response = await api.client.post("/registrations", json={"programme_id": "social-networks-lsg"})
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"full_name", "email", "organisation"} <= fields


async def test_kafka_unavailable_answers_503_with_retry_after_and_stores_nothing(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(*_: Any, **__: Any) -> None:
        raise KafkaConnectionError("broker down")

    monkeypatch.setattr(api.broker, "publish", refuse)
    response = await api.client.post("/registrations", json=FORM)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    monkeypatch.undo()
    retried = await api.client.post("/registrations", json=FORM)
    assert retried.status_code == 202, "a refused submission must not be remembered as accepted"
    assert len(api.published) == 1


async def test_status_follows_the_scheduler(api: Api) -> None:
    accepted = (await api.client.post("/registrations", json=FORM)).json()
    status = await api.client.get(f"/registrations/{accepted['registration_id']}")
    assert status.json()["status"] == "pending"
    waitlisted = RegistrationWaitlistedV1(
        **envelope(
            producer="scheduler", correlation_id="c", now=datetime(2027, 5, 1, 9, 1, tzinfo=UTC)
        ),
        registration_id=UUID(accepted["registration_id"]),
        programme_id="social-networks-lsg",
        position=3,
        reason="waitlisted: all 2 preferences full",
    )
    await publish_event(api.broker, topics.PLACEMENTS, waitlisted, key=accepted["registration_id"])
    status = await api.client.get(f"/registrations/{accepted['registration_id']}")
    assert status.json() | {"updated_at": None} == {
        "registration_id": accepted["registration_id"],
        "programme_id": "social-networks-lsg",
        "status": "waitlisted",
        "session_id": None,
        "waitlist_position": 3,
        "offer_expires_at": None,
        "reason": "waitlisted: all 2 preferences full",
        "revision": 1,
        "updated_at": None,
    }


async def test_unknown_registration_is_404(api: Api) -> None:
    response = await api.client.get("/registrations/7d9e3c1e-0000-4000-8000-000000000000")
    assert response.status_code == 404


def test_catalogue_seed_is_what_the_api_validates_against() -> None:
    catalogue = load_catalogue(REPO / "deploy/seed/programmes.yaml")
    assert catalogue.programme("social-networks-lsg").session("sn-training-2")
