"""The catalogue view follows SessionPublishedV1: cancelled, added and re-dated sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared import topics
from shared.catalogue import load_catalogue
from shared.contracts import RegistrationSubmittedV1, SessionPublishedV1, SessionSnapshot, envelope
from shared.kafka import publish_event
from tests.service.registration.conftest import FORM, REPO, MakeRegistry, Registry

pytestmark = pytest.mark.service

PROGRAMME = load_catalogue(REPO / "deploy/seed/programmes.yaml").programme("social-networks-lsg")


def published(
    snapshot: SessionSnapshot, revision: int, *, status: str = "scheduled", deadline: Any = None
) -> SessionPublishedV1:
    return SessionPublishedV1(
        **envelope(producer="scheduler", correlation_id="c", now=datetime(2027, 5, 1, tzinfo=UTC)),
        session=snapshot,
        capacity=24,
        registration_deadline=deadline,
        status=status,
        revision=revision,
    )


def new_session() -> SessionSnapshot:
    base = PROGRAMME.session("sn-training-5").snapshot()
    days = tuple(
        day.model_copy(
            update={
                "starts_at": day.starts_at + timedelta(days=7),
                "ends_at": day.ends_at + timedelta(days=7),
            }
        )
        for day in base.days
    )
    return base.model_copy(
        update={"session_id": "sn-training-6", "title": "Extra training 6", "days": days}
    )


async def publish(registry: Registry, event: SessionPublishedV1) -> None:
    await publish_event(registry.broker, topics.CATALOGUE, event, key=event.session.programme_id)


async def test_cancelled_session_is_refused_and_leaves_the_form(registry: Registry) -> None:
    await publish(
        registry, published(PROGRAMME.session("sn-training-2").snapshot(), 2, status="cancelled")
    )
    response = await registry.client.post("/registrations", json=FORM)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "preferences.0", "message": "session closed for registration"}
    ]
    form = (await registry.client.get("/register/social-networks-lsg")).text
    assert 'value="sn-training-2"' not in form
    assert 'value="sn-training-3"' in form


async def test_added_session_can_be_chosen(registry: Registry) -> None:
    await publish(registry, published(new_session(), 1))
    form = (await registry.client.get("/register/social-networks-lsg?lang=en")).text
    assert "Extra training 6 (20 Jul 2027, 21 Jul 2027)" in form
    response = await registry.client.post(
        "/registrations", json={**FORM, "preferences": ["sn-training-6"]}
    )
    assert response.status_code == 202
    [event] = registry.of(RegistrationSubmittedV1)
    assert event.preferences == ("sn-training-6",)


async def test_deadline_brought_forward_closes_the_session(registry: Registry) -> None:
    passed = registry.clock.now() - timedelta(minutes=1)
    await publish(
        registry, published(PROGRAMME.session("sn-training-2").snapshot(), 2, deadline=passed)
    )
    response = await registry.client.post("/registrations", json=FORM)
    assert response.json()["errors"][0]["message"] == "session closed for registration"


async def test_an_older_revision_does_not_undo_a_newer_one(registry: Registry) -> None:
    snapshot = PROGRAMME.session("sn-training-2").snapshot()
    await publish(registry, published(snapshot, 3, status="cancelled"))
    await publish(registry, published(snapshot, 2))
    assert (await registry.client.post("/registrations", json=FORM)).status_code == 422


async def test_updates_survive_a_restart(make_registry: MakeRegistry) -> None:
    async with make_registry() as registry:
        await publish(registry, published(new_session(), 1))
    async with make_registry() as restarted:
        response = await restarted.client.post(
            "/registrations", json={**FORM, "preferences": ["sn-training-6"]}
        )
        assert response.status_code == 202, response.text
