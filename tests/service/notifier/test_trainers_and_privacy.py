"""Trainers' invites from the catalogue; erasure and SMS opt-outs from their topics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from services.notifier.ics import invite_uid
from services.notifier.notices import trainer_id
from shared import topics
from shared.contracts import ErasureRequestedV1, SessionPublishedV1, SmsConsentChangedV1
from tests.service.notifier.harness import NOW, TWO_DAYS, Harness, running, seat_assigned

pytestmark = pytest.mark.service
MILICA = {"full_name": "Milica Đurić", "email": "milica@trainers.example"}
PETAR = {"full_name": "Petar Jović", "email": "petar@trainers.example"}


def published(revision: int, trainers: list[dict[str, str]], **fields: Any) -> SessionPublishedV1:
    """The catalogue's view of the session at `revision`."""
    session = {
        "session_id": "ppz-bg-06",
        "programme_id": "ppz-2026",
        "title": "Javne nabavke u praksi",
        "mode": "in_person",
        "timezone": "Europe/Belgrade",
        "days": list(fields.pop("days", TWO_DAYS)),
        "venue": {"name": "Palata Srbije", "city": "Beograd"},
        "language": "sr-Cyrl",
        "trainers": trainers,
    }
    return SessionPublishedV1.model_validate(
        {
            "event_id": str(uuid4()),
            "occurred_at": NOW,
            "correlation_id": f"cat-{revision}",
            "producer": "catalogue",
            "session": session,
            "capacity": 30,
            "revision": revision,
        }
        | fields
    )


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    """A notifier with the default reminders."""
    async with running(tmp_path) as h:
        yield h


async def publish_session(harness: Harness, event: SessionPublishedV1) -> None:
    """Publish to the catalogue topic twice (a redelivery) and dispatch."""
    for _ in range(2):
        await harness.publish(topics.CATALOGUE, event)
    await harness.dispatch()


async def test_trainers_get_requests_updates_and_cancels_for_their_sessions(
    harness: Harness,
) -> None:
    moved = [{"starts_at": "2026-06-17T07:30:00Z", "ends_at": "2026-06-17T14:30:00Z"}]
    await publish_session(harness, published(1, [MILICA]))
    await publish_session(harness, published(2, [MILICA, PETAR], days=moved))
    await publish_session(harness, published(3, [PETAR], days=moved))  # Milica leaves
    await publish_session(harness, published(4, [PETAR], days=moved, status="cancelled"))

    milica = harness.mailer.calendars(to=MILICA["email"])
    petar = harness.mailer.calendars(to=PETAR["email"])
    assert [(m, e["SEQUENCE"]) for m, e in milica] == [
        ("REQUEST", 0),
        ("REQUEST", 1),
        ("CANCEL", 2),
    ]
    assert [(m, e["SEQUENCE"]) for m, e in petar] == [("REQUEST", 1), ("REQUEST", 2), ("CANCEL", 3)]
    assert {e["UID"] for _, e in milica} == {invite_uid(trainer_id(MILICA["email"]), "ppz-bg-06")}
    assert all(e["ATTENDEE"].params["ROLE"] == "CHAIR" for _, e in milica + petar)
    first = harness.mailer.sent[0]
    assert first["Subject"] == "Водите обуку: Javne nabavke u praksi"
    assert "/r/" not in first.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert {o.registration_id for o in harness.outcomes} == {
        trainer_id(MILICA["email"]),
        trainer_id(PETAR["email"]),
    }


async def test_erasure_forgets_the_person_and_their_pending_reminders(harness: Harness) -> None:
    event = seat_assigned()
    await harness.place(event)
    key = f"{event.registration_id}:ppz-bg-06:reminder.email-10080m:1"
    pending = await harness.notifier.store.get(key)
    assert pending is not None
    assert pending.status == "pending"

    erasure = ErasureRequestedV1(
        event_id=uuid4(),
        occurred_at=NOW,
        correlation_id="erase-1",
        producer="registration",
        registration_id=event.registration_id,
        programme_id="ppz-2026",
    )
    await harness.publish(topics.REGISTRATIONS, erasure)
    assert await harness.notifier.store.get(key) is None
    assert await harness.notifier.store.entry(event.registration_id, "ppz-bg-06") is None
    sent_before = len(harness.mailer.sent)
    await harness.travel(timedelta(days=40))
    assert len(harness.mailer.sent) == sent_before


async def test_a_stop_reply_stops_sms_reminders(harness: Harness) -> None:
    phone = "+381641234567"
    event = seat_assigned(attendee={"phone": phone, "consent_sms": True})
    await harness.place(event)
    stop = SmsConsentChangedV1(
        event_id=uuid4(),
        occurred_at=NOW,
        correlation_id="sms-1",
        producer="registration",
        phone=phone,
        opted_in=False,
        source="sms_reply",
    )
    await harness.publish(topics.CONSENTS, stop)
    await harness.travel_to(datetime(2026, 6, 10, 6, 0, tzinfo=UTC))  # SMS due 05:30 UTC
    assert harness.sms.sent == []
    [outcome] = [o for o in harness.outcomes if o.channel == "sms"]
    assert (outcome.status, outcome.detail) == ("failed", "recipient opted out of SMS")


async def test_a_start_reply_after_stop_lets_sms_through_again(harness: Harness) -> None:
    phone = "+381641234567"
    await harness.place(seat_assigned(attendee={"phone": phone, "consent_sms": True}))
    for opted_in in (False, True):
        change = SmsConsentChangedV1(
            event_id=uuid4(),
            occurred_at=NOW,
            correlation_id="sms-2",
            producer="registration",
            phone=phone,
            opted_in=opted_in,
            source="sms_reply",
        )
        await harness.publish(topics.CONSENTS, change)
    await harness.travel_to(datetime(2026, 6, 10, 6, 0, tzinfo=UTC))
    assert [sms.to for sms in harness.sms.sent] == [phone]
