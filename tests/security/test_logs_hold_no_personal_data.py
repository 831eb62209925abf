"""After a full end-to-end run, no log line of any process holds a registrant's name, email or phone."""

from __future__ import annotations

import uuid

import httpx
import phonenumbers
import pytest

from deploy.local.stack import LocalStack
from tests.security.conftest import mail_to

pytestmark = pytest.mark.security
PEOPLE = [  # full name, phone as typed, the email's local part
    ("Dragana Vukosavljević", "064 555 0199", "dragana.vukosavljevic"),
    ("Nikola Đurđević-Šaranović", "+387 61 555 024", "nikola.saranovic"),
    ("Светлана Јовановић", "065 555 0178", "svetlana.jovanovic"),
]


def phone_forms(raw: str, region: str = "RS") -> set[str]:
    """The ways a number may appear: as typed, E.164, national and its bare digits."""
    number = phonenumbers.parse(raw, region)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return {raw, e164, national, e164.lstrip("+"), str(number.national_number)}


def name_forms(full_name: str) -> set[str]:
    """The full name and each of its parts longer than three letters."""
    parts = full_name.replace("-", " ").split()
    return {full_name, *(p for p in parts if len(p) > 3)}


def test_no_personal_data_in_any_log(stack: LocalStack) -> None:
    secrets: set[str] = set()
    for full_name, phone, person in PEOPLE:
        local = f"{person}.{uuid.uuid4().hex[:6]}"
        email = f"{local}@grad-tajna.example"
        body = {
            "programme_id": "social-networks-lsg",
            "full_name": full_name,
            "email": email,
            "phone": phone,
            "organisation": "Grad Tajna",
            "consent_sms": True,
        }
        response = httpx.post(f"{stack.api_url}/registrations", json=body, timeout=20)
        assert response.status_code == 202, response.text
        mail_to(stack.data_dir / "mail", email)
        secrets |= name_forms(full_name) | phone_forms(phone) | {email, local, person}
    logs = sorted((stack.data_dir / "logs").glob("*.log"))
    assert {p.stem for p in logs} >= {"registration", "scheduler", "notifier"}
    text = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in logs)
    assert "invite.sent" in text, "the run must have reached the notifier"
    leaked = sorted(s for s in secrets if s in text or s.lower() in text.lower())
    assert leaked == [], f"personal data in the logs: {leaked}"
