"""What to send, to whom, about which session (or the waitlist): stored as JSON until delivered."""

from __future__ import annotations

import uuid
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, model_validator

from shared.contracts import Language, SessionSnapshot, Trainer

Kind = Literal["invite", "update", "cancellation", "offer", "reminder", "waitlisted"]
Channel = Literal["email", "sms"]
Role = Literal["registrant", "trainer"]
CALENDAR_KINDS: tuple[Kind, ...] = ("invite", "update", "cancellation")
NO_SESSION = ""  # the session id of a notice about the waitlist (no session id is empty)
TRAINER_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "trainers.trainingops")


class Recipient(BaseModel):
    """The person a notice goes to, with how they may be contacted."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Role = "registrant"
    full_name: str
    email: str
    phone: str | None = None
    language: Language = "sr-Latn"
    consent_email: bool = True
    consent_sms: bool = False


class Notice(BaseModel):
    """One message to deliver: the durable input of every renderer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Kind
    channel: Channel = "email"
    recipient_id: UUID
    recipient: Recipient
    session: SessionSnapshot | None  # None only for `waitlisted`
    revision: int
    correlation_id: str
    expires_at: AwareDatetime | None = None  # an offer's deadline; a waitlist link's end
    slot: str | None = None
    position: int | None = None  # on the waitlist
    programme_title: str | None = None

    @model_validator(mode="after")
    def _session_unless_waitlisted(self) -> Notice:
        if (self.session is None) != (self.kind == "waitlisted"):
            raise ValueError("a session for every notice but a waitlisted one, which has none")
        return self

    @property
    def key(self) -> str:
        """The deterministic notification key: (recipient, session, kind[.slot], revision)."""
        kind = f"{self.kind}.{self.slot}" if self.slot else self.kind
        return f"{self.recipient_id}:{self.session_id}:{kind}:{self.revision}"

    @property
    def session_id(self) -> str:
        """The session's id, or `NO_SESSION` for a notice about the waitlist."""
        return self.session.session_id if self.session is not None else NO_SESSION

    @property
    def required_session(self) -> SessionSnapshot:
        """The session of a notice that must have one (a calendar, an offer, a reminder)."""
        if self.session is None:
            raise ValueError(f"a {self.kind} notice has no session")
        return self.session

    @property
    def is_calendar(self) -> bool:
        """Whether the notice carries an iTIP calendar."""
        return self.kind in CALENDAR_KINDS

    @property
    def method(self) -> Literal["REQUEST", "CANCEL"]:
        """The iTIP method of a calendar notice."""
        return "CANCEL" if self.kind == "cancellation" else "REQUEST"


def trainer_id(email: str) -> UUID:
    """A stable pseudonymous id for a trainer: keys and outcomes never carry an address."""
    return uuid.uuid5(TRAINER_NAMESPACE, email.strip().lower())


def trainer_recipient(trainer: Trainer, language: Language) -> Recipient:
    """A trainer as a recipient, written to in the session's language."""
    return Recipient(
        role="trainer", full_name=trainer.full_name, email=trainer.email, language=language
    )
