"""Builders for the notifier's unit tests: a two-day summer training in Belgrade."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.headerregistry import Address
from typing import Any
from uuid import UUID

import pytest

from services.notifier.folding import fold_lines
from services.notifier.handlers import recipient_of
from services.notifier.messages import MailIdentity
from services.notifier.notices import Kind, Notice
from shared.contracts import SeatAssignedV1

NOW = datetime(2026, 5, 4, 8, 15, tzinfo=UTC)
REGISTRATION_ID = UUID("6f1c9b7e-2f4a-4c1e-9a43-0d8e5b1f2a10")
ORGANIZER = Address(display_name="Kancelarija za obuke", addr_spec="obuke@trainingops.example")
IDENTITY = MailIdentity(
    sender=Address(display_name="Training Office", addr_spec="training@trainingops.example"),
    organizer=ORGANIZER,
)
TWO_DAYS = (
    {"starts_at": "2026-06-10T07:30:00Z", "ends_at": "2026-06-10T14:30:00Z"},
    {"starts_at": "2026-06-11T07:30:00Z", "ends_at": "2026-06-11T14:30:00Z"},
)


def seat_assigned(
    *, session: dict[str, Any] | None = None, attendee: dict[str, Any] | None = None, **top: Any
) -> SeatAssignedV1:
    """A valid SeatAssignedV1; override nested fields with `session=`/`attendee=`."""
    data: dict[str, Any] = {
        "event_id": "0b7a1f4e-5d7c-4c55-8a39-3c1f0f1d2e01",
        "occurred_at": "2026-05-04T08:00:00Z",
        "correlation_id": "corr-123",
        "producer": "scheduler",
        "registration_id": str(REGISTRATION_ID),
        "programme_id": "ppz-2026",
        "session": {
            "session_id": "ppz-bg-06",
            "programme_id": "ppz-2026",
            "title": "Javne nabavke u praksi",
            "mode": "in_person",
            "timezone": "Europe/Belgrade",
            "days": list(TWO_DAYS),
            "venue": {
                "name": "Palata Srbije",
                "city": "Beograd",
                "address": "Bulevar Mihajla Pupina 2",
                "room": "Sala 3",
            },
            "language": "sr-Latn",
            "trainers": [{"full_name": "Milica Đurić", "email": "milica@trainers.example"}],
        }
        | (session or {}),
        "attendee": {
            "full_name": "Đorđe Šćekić",
            "email": "djordje.scekic@opstina.example",
            "organisation": "Opština Čukarica",
            "language": "sr-Latn",
        }
        | (attendee or {}),
        "revision": 1,
        "reason": "first choice",
    } | top
    return SeatAssignedV1.model_validate(data)


def notice_of(event: SeatAssignedV1, kind: Kind = "invite", **fields: Any) -> Notice:
    """The notice the notifier records for `event`."""
    return Notice(
        kind=kind,
        recipient_id=event.registration_id,
        recipient=recipient_of(event.attendee),
        session=event.session,
        revision=event.revision,
        correlation_id=event.correlation_id,
        **fields,
    )


@pytest.fixture
def make_event() -> Callable[..., SeatAssignedV1]:
    """The builder, as a fixture."""
    return seat_assigned


@pytest.fixture
def now() -> datetime:
    """The injected time."""
    return NOW


@pytest.fixture
def identity() -> MailIdentity:
    """Sender and organizer."""
    return IDENTITY


def refold(data: bytes) -> bytes:
    """A serialised calendar unfolded and folded again by us: what `folding.serialise` must give."""
    text = data.decode().replace("\r\n ", "").replace("\r\n\t", "")
    return fold_lines(text.split("\r\n"))
