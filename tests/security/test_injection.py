"""CR/LF and iCalendar injection in every text field: refused (422), or harmless in one VEVENT."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from icalendar import Calendar

from deploy.local.stack import LocalStack
from tests.security.conftest import mail_to

pytestmark = pytest.mark.security
TEXT_FIELDS = ("full_name", "organisation", "role")
INJECTIONS = {
    "crlf-bcc": "X\r\nBCC: a@b.c",
    "lf-valarm": "A\nBEGIN:VALARM",
    "lone-cr": "A\rB",
    "semicolon": "Ana;ROLE=CHAIR",
    "comma": "Ana, Marko",
    "backslash": "Ana\\nMarko\\",
    "colon-mailto": "Ana:mailto:evil@example.org",
    "end-vevent": "END:VEVENT BEGIN:VEVENT",
}
CONTROL_CHARACTERS = ("\r", "\n")


def form(field: str, value: str) -> dict[str, Any]:
    """A registration whose `field` carries `value`; the email is unique to the case."""
    body: dict[str, Any] = {
        "programme_id": "social-networks-lsg",
        "full_name": "Ana Primer",
        "email": f"inject-{uuid.uuid4().hex[:10]}@opstina-primer.example",
        "organisation": "Opština Primer",
        "role": "PR officer",
        "language": "sr-Latn",
    }
    body[field] = value
    return body


def calendar_of(message: EmailMessage) -> Calendar:
    """The message's text/calendar part, parsed."""
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return Calendar.from_ical(part.get_payload(decode=True))
    raise AssertionError("no text/calendar part")


def assert_harmless(message: EmailMessage, body: dict[str, Any], field: str) -> None:
    """One recipient, no smuggled headers, exactly one VEVENT, and the attendee's text intact."""
    assert message.get_all("Bcc") is None
    assert message.get_all("Cc") is None
    assert [a.addr_spec for a in message["To"].addresses] == [body["email"]]
    calendar = calendar_of(message)
    [event] = calendar.walk("VEVENT")
    assert all(
        c.name in ("VCALENDAR", "VEVENT", "VTIMEZONE", "STANDARD", "DAYLIGHT", "VALARM")
        for c in calendar.walk()
    )
    attendees = event.get("ATTENDEE")
    attendees = attendees if isinstance(attendees, list) else [attendees]
    assert [str(a).lower() for a in attendees] == [f"mailto:{body['email']}"]
    if field == "full_name":
        assert attendees[0].params.get("CN") == body["full_name"].strip()


KNOWN: dict[tuple[str, str], str] = {}
"""Known findings, expected to fail until fixed: (field, injection) → the finding."""


def cases() -> list[Any]:
    """Every text field with every injection; known findings are expected to fail."""
    return [
        pytest.param(
            field,
            name,
            id=f"{name}-{field}",
            marks=[pytest.mark.xfail(strict=False, reason=KNOWN[(field, name)])]
            if (field, name) in KNOWN
            else [],
        )
        for field in TEXT_FIELDS
        for name in sorted(INJECTIONS)
    ]


@pytest.mark.parametrize(("field", "name"), cases())
def test_text_fields_refuse_or_round_trip_injection(
    stack: LocalStack, field: str, name: str
) -> None:
    body = form(field, INJECTIONS[name])
    response = httpx.post(f"{stack.api_url}/registrations", json=body, timeout=20)
    if any(c in INJECTIONS[name] for c in CONTROL_CHARACTERS):
        assert response.status_code == 422, "control characters must be refused at the edge"
        return
    assert response.status_code in (202, 422), response.text
    if response.status_code == 202:
        [message] = mail_to(stack.data_dir / "mail", body["email"])
        assert_harmless(message, body, field)


@pytest.mark.parametrize("value", ["a@b.c\r\nBCC: x@y.z", "a@b.c\nX-Injected: 1", "a@b.c, x@y.z"])
def test_email_field_refuses_header_injection(stack: LocalStack, value: str) -> None:
    body = form("full_name", "Ana Primer") | {"email": value}
    response = httpx.post(f"{stack.api_url}/registrations", json=body, timeout=20)
    assert response.status_code == 422
