"""Pure rules of the front door: stable registration ids and normalisation."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from uuid import NAMESPACE_URL, UUID, uuid5

import phonenumbers

REGISTRATION_NAMESPACE = uuid5(NAMESPACE_URL, "https://trainingops.example/registrations")
DEFAULT_PHONE_REGION = "RS"


def normalise_email(email: str) -> str:
    """Lower-case and trim an email address so one person has one key."""
    return email.strip().lower()


def registration_id_for(programme_id: str, email: str) -> UUID:
    """The same person (normalised email) in the same programme always gets the same id."""
    return uuid5(REGISTRATION_NAMESPACE, f"{programme_id}\n{normalise_email(email)}")


def submission_event_id(registration_id: UUID) -> UUID:
    """A resubmission carries the same event id, so consumers deduplicate it."""
    return uuid5(registration_id, "registration.submitted")


def normalise_phone(raw: str, region: str = DEFAULT_PHONE_REGION) -> str:
    """Parse a phone number (default region Serbia) and return it in E.164, or raise ValueError."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as error:
        raise ValueError("not a phone number") from error
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def erasure_event_id(registration_id: UUID) -> UUID:
    """Asking twice to erase the same registration is the same request."""
    return uuid5(registration_id, "privacy.erasure_requested")


def cancellation_event_id(registration_id: UUID) -> UUID:
    """Asking twice to cancel the same registration is the same request."""
    return uuid5(registration_id, "registration.cancellation_requested")


def offer_answer_event_id(registration_id: UUID, revision: int) -> UUID:
    """One answer per offer: the first one given counts."""
    return uuid5(registration_id, f"offer.answered:{revision}")


def programme_end(phase_ends: Iterable[date | None], session_dates: Iterable[date]) -> date | None:
    """The last day of a programme: its last phase or session day, whichever is later."""
    days = [d for d in phase_ends if d is not None] + list(session_dates)
    return max(days, default=None)


def past_retention(end: date | None, today: date, retention_days: int) -> bool:
    """Whether a programme that ended on `end` is older than the retention period."""
    return end is not None and today > end + timedelta(days=retention_days)


def region_allowed(e164: str, allowed: frozenset[str]) -> bool:
    """Whether an E.164 number belongs to one of the allowed ISO regions."""
    region = phonenumbers.region_code_for_number(phonenumbers.parse(e164))
    return region in allowed


OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "ODJAVA"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES", "PRIJAVA"})


def sms_consent_from_reply(text: str) -> bool | None:
    """STOP-like replies opt out (False), START-like opt in (True); anything else is not a command."""
    words = text.strip().upper().split()
    first = words[0].strip(".!") if words else ""
    if first in OPT_OUT_WORDS:
        return False
    if first in OPT_IN_WORDS:
        return True
    return None
