"""Events published by the registration service."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import Field

from shared.contracts.envelope import Event
from shared.contracts.people import Registrant

SessionId = str


class RegistrationSubmittedV1(Event):
    """Someone registered for a programme, with ranked session preferences."""

    event_type: Literal["registration.submitted"] = "registration.submitted"
    event_version: Literal[1] = 1
    registration_id: UUID
    programme_id: str = Field(min_length=1, max_length=64)
    registrant: Registrant
    preferences: tuple[SessionId, ...] = Field(
        default=(), max_length=20, description="Session ids, best first; empty means any session."
    )
    unavailable_dates: tuple[date, ...] = Field(default=(), max_length=100)
