"""Events published by the scheduler: where each registrant sits, or waits."""

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


class SeatAssignedV1(Event):
    """A registrant got a seat in a session; `revision` rises with every significant change."""

    event_type: Literal["seat.assigned"] = "seat.assigned"
    event_version: Literal[1] = 1
    registration_id: UUID
    programme_id: str
    session: SessionSnapshot
    attendee: Registrant
    revision: int = Field(ge=1)
    choice_rank: int | None = Field(default=None, ge=1, description="1 = first choice.")
    reason: str = Field(max_length=500)


class RegistrationWaitlistedV1(Event):
    """No fitting session had room: the registrant waits at `position`."""

    event_type: Literal["registration.waitlisted"] = "registration.waitlisted"
    event_version: Literal[1] = 1
    registration_id: UUID
    programme_id: str
    position: int = Field(ge=1)
    reason: str = Field(max_length=500)


PlacementEvent = Annotated[
    SeatAssignedV1 | RegistrationWaitlistedV1, Field(discriminator="event_type")
]
"""Anything on the placements topic."""
