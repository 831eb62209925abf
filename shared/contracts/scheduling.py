"""Events published by the scheduler: where each registrant sits, waits, or was released from."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field, HttpUrl, model_validator

from shared.contracts.envelope import Contract, Event
from shared.contracts.people import Language, Registrant, SingleLine, Trainer


class SessionDay(Contract):
    """One day of a session: when it starts and ends."""

    starts_at: AwareDatetime
    ends_at: AwareDatetime

    @model_validator(mode="after")
    def _ends_after_start(self) -> SessionDay:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class Venue(Contract):
    """Where an in-person session takes place."""

    name: SingleLine
    city: SingleLine
    address: SingleLine | None = None
    room: SingleLine | None = None


class SessionSnapshot(Contract):
    """A session as it stands when an event is emitted: enough to write an invite."""

    session_id: str = Field(min_length=1, max_length=64)
    programme_id: str = Field(min_length=1, max_length=64)
    title: SingleLine
    mode: Literal["in_person", "online"]
    timezone: str = Field(description="IANA zone, e.g. Europe/Belgrade.")
    days: tuple[SessionDay, ...] = Field(min_length=1)
    venue: Venue | None = None
    online_url: HttpUrl | None = None
    language: Language
    trainers: tuple[Trainer, ...] = ()


SeatChange = Literal["time", "venue", "online_url", "title", "trainers"]
ReleaseReason = Literal[
    "participant_cancelled", "staff_cancelled", "session_cancelled", "capacity_reduced", "erased"
]


class _Placement(Event):
    """Fields every placement event shares; `revision` rises with every change of the placement."""

    registration_id: UUID
    programme_id: str
    revision: int = Field(default=1, ge=1)
    reason: str = Field(max_length=500)


class SeatAssignedV1(_Placement):
    """A registrant got a seat in a session (new, or after a waitlist offer was accepted)."""

    event_type: Literal["seat.assigned"] = "seat.assigned"
    event_version: Literal[1] = 1
    session: SessionSnapshot
    attendee: Registrant
    choice_rank: int | None = Field(default=None, ge=1, description="1 = first choice.")


class SeatUpdatedV1(_Placement):
    """The session of a held seat changed (time, venue, link...): calendars must update."""

    event_type: Literal["seat.updated"] = "seat.updated"
    event_version: Literal[1] = 1
    session: SessionSnapshot
    attendee: Registrant
    changes: tuple[SeatChange, ...] = Field(min_length=1)


class SeatReleasedV1(_Placement):
    """A held seat is gone: calendars must cancel the event, reminders must stop."""

    event_type: Literal["seat.released"] = "seat.released"
    event_version: Literal[1] = 1
    session: SessionSnapshot
    attendee: Registrant
    release_reason: ReleaseReason


class SeatOfferedV1(_Placement):
    """A freed seat is offered to a waitlisted registrant until `expires_at`."""

    event_type: Literal["seat.offered"] = "seat.offered"
    event_version: Literal[1] = 1
    session: SessionSnapshot
    attendee: Registrant
    expires_at: AwareDatetime


class RegistrationWaitlistedV1(_Placement):
    """No fitting session had room: the registrant waits at `position`."""

    event_type: Literal["registration.waitlisted"] = "registration.waitlisted"
    event_version: Literal[1] = 1
    position: int = Field(ge=1)
    joined: bool = Field(
        default=True,
        description="True when the registrant (re)joins the waitlist; False when only the"
        " position moved (nobody is written to for that).",
    )
    attendee: Registrant | None = Field(
        default=None, description="Whom to tell; absent from events written before 2026-12."
    )
    programme_title: SingleLine | None = None


class RegistrationCancelledV1(_Placement):
    """The registration is over (cancelled by the participant or staff, or erased)."""

    event_type: Literal["registration.cancelled"] = "registration.cancelled"
    event_version: Literal[1] = 1
    cancelled_by: Literal["participant", "staff", "erasure"]


PlacementEvent = Annotated[
    SeatAssignedV1
    | SeatUpdatedV1
    | SeatReleasedV1
    | SeatOfferedV1
    | RegistrationWaitlistedV1
    | RegistrationCancelledV1,
    Field(discriminator="event_type"),
]
"""Anything on the placements topic (keyed by registration id)."""
