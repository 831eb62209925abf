"""Pure rules of the front door: stable registration ids and normalisation."""

from __future__ import annotations

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
