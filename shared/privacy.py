"""Keep personal data out of logs: redact what looks like an email or a phone number."""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping
from typing import Any

from phonenumbers import Leniency, PhoneNumberMatcher

EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
MIN_PHONE_DIGITS = 7
PHONE_LIKE = re.compile(rf"\d(?:\W{{0,3}}\d){{{MIN_PHONE_DIGITS - 1},}}")
"""Seven digits or more, at most three separators (space, dash, dot, slash...) apart."""
DEFAULT_REGION = "RS"
PERSONAL_KEYS = frozenset(
    {"email", "phone", "full_name", "name", "to", "recipient", "recipients", "attendee"}
)
REDACTED = "[redacted]"
IDENTIFIER = re.compile(
    r"(?<![\w-])(?:"
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
    r"|(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r")(?![\w-])"
)
"""A UUID (dashed or hex) or an ISO date/time standing alone: never personal, left intact."""


def redact_phones(text: str) -> str:
    """Replace valid phone numbers (libphonenumber, default region Serbia); dates, IPs, ids stay."""
    if sum(map(str.isdigit, text)) < MIN_PHONE_DIGITS:
        return text  # cheap pre-check: most log values hold no phone number
    if IDENTIFIER.fullmatch(text):
        return text  # a lone id or time, the commonest value with digits: nothing to search
    masked = IDENTIFIER.sub(_blank, text)  # ids and times are not searched: keys are full of them
    if not PHONE_LIKE.search(masked):
        return text
    for match in reversed(
        list(PhoneNumberMatcher(masked, DEFAULT_REGION, leniency=Leniency.VALID))
    ):
        text = text[: match.start] + "[phone]" + text[match.end :]
    return text


def _blank(match: re.Match[str]) -> str:
    return "_" * len(match.group())


def redact_text(text: str) -> str:
    """Replace email addresses and phone numbers in `text`."""
    return redact_phones(EMAIL.sub("[email]", text) if "@" in text else text)  # no @, no address


def redact_value(value: Any) -> Any:
    """Redact strings inside a value, recursing into mappings and sequences."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: REDACTED if k in PERSONAL_KEYS else redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


def redact_event_dict(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor: no raw email, phone number or personal field reaches the output."""
    for key, value in list(event_dict.items()):
        event_dict[key] = REDACTED if key in PERSONAL_KEYS else redact_value(value)
    return event_dict
