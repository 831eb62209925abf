"""Durable or honest, on a real broker: 202 only after acks=all; a frozen broker means 503, no loss."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from deploy.kafka.launcher import LocalKafka
from services.registration.main import create_app
from services.registration.settings import RegistrationSettings
from shared import topics

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
FORM: dict[str, Any] = {
    "programme_id": "social-networks-lsg",
    "full_name": "Milica Primerović",
    "organisation": "Opština Primer",
    "preferences": ["sn-training-2"],
}


@pytest.fixture(scope="module")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafka]:
    """Our own broker: these tests freeze it, so it is not shared with other modules."""
    with LocalKafka(tmp_path_factory.mktemp("registration-kafka")) as broker:
        yield broker


@pytest.fixture
async def api(kafka: LocalKafka, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = RegistrationSettings(
        kafka_bootstrap_servers=kafka.bootstrap_servers,
        data_dir=tmp_path,
        catalogue_path=REPO / "deploy/seed/programmes.yaml",
        publish_timeout_s=3,
        rate_limit_per_address="1000/minute",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def registrations_on_topic(
    bootstrap: str, wanted: set[str], within_s: float = 30
) -> list[dict[str, Any]]:
    """Read registrations.v1 from the start until every wanted id was seen (or the deadline)."""
    consumer = AIOKafkaConsumer(
        topics.REGISTRATIONS, bootstrap_servers=bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + within_s
    try:
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            seen += [json.loads(r.value) for records in batches.values() for r in records]
            if wanted <= {e["registration_id"] for e in seen}:
                break
    finally:
        await consumer.stop()
    return seen


async def test_202_means_the_event_is_in_kafka(kafka: LocalKafka, api: httpx.AsyncClient) -> None:
    response = await api.post("/registrations", json={**FORM, "email": "first@example.org"})
    assert response.status_code == 202, response.text
    registration_id = response.json()["registration_id"]
    events = await registrations_on_topic(kafka.bootstrap_servers, {registration_id})
    assert registration_id in {e["registration_id"] for e in events}


async def test_frozen_broker_means_503_then_nothing_accepted_is_lost(
    kafka: LocalKafka, api: httpx.AsyncClient
) -> None:
    before = await api.post("/registrations", json={**FORM, "email": "before@example.org"})
    assert before.status_code == 202
    kafka.pause()
    try:
        started = time.monotonic()
        frozen = await api.post("/registrations", json={**FORM, "email": "during@example.org"})
        assert frozen.status_code == 503
        assert frozen.headers["Retry-After"] == "5"
        assert time.monotonic() - started < 10, "the answer is bounded by the publish timeout"
    finally:
        kafka.resume()
    retried = await retry_until_accepted(api, {**FORM, "email": "during@example.org"})
    after = await retry_until_accepted(api, {**FORM, "email": "after@example.org"})
    accepted = {before.json()["registration_id"], retried, after}
    events = await registrations_on_topic(kafka.bootstrap_servers, accepted)
    assert accepted <= {e["registration_id"] for e in events}
    during = [e for e in events if e["registration_id"] == retried]
    assert len({e["event_id"] for e in during}) == 1, "a resend carries the same event id"


async def test_stopped_broker_means_503_and_accepted_events_survive_the_restart(
    kafka: LocalKafka, api: httpx.AsyncClient
) -> None:
    before = await api.post("/registrations", json={**FORM, "email": "stop-before@example.org"})
    assert before.status_code == 202
    kafka.stop()
    try:
        down = await api.post("/registrations", json={**FORM, "email": "stop-during@example.org"})
        assert down.status_code == 503
        assert "Retry-After" in down.headers
    finally:
        kafka.start()
    retried = await retry_until_accepted(api, {**FORM, "email": "stop-during@example.org"})
    accepted = {before.json()["registration_id"], retried}
    events = await registrations_on_topic(kafka.bootstrap_servers, accepted)
    assert accepted <= {e["registration_id"] for e in events}


async def retry_until_accepted(api: httpx.AsyncClient, form: dict[str, Any]) -> str:
    """What a client does with 503: retry (bounded) until 202."""
    deadline = time.monotonic() + 60
    while True:
        response = await api.post("/registrations", json=form)
        if response.status_code == 202:
            registration_id: str = response.json()["registration_id"]
            return registration_id
        assert response.status_code == 503, response.text
        assert time.monotonic() < deadline, "the broker came back but the API did not"
        await asyncio.sleep(0.5)
