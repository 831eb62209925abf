"""People as events carry them: registrants and trainers."""

from __future__ import annotations

import functools
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, ValidationInfo
from pydantic.networks import validate_email

from shared.contracts.envelope import Contract

Language = Literal["sr-Latn", "sr-Cyrl", "bs", "en"]
"""Languages every message can be written in."""

E164 = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")]
"""A phone number normalised to E.164."""


def _ascii_only(address: str) -> str:
    if not address.isascii():
        raise ValueError(
            "use an address with Latin letters only: international addresses are not supported"
        )
    return address


TRUSTED: dict[str, bool] = {"trusted": True}
"""Validation context for what our services wrote (events, stored rows): see `Email`."""
WELL_FORMED = re.compile(r"[!-?A-~]+@[!-?A-~]+")  # printable ASCII, no space, one @


@functools.lru_cache(maxsize=4096)
def _checked_email(address: str) -> str:
    """pydantic's `EmailStr` check, remembered: the same trainer is in every event of a session."""
    return validate_email(address)[1]


def _valid_email(address: str, info: ValidationInfo) -> str:
    """The full check where an address comes in; in what our services wrote, its shape."""
    if isinstance(info.context, dict) and info.context.get("trusted"):
        if not WELL_FORMED.fullmatch(address):
            raise ValueError("value is not a well-formed email address")
        return address
    return _checked_email(address)


Email = Annotated[
    str,
    AfterValidator(_valid_email),
    AfterValidator(_ascii_only),
    Field(json_schema_extra={"format": "email"}),
]
"""An email address every SMTP server accepts (no SMTPUTF8 needed).

Checked in full (email-validator) where it comes into the system: the HTTP APIs and the
catalogue file. Events and rows our own services wrote carry it normalised by that check; read
with the `TRUSTED` context they are checked for shape only (printable ASCII, no space, one @),
which still keeps CR, LF and any other header or command injection out, at a fiftieth of the CPU.
"""

SingleLine = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$"
    ),
]
"""Free text on one line: no control characters, so no CR/LF header or iCalendar injection."""


class Registrant(Contract):
    """The person a registration is for, with how and whether to contact them."""

    full_name: SingleLine
    email: Email
    phone: E164 | None = None
    organisation: SingleLine = Field(description="Municipality, city or institution.")
    role: SingleLine | None = None
    language: Language = "sr-Latn"
    consent_email: bool = True
    consent_sms: bool = False


class Trainer(Contract):
    """A trainer or mentor who leads a session."""

    full_name: SingleLine
    email: Email
