"""Requests the registration service relays from participants and staff to the scheduler."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from shared.contracts.envelope import Event
from shared.contracts.registration import RegistrationSubmittedV1

Requester = Literal["participant", "staff"]


class CancellationRequestedV1(Event):
    """A participant (through their signed link) or staff asked to cancel a registration."""

    event_type: Literal["registration.cancellation_requested"] = (
        "registration.cancellation_requested"
    )
    event_version: Literal[1] = 1
    registration_id: UUID
    programme_id: str
    requested_by: Requester


class OfferAnsweredV1(Event):
    """A waitlisted participant accepted or declined the seat offered to them."""

    event_type: Literal["offer.answered"] = "offer.answered"
    event_version: Literal[1] = 1
    registration_id: UUID
    programme_id: str
    session_id: str
    offer_revision: int = Field(ge=1, description="The revision of the SeatOfferedV1 answered.")
    accepted: bool


class ErasureRequestedV1(Event):
    """Staff asked to erase a person's data: every service removes it and cancels what is pending."""

    event_type: Literal["privacy.erasure_requested"] = "privacy.erasure_requested"
    event_version: Literal[1] = 1
    registration_id: UUID
    programme_id: str
    requested_by: Requester = "staff"


RegistrationStreamEvent = Annotated[
    RegistrationSubmittedV1 | CancellationRequestedV1 | OfferAnsweredV1 | ErasureRequestedV1,
    Field(discriminator="event_type"),
]
"""Anything on the registrations topic (keyed by programme id, so one programme stays in order)."""
