"""Personal links: GET shows a confirmation page in the registrant's language, POST performs once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from shared import topics
from shared.contracts import (
    CancellationRequestedV1,
    OfferAnsweredV1,
    RegistrationWaitlistedV1,
    SeatOfferedV1,
    envelope,
)
from shared.kafka import publish_event
from shared.links import LinkAction, LinkClaim, LinkSigner
from tests.service.notifier.harness import placement
from tests.service.registration.conftest import FORM, LINK_SECRET, STAFF, Registry

pytestmark = pytest.mark.service

LATER = datetime(2027, 6, 1, tzinfo=UTC)


async def registered(registry: Registry, **changes: Any) -> UUID:
    response = await registry.client.post("/registrations", json={**FORM, **changes})
    assert response.status_code == 202
    return UUID(response.json()["registration_id"])


def link(
    registration_id: UUID,
    action: LinkAction,
    *,
    secret: str = LINK_SECRET,
    expires_at: datetime = LATER,
    session_id: str | None = None,
    revision: int | None = None,
) -> str:
    claim = LinkClaim(registration_id, action, expires_at, session_id, revision)
    return f"/r/{LinkSigner(secret).sign(claim)}"


async def test_cancel_link_confirms_in_the_registrants_language_then_cancels_once(
    registry: Registry,
) -> None:
    registration_id = await registered(registry, language="sr-Cyrl")
    url = link(registration_id, "cancel")
    page = await registry.client.get(url)
    assert page.status_code == 200
    assert '<html lang="sr-Cyrl">' in page.text
    assert "Отказивање пријаве" in page.text
    assert f'<form method="post" action="{url}">' in page.text
    assert registry.of(CancellationRequestedV1) == [], "a GET (or a mail scanner) changes nothing"
    done = await registry.client.post(url)
    assert done.status_code == 200
    assert "Ваша пријава је отказана" in done.text  # noqa: RUF001
    again = await registry.client.post(url)
    assert again.status_code == 200
    assert "већ примљен" in again.text
    [cancellation] = registry.of(CancellationRequestedV1)
    assert cancellation.registration_id == registration_id
    assert cancellation.requested_by == "participant"
    assert cancellation.programme_id == FORM["programme_id"]


async def test_offer_links_accept_once_and_the_other_answer_changes_nothing(
    registry: Registry,
) -> None:
    registration_id = await registered(registry, language="en")
    offer = {"session_id": "sn-training-3", "revision": 4}
    accept = link(registration_id, "accept-offer", **offer)
    page = await registry.client.get(accept)
    assert "training 3" in page.text
    assert "Yes, I accept the seat" in page.text
    assert "the seat is yours" in (await registry.client.post(accept)).text
    declined = await registry.client.post(link(registration_id, "decline-offer", **offer))
    assert "already received" in declined.text
    [answer] = registry.of(OfferAnsweredV1)
    assert (answer.session_id, answer.offer_revision, answer.accepted) == ("sn-training-3", 4, True)
    newer = link(registration_id, "decline-offer", session_id="sn-training-3", revision=5)
    assert "You declined the seat" in (await registry.client.post(newer)).text
    assert [a.accepted for a in registry.of(OfferAnsweredV1)] == [True, False]


async def waitlisted(registry: Registry, registration_id: UUID, revision: int = 1) -> None:
    """Tell the registration service, as the scheduler does, that the registrant waits."""
    event = RegistrationWaitlistedV1(
        **envelope(producer="scheduler", correlation_id="c", now=registry.clock.now()),
        registration_id=registration_id,
        programme_id=FORM["programme_id"],
        position=2,
        revision=revision,
        reason="waitlisted: all preferences full",
    )
    await publish_event(registry.broker, topics.PLACEMENTS, event, key=str(registration_id))


async def test_the_waitlist_link_takes_a_waiting_registrant_off_the_list_once(
    registry: Registry,
) -> None:
    registration_id = await registered(registry, language="bs")
    await waitlisted(registry, registration_id)
    url = link(registration_id, "leave-waitlist", revision=1)
    page = await registry.client.get(url)
    assert page.status_code == 200
    assert "Odjava s liste čekanja" in page.text
    assert registry.of(CancellationRequestedV1) == []
    assert "Odjavljeni ste s liste čekanja" in (await registry.client.post(url)).text
    assert "već zaprimljen" in (await registry.client.post(url)).text
    [cancellation] = registry.of(CancellationRequestedV1)
    assert (cancellation.registration_id, cancellation.requested_by) == (
        registration_id,
        "participant",
    )


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_the_waitlist_link_of_someone_no_longer_waiting_changes_nothing(
    registry: Registry, method: str
) -> None:
    registration_id = await registered(registry, language="en")
    url = link(registration_id, "leave-waitlist", revision=1)
    pending = await registry.client.request(method, url)  # not decided yet: not on the list
    assert pending.status_code == 409
    await waitlisted(registry, registration_id)
    offered = placement(SeatOfferedV1, registration_id, revision=2, expires_at=LATER)
    await publish_event(registry.broker, topics.PLACEMENTS, offered, key=str(registration_id))
    response = await registry.client.request(method, url)  # it would cancel the offered seat
    assert response.status_code == 409
    assert "no longer on the waiting list" in response.text
    assert registry.of(CancellationRequestedV1) == []


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_expired_link_is_410_with_a_clear_page(registry: Registry, method: str) -> None:
    registration_id = await registered(registry)
    url = link(registration_id, "cancel", expires_at=registry.clock.now() + timedelta(hours=1))
    registry.clock.advance(timedelta(hours=2))
    response = await registry.client.request(method, url)
    assert response.status_code == 410
    assert "Link je istekao" in response.text
    assert registry.of(CancellationRequestedV1) == []


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_tampered_or_foreign_links_are_400(registry: Registry, method: str) -> None:
    registration_id = await registered(registry)
    genuine = link(registration_id, "cancel")
    tampered = genuine[:-3] + ("AAA" if not genuine.endswith("AAA") else "BBB")
    foreign = link(registration_id, "cancel", secret="another-secret-0123456789")
    for url in (tampered, foreign, "/r/not-a-token"):
        response = await registry.client.request(method, url)
        assert response.status_code == 400, url
        assert "Link nije ispravan" in response.text
    assert registry.of(CancellationRequestedV1) == []


async def test_link_of_an_unknown_or_erased_registration_is_404(registry: Registry) -> None:
    unknown = link(UUID("7d9e3c1e-0000-4000-8000-000000000000"), "cancel")
    assert (await registry.client.get(unknown)).status_code == 404
    registration_id = await registered(registry)
    await registry.client.post(f"/staff/registrations/{registration_id}/erasure", headers=STAFF)
    erased = await registry.client.post(link(registration_id, "cancel"))
    assert erased.status_code == 404
    assert registry.of(CancellationRequestedV1) == []


async def test_offer_link_without_a_revision_is_refused(registry: Registry) -> None:
    registration_id = await registered(registry)
    response = await registry.client.post(link(registration_id, "accept-offer"))
    assert response.status_code == 400
    assert registry.of(OfferAnsweredV1) == []


async def test_link_while_kafka_is_down_is_503_and_can_be_used_later(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    registration_id = await registered(registry)
    url = link(registration_id, "cancel")

    async def refuse(*_: Any, **__: Any) -> None:
        raise ConnectionError("down")

    monkeypatch.setattr(registry.broker, "publish", refuse)
    busy = await registry.client.post(url)
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "5"
    monkeypatch.undo()
    assert (await registry.client.post(url)).status_code == 200
    assert len(registry.of(CancellationRequestedV1)) == 1
