"""The registration API with an in-memory broker: validation, idempotency, honesty about Kafka."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
import structlog
from aiokafka.errors import KafkaConnectionError

from shared import topics
from shared.catalogue import load_catalogue
from shared.contracts import RegistrationWaitlistedV1, envelope
from shared.kafka import publish_event
from shared.logging import configure_logging
from tests.service.registration.conftest import FORM, REPO, Registry

pytestmark = pytest.mark.service


async def test_accepts_a_registration_once_it_is_in_kafka(registry: Registry) -> None:
    response = await registry.client.post(
        "/registrations", json=FORM, headers={"X-Correlation-ID": "form-42"}
    )
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending"
    assert body["status_url"] == f"http://test/registrations/{body['registration_id']}"
    assert response.headers["X-Correlation-ID"] == "form-42"
    [event] = registry.published
    assert event.registration_id == UUID(body["registration_id"])
    assert event.correlation_id == "form-42"
    assert event.registrant.phone == "+381641234567"
    assert event.preferences == ("sn-training-2", "sn-training-3")
    assert event.producer == "registration"


async def test_the_correlation_id_is_bound_to_the_requests_log_lines_only(
    registry: Registry,
) -> None:
    stream = io.StringIO()
    configure_logging("registration", fmt="json", stream=stream)
    with structlog.contextvars.bound_contextvars(correlation_id="outer"):
        response = await registry.client.post(
            "/registrations", json=FORM, headers={"X-Correlation-ID": "form-7"}
        )
        assert structlog.contextvars.get_contextvars() == {"correlation_id": "outer"}
    assert response.status_code == 202
    await registry.client.post("/registrations", json={**FORM, "email": "ana@example.org"})
    assert structlog.contextvars.get_contextvars() == {}
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    accepted = [line for line in lines if line["event"] == "registration.accepted"]
    assert accepted[0]["correlation_id"] == "form-7"
    assert accepted[1]["correlation_id"] not in ("form-7", "outer")


async def test_same_person_same_programme_same_id_and_one_event(registry: Registry) -> None:
    first = await registry.client.post("/registrations", json=FORM)
    second = await registry.client.post(
        "/registrations", json={**FORM, "email": " milica.primerovic@example.org"}
    )
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert len(registry.published) == 1


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
    registry: Registry, change: dict[str, Any], field: str, message: str
) -> None:
    response = await registry.client.post("/registrations", json={**FORM, **change})
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert any(e["field"] == field and message in e["message"] for e in errors), errors
    assert "x@example.org" not in response.text
    assert registry.published == []


async def test_missing_fields_are_named(registry: Registry) -> None:
    response = await registry.client.post(
        "/registrations", json={"programme_id": "social-networks-lsg"}
    )
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"full_name", "email", "organisation"} <= fields


async def test_kafka_unavailable_answers_503_with_retry_after_and_stores_nothing(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(*_: Any, **__: Any) -> None:
        raise KafkaConnectionError("broker down")

    monkeypatch.setattr(registry.broker, "publish", refuse)
    response = await registry.client.post("/registrations", json=FORM)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    monkeypatch.undo()
    retried = await registry.client.post("/registrations", json=FORM)
    assert retried.status_code == 202, "a refused submission must not be remembered as accepted"
    assert len(registry.published) == 1


async def test_status_follows_the_scheduler(registry: Registry) -> None:
    accepted = (await registry.client.post("/registrations", json=FORM)).json()
    status = await registry.client.get(f"/registrations/{accepted['registration_id']}")
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
    await publish_event(
        registry.broker, topics.PLACEMENTS, waitlisted, key=accepted["registration_id"]
    )
    status = await registry.client.get(f"/registrations/{accepted['registration_id']}")
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


async def test_unknown_registration_is_404(registry: Registry) -> None:
    response = await registry.client.get("/registrations/7d9e3c1e-0000-4000-8000-000000000000")
    assert response.status_code == 404


def test_catalogue_seed_is_what_the_api_validates_against() -> None:
    catalogue = load_catalogue(REPO / "deploy/seed/programmes.yaml")
    assert catalogue.programme("social-networks-lsg").session("sn-training-2")


async def test_a_batch_of_decisions_leaves_the_newest_revision_and_skips_a_poison_one(
    registry: Registry,
) -> None:
    accepted = (await registry.client.post("/registrations", json=FORM)).json()
    registration_id = UUID(accepted["registration_id"])

    def waitlisted(position: int, revision: int) -> RegistrationWaitlistedV1:
        return RegistrationWaitlistedV1(
            **envelope(producer="scheduler", correlation_id="c", now=datetime.now(UTC)),
            registration_id=registration_id,
            programme_id="social-networks-lsg",
            position=position,
            revision=revision,
            reason=f"moved on the waitlist to position {position}",
        )

    # one batch as the consumer fetches it: in order, with a record that is not an event at all
    await registry.broker.publish_batch(
        waitlisted(5, 1),
        b"\x00not an event",
        waitlisted(4, 2),
        waitlisted(3, 3),
        topic=topics.PLACEMENTS,
    )
    status = (await registry.client.get(f"/registrations/{registration_id}")).json()
    assert (status["waitlist_position"], status["revision"]) == (3, 3)
    await registry.broker.publish_batch(waitlisted(9, 2), topic=topics.PLACEMENTS)  # late, older
    status = (await registry.client.get(f"/registrations/{registration_id}")).json()
    assert (status["waitlist_position"], status["revision"]) == (3, 3)
