"""What the JSON API accepts and answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from services.registration.domain import normalise_phone
from shared.contracts.people import Email, Language, SingleLine

Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
]


class RegistrationRequest(BaseModel):
    """A registration as a form posts it; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    programme_id: Identifier
    full_name: SingleLine
    email: Email = Field(max_length=254)
    phone: str | None = Field(
        default=None, max_length=32, description="Any format; stored as E.164."
    )
    organisation: SingleLine = Field(description="Municipality, city or institution.")
    role: SingleLine | None = None
    language: Language = "sr-Latn"
    preferences: list[Identifier] = Field(default_factory=list, max_length=20)
    unavailable_dates: list[date] = Field(default_factory=list, max_length=100)
    consent_email: bool = True
    consent_sms: bool = False

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        return normalise_phone(value) if value else None

    @field_validator("preferences")
    @classmethod
    def _distinct_session_ids(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a session may be listed only once")
        return value


class RegistrationAccepted(BaseModel):
    """The answer to a submission: the id and where to follow it."""

    registration_id: UUID
    status: Literal["pending"] = "pending"
    status_url: str


class RegistrationStatus(BaseModel):
    """Where a registration stands."""

    registration_id: UUID
    programme_id: str
    status: Literal["pending", "assigned", "offered", "waitlisted", "cancelled"]
    session_id: str | None = None
    waitlist_position: int | None = None
    offer_expires_at: datetime | None = None
    reason: str | None = None
    revision: int = 0
    updated_at: datetime


class FieldError(BaseModel):
    """One problem with one field."""

    field: str
    message: str


class ErrorBody(BaseModel):
    """An error answer: a summary and the problems field by field."""

    detail: str
    errors: list[FieldError] = []


class StaffRegistration(BaseModel):
    """A registration as staff see it: the person, their choices and where it stands."""

    registration_id: UUID
    programme_id: str
    status: str
    session_id: str | None = None
    waitlist_position: int | None = None
    full_name: str
    email: str
    phone: str | None = None
    organisation: str | None = None
    role: str | None = None
    language: str
    consent_email: bool
    consent_sms: bool
    preferences: list[str]
    unavailable_dates: list[date]
    submitted_at: datetime
    updated_at: datetime


class RequestAccepted(BaseModel):
    """A staff request relayed durably to the other services."""

    registration_id: UUID
    request: Literal["erasure", "cancellation"]


class RetentionReport(BaseModel):
    """What a retention run purged."""

    retention_days: int
    programmes: list[str]
    purged: int
