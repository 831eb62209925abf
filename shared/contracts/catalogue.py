"""Events published when staff change the catalogue: other services keep their view from them."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from shared.contracts.envelope import Event
from shared.contracts.scheduling import SessionSnapshot


class SessionPublishedV1(Event):
    """A session as it now stands (created, rescheduled, relocated, resized or cancelled)."""

    event_type: Literal["catalogue.session_published"] = "catalogue.session_published"
    event_version: Literal[1] = 1
    session: SessionSnapshot
    capacity: int = Field(ge=0)
    registration_deadline: AwareDatetime | None = None
    status: Literal["scheduled", "cancelled"] = "scheduled"
    revision: int = Field(ge=1, description="Rises with every change of this session.")
