"""The SMS gateway's inbound webhook: authenticated by a shared secret; STOP / START become events."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.registration.domain import sms_consent_from_reply
from shared.contracts import SmsConsentChangedV1
from tests.service.registration.conftest import MakeRegistry, Registry

pytestmark = pytest.mark.service

SECRET = "sms-webhook-secret-0123456789"
AUTH = {"X-Webhook-Secret": SECRET}


@pytest.fixture
async def gateway(make_registry: MakeRegistry) -> AsyncIterator[Registry]:
    async with make_registry(sms_webhook_secret=SECRET) as registry:
        yield registry


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("STOP", False),
        ("stop please", False),
        (" Stop.", False),
        ("odjava", False),
        ("START", True),
        ("start!", True),
        ("Hvala, vidimo se", None),
        ("", None),
        ("STOPWATCH", None),
    ],
)
def test_reply_keywords(text: str, expected: bool | None) -> None:
    assert sms_consent_from_reply(text) is expected


@pytest.mark.parametrize("headers", [{}, {"X-Webhook-Secret": "wrong"}, {"X-Webhook-Secret": ""}])
async def test_webhook_refuses_requests_without_the_secret(
    gateway: Registry, headers: dict[str, str]
) -> None:
    response = await gateway.client.post(
        "/webhooks/sms", json={"from": "+381641234567", "text": "STOP"}, headers=headers
    )
    assert response.status_code == 401
    junk = await gateway.client.post("/webhooks/sms", json={"junk": 1}, headers=headers)
    assert junk.status_code == 401, "credentials are checked before the body"
    assert gateway.published == []


async def test_webhook_is_closed_when_no_secret_is_configured(registry: Registry) -> None:
    response = await registry.client.post(
        "/webhooks/sms", json={"from": "+381641234567", "text": "STOP"}, headers=AUTH
    )
    assert response.status_code == 401


async def test_stop_and_start_publish_consent_changes_keyed_by_the_e164_number(
    gateway: Registry,
) -> None:
    stop = await gateway.client.post(
        "/webhooks/sms", json={"from": "064 123 4567", "text": "STOP"}, headers=AUTH
    )
    assert stop.json() == {"outcome": "opted_out"}
    start = await gateway.client.post(
        "/webhooks/sms", json={"from": "+381641234567", "text": "start"}, headers=AUTH
    )
    assert start.json() == {"outcome": "opted_in"}
    changes = gateway.of(SmsConsentChangedV1)
    assert [(c.phone, c.opted_in, c.source) for c in changes] == [
        ("+381641234567", False, "sms_reply"),
        ("+381641234567", True, "sms_reply"),
    ]


async def test_other_replies_are_acknowledged_and_ignored(gateway: Registry) -> None:
    response = await gateway.client.post(
        "/webhooks/sms", json={"from": "+381641234567", "text": "Hvala!"}, headers=AUTH
    )
    assert response.status_code == 202
    assert response.json() == {"outcome": "ignored"}
    assert gateway.published == []


async def test_invalid_sender_is_422(gateway: Registry) -> None:
    response = await gateway.client.post(
        "/webhooks/sms", json={"from": "12", "text": "STOP"}, headers=AUTH
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "from"
