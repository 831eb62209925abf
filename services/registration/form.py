"""The HTML form: what it offers for a programme, and how its fields become a registration."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from services.registration.i18n import Messages
from services.registration.schemas import RegistrationRequest
from shared.catalogue import Programme, Session

MAX_CHOICES = 5
TEXT_FIELDS = ("full_name", "email", "phone", "organisation", "role", "language")
REQUIRED = ("full_name", "email", "organisation")
ANCHORS = {
    "preferences": "preference_1",
    "unavailable_dates": "unavailable_dates",
    "Idempotency-Key": "full_name",
}


class FormInvalid(ValueError):
    """Fields of the form are not valid: field name → message key."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(", ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class FormView:
    """What the form offers: open sessions to rank and the dates they run on."""

    sessions: list[tuple[str, str]]
    dates: list[tuple[str, str]]
    choices: int


def form_view(programme: Programme, is_open: Callable[[Session], bool], m: Messages) -> FormView:
    """The sessions still open for registration, and their dates, labelled in the language."""
    open_sessions = [s for s in programme.sessions if is_open(s)]
    sessions = [
        (s.id, f"{s.title} ({', '.join(m.day(d) for d in s.local_dates)})") for s in open_sessions
    ]
    days = sorted({d for s in open_sessions for d in s.local_dates})
    return FormView(
        sessions, [(d.isoformat(), m.day(d)) for d in days], min(MAX_CHOICES, len(sessions))
    )


def field_labels(m: Messages) -> dict[str, str]:
    """How the error summary names each field."""
    labels = {name: m(f"form.{name}") for name in (*TEXT_FIELDS, "preferences")}
    return labels | {"unavailable_dates": m("form.unavailable"), "Idempotency-Key": m("form.title")}


def form_values(items: list[tuple[str, Any]]) -> dict[str, Any]:
    """The posted fields as the template shows them again (strings, a list of dates, booleans)."""
    values: dict[str, Any] = {"unavailable_dates": []}
    for name, value in items:
        if not isinstance(value, str):
            continue  # no file uploads on this form
        if name == "unavailable_dates":
            values["unavailable_dates"].append(value)
        elif name in {"consent_email", "consent_sms"}:
            values[name] = True
        elif name in TEXT_FIELDS or name.startswith("preference_") or name == "form_token":
            values[name] = value
    return values


def to_request(programme_id: str, values: dict[str, Any]) -> RegistrationRequest:
    """Build the registration the JSON API would receive, or raise FormInvalid."""
    ranked = [values.get(f"preference_{n}", "") for n in range(1, MAX_CHOICES + 1)]
    data = {name: values.get(name, "").strip() or None for name in TEXT_FIELDS}
    data["full_name"] = data["full_name"] or ""
    data["organisation"] = data["organisation"] or ""
    data["email"] = data["email"] or ""
    data["language"] = data["language"] or "sr-Latn"
    try:
        return RegistrationRequest.model_validate(
            {
                **data,
                "programme_id": programme_id,
                "preferences": [p for p in ranked if p],
                "unavailable_dates": values.get("unavailable_dates", []),
                "consent_email": bool(values.get("consent_email")),
                "consent_sms": bool(values.get("consent_sms")),
            }
        )
    except ValidationError as error:
        empty = {n: "error.required" for n in REQUIRED if not data[n]}
        raise FormInvalid(problems_of(error) | empty) from None


def problems_of(error: ValidationError) -> dict[str, str]:
    """Field → message key, the first problem of each field."""
    problems: dict[str, str] = {}
    for item in error.errors(include_input=False, include_url=False):
        field = str(item["loc"][0]) if item["loc"] else "form"
        problems.setdefault(field, message_key(field, item["type"], str(item["msg"])))
    return problems


def message_key(field: str, error_type: str, message: str) -> str:
    """Which catalogue message explains a problem with a field."""
    if error_type in {"missing", "string_too_short"}:
        return "error.required"
    if field == "email":
        return "error.email"
    if field == "phone":
        return "error.phone_country" if "country" in message else "error.phone"
    if field.startswith("preferences"):
        return "error.duplicate_preference" if "once" in message else "error.unknown_session"
    if field == "Idempotency-Key":
        return "error.resubmitted"
    if error_type == "string_too_long":
        return "error.too_long"
    if error_type == "string_pattern_mismatch":
        return "error.invalid_chars"
    return "error.invalid"
