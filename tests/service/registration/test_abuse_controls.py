"""Abuse controls: rate limits, the daily SMS budget, phone countries, Idempotency-Key, no leaks."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from shared.contracts import RegistrationSubmittedV1
from tests.service.registration.conftest import FORM, STAFF, MakeRegistry, Registry

pytestmark = pytest.mark.service


def person(n: int, **changes: Any) -> dict[str, Any]:
    """A distinct registrant (own email and phone) for the same programme."""
    return {**FORM, "email": f"person{n}@example.org", "phone": f"+3816412345{n:02d}", **changes}


async def test_per_address_limit_answers_429_with_retry_after(make_registry: MakeRegistry) -> None:
    async with make_registry(rate_limit_per_address="3/minute") as registry:
        for n in range(3):
            assert (await registry.client.post("/registrations", json=person(n))).status_code == 202
        refused = await registry.client.post("/registrations", json=person(3))
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert len(registry.of(RegistrationSubmittedV1)) == 3
        other = httpx.ASGITransport(app=registry.app, client=("198.51.100.9", 40000))
        async with httpx.AsyncClient(transport=other, base_url="http://test") as neighbour:
            assert (await neighbour.post("/registrations", json=person(4))).status_code == 202


async def test_invalid_requests_count_against_the_address_too(make_registry: MakeRegistry) -> None:
    async with make_registry(rate_limit_per_address="2/minute") as registry:
        for _ in range(2):
            response = await registry.client.post("/registrations", json={"junk": 1})
            assert response.status_code == 422
        assert (await registry.client.post("/registrations", json=person(1))).status_code == 429


async def test_staff_token_is_not_rate_limited(make_registry: MakeRegistry) -> None:
    async with make_registry(
        rate_limit_per_address="1/minute", rate_limit_per_person="1/hour"
    ) as r:
        for n in range(3):
            response = await r.client.post("/registrations", json=person(n), headers=STAFF)
            assert response.status_code == 202
        again = await r.client.post("/registrations", json=person(0), headers=STAFF)
        assert again.status_code == 202


async def test_per_email_limit_counts_the_normalised_address(make_registry: MakeRegistry) -> None:
    async with make_registry(rate_limit_per_person="2/hour") as registry:
        spellings = ["Person1@Example.org", " person1@example.org", "PERSON1@EXAMPLE.ORG"]
        answers = [
            await registry.client.post("/registrations", json=person(1, email=e, phone=None))
            for e in spellings
        ]
        assert [a.status_code for a in answers] == [202, 202, 429]
        assert "Retry-After" in answers[2].headers


async def test_per_phone_limit_across_different_emails(make_registry: MakeRegistry) -> None:
    async with make_registry(rate_limit_per_person="2/hour") as registry:
        answers = [
            await registry.client.post("/registrations", json=person(n, phone="+381 64 1234567"))
            for n in range(3)
        ]
        assert [a.status_code for a in answers] == [202, 202, 429]
        assert len(registry.of(RegistrationSubmittedV1)) == 2


async def test_per_phone_prefix_limit_catches_a_walk_through_a_number_range(
    make_registry: MakeRegistry,
) -> None:
    async with make_registry(rate_limit_per_phone_prefix="3/hour") as registry:
        answers = [
            await registry.client.post("/registrations", json=person(n, phone=f"+38164123{n:04d}"))
            for n in range(4)
        ]
        assert [a.status_code for a in answers] == [202, 202, 202, 429]
        elsewhere = await registry.client.post(
            "/registrations", json=person(9, phone="+381659876543")
        )
        assert elsewhere.status_code == 202


async def test_daily_sms_budget_accepts_beyond_it_with_sms_switched_off(
    make_registry: MakeRegistry,
) -> None:
    async with make_registry(sms_daily_budget=2) as registry:
        for n in range(3):
            response = await registry.client.post(
                "/registrations", json=person(n, consent_sms=True)
            )
            assert response.status_code == 202
        registry.clock.advance(timedelta(days=1))
        await registry.client.post("/registrations", json=person(3, consent_sms=True))
        consents = [e.registrant.consent_sms for e in registry.of(RegistrationSubmittedV1)]
        assert consents == [True, True, False, True]
        listed = (await registry.client.get("/staff/registrations", headers=STAFF)).json()
        assert [r["consent_sms"] for r in listed] == consents


@pytest.mark.parametrize(
    ("phone", "countries", "accepted"),
    [
        ("+381 64 1234567", None, True),  # Serbia
        ("+387 61 123 456", None, True),  # Bosnia and Herzegovina
        ("+382 67 123 456", None, True),  # Montenegro
        ("+383 44 123 456", None, True),  # Kosovo
        ("+49 151 23456789", None, False),  # Germany
        ("+44 7400 123456", None, False),  # United Kingdom
        ("+387 61 123 456", "RS", False),
    ],
)
async def test_phone_countries_allow_list(
    make_registry: MakeRegistry, phone: str, countries: str | None, accepted: bool
) -> None:
    overrides = {"phone_countries": countries} if countries else {}
    async with make_registry(**overrides) as registry:
        response = await registry.client.post("/registrations", json=person(1, phone=phone))
        if accepted:
            assert response.status_code == 202, response.text
            return
        assert response.status_code == 422
        assert response.json()["errors"] == [
            {"field": "phone", "message": "phone numbers from this country are not accepted"}
        ]
        assert registry.published == []


async def test_idempotency_key_same_key_same_answer_one_event(registry: Registry) -> None:
    key = {"Idempotency-Key": "form-submit-6f1c2a"}
    first = await registry.client.post("/registrations", json=person(1), headers=key)
    second = await registry.client.post("/registrations", json=person(1), headers=key)
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert len(registry.of(RegistrationSubmittedV1)) == 1


async def test_idempotency_key_reused_for_another_request_is_refused(registry: Registry) -> None:
    key = {"Idempotency-Key": "form-submit-6f1c2a"}
    await registry.client.post("/registrations", json=person(1), headers=key)
    reused = await registry.client.post("/registrations", json=person(2), headers=key)
    assert reused.status_code == 422
    assert reused.json()["errors"][0]["field"] == "Idempotency-Key"
    assert len(registry.of(RegistrationSubmittedV1)) == 1


async def test_idempotency_key_is_not_remembered_when_kafka_refused(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(*_: Any, **__: Any) -> None:
        raise ConnectionError("down")

    key = {"Idempotency-Key": "k-1"}
    monkeypatch.setattr(registry.broker, "publish", refuse)
    assert (
        await registry.client.post("/registrations", json=person(1), headers=key)
    ).status_code == 503
    monkeypatch.undo()
    assert (
        await registry.client.post("/registrations", json=person(1), headers=key)
    ).status_code == 202
    assert len(registry.of(RegistrationSubmittedV1)) == 1


async def test_malformed_idempotency_key_is_named(registry: Registry) -> None:
    response = await registry.client.post(
        "/registrations", json=person(1), headers={"Idempotency-Key": "x" * 129}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_answer_does_not_reveal_an_earlier_registration(registry: Registry) -> None:
    new = await registry.client.post("/registrations", json=person(1))
    duplicate = await registry.client.post("/registrations", json=person(1))
    assert new.status_code == duplicate.status_code == 202
    assert new.content == duplicate.content
    ignored = {"x-correlation-id", "date"}
    assert {k: v for k, v in new.headers.items() if k not in ignored} == {
        k: v for k, v in duplicate.headers.items() if k not in ignored
    }


async def test_concurrent_sms_registrations_never_exceed_the_daily_budget(
    make_registry: MakeRegistry,
) -> None:
    limits = {"rate_limit_per_address": "1000/minute", "rate_limit_per_phone_prefix": "1000/hour"}
    async with make_registry(sms_daily_budget=5, **limits) as registry:
        answers = await asyncio.gather(
            *(
                registry.client.post("/registrations", json=person(n, consent_sms=True))
                for n in range(20)
            )
        )
        assert [a.status_code for a in answers] == [202] * 20
        consents = [e.registrant.consent_sms for e in registry.of(RegistrationSubmittedV1)]
        assert len(consents) == 20
        assert consents.count(True) == 5


async def test_a_registration_kafka_refused_gives_its_sms_slot_back(
    make_registry: MakeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(*_: Any, **__: Any) -> None:
        raise ConnectionError("down")

    async with make_registry(sms_daily_budget=1) as registry:
        monkeypatch.setattr(registry.broker, "publish", refuse)
        refused = await registry.client.post("/registrations", json=person(1, consent_sms=True))
        assert refused.status_code == 503
        monkeypatch.undo()
        for n in (1, 2):
            response = await registry.client.post(
                "/registrations", json=person(n, consent_sms=True)
            )
            assert response.status_code == 202
        consents = [e.registrant.consent_sms for e in registry.of(RegistrationSubmittedV1)]
        assert consents == [True, False]
