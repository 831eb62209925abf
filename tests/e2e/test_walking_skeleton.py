"""The whole system as `make run` starts it: HTTP in, invite email out, through the real broker."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from icalendar import Calendar

from deploy.local.stack import SERVICES, LocalStack, StackSettings
from deploy.ports import free_port
from shared.catalogue import load_catalogue

pytestmark = pytest.mark.e2e

REGISTRANT = {
    "programme_id": "social-networks-lsg",
    "full_name": "Jelena Đorđević-Šćepanović",
    "email": "jelena.djordjevic@opstina-primer.rs",
    "phone": "064 123 4567",
    "organisation": "Opština Primer",
    "role": "PR officer",
    "language": "sr-Latn",
    "preferences": [],
    "consent_email": True,
    "consent_sms": True,
}


@pytest.fixture(scope="module")
def stack(
    service_kafka: str, tmp_path_factory: pytest.TempPathFactory, repo_root: Path
) -> Iterator[LocalStack]:
    """The three services, an SMTP capture server and an SMS sink, on the session's real broker."""
    settings = StackSettings(
        kafka_bootstrap_servers=service_kafka,
        smtp_port=free_port(),
        http_port=free_port(),
        sms_sink_port=free_port(),
        admin_http_port=free_port(),
        data_dir=tmp_path_factory.mktemp("stack"),
        catalogue_path=repo_root / "deploy/seed/programmes.yaml",
    )
    with LocalStack(settings) as running:
        yield running


def lines_of(stack: LocalStack, service: str) -> list[str]:
    """A service's log lines, from each of its processes (the notifier's delivery-only ones too)."""
    names = (service, *stack.dispatchers) if service == "notifier" else (service,)
    return [line for name in names for line in stack.log_path(name).read_text("utf-8").splitlines()]


def recipient(message: EmailMessage) -> str:
    """The single To address of a message."""
    [address] = message["To"].addresses
    return str(address.addr_spec)


def wait_for_mail(
    mail_dir: Path, recipients: set[str], count: int, timeout: float = 30.0
) -> list[EmailMessage]:
    """Poll the capture folder until `count` messages to `recipients` are there (trainers get mail too)."""
    deadline = time.monotonic() + timeout
    found: list[EmailMessage] = []
    while time.monotonic() < deadline:
        files = sorted(mail_dir.glob("*.eml")) if mail_dir.exists() else []
        parsed = [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
        found = [m for m in parsed if recipient(m) in recipients]  # type: ignore[arg-type]
        if len(found) >= count:
            return found
        time.sleep(0.2)
    raise AssertionError(f"expected {count} messages to {recipients}, found {len(found)}")


def calendar_part(message: EmailMessage) -> tuple[str, Calendar]:
    """Return the text/calendar part's method parameter and the parsed calendar."""
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return str(part.get_param("method")), Calendar.from_ical(part.get_payload(decode=True))
    raise AssertionError("no text/calendar part")


def test_registration_becomes_an_invite(stack: LocalStack, repo_root: Path) -> None:
    started = time.monotonic()
    response = httpx.post(
        f"{stack.api_url}/registrations",
        json=REGISTRANT,
        headers={"X-Correlation-ID": "e2e-walking-skeleton"},
    )
    assert response.status_code == 202, response.text
    registration_id = response.json()["registration_id"]

    [message] = wait_for_mail(stack.data_dir / "mail", {REGISTRANT["email"]}, 1)
    elapsed = time.monotonic() - started
    assert elapsed < 15, f"invite took {elapsed:.1f}s"
    method, calendar = calendar_part(message)
    assert method == "REQUEST"
    assert calendar["METHOD"] == "REQUEST"
    assert calendar.walk("VTIMEZONE"), "the invite must carry its VTIMEZONE"

    status = httpx.get(response.json()["status_url"]).json()
    assert status["status"] == "assigned"
    assert status["registration_id"] == registration_id
    assert datetime.fromisoformat(status["updated_at"]) <= datetime.now(UTC)
    session = (
        load_catalogue(repo_root / "deploy/seed/programmes.yaml")
        .programme(REGISTRANT["programme_id"])
        .session(status["session_id"])
    )
    [event] = calendar.walk("VEVENT")
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert str(start.tzinfo) == session.timezone == "Europe/Belgrade"
    assert start == session.utc_days[0].starts_at
    assert end == session.utc_days[0].ends_at
    assert str(event["SUMMARY"]) == session.title
    assert "SKIP" in str(event["LOCATION"])


def test_same_person_gets_same_id_and_no_second_invite(stack: LocalStack) -> None:
    first = httpx.post(f"{stack.api_url}/registrations", json=REGISTRANT)
    again = httpx.post(
        f"{stack.api_url}/registrations", json={**REGISTRANT, "email": REGISTRANT["email"].upper()}
    )
    assert first.status_code == again.status_code == 202
    assert first.json()["registration_id"] == again.json()["registration_id"]
    # A barrier instead of a sleep: the next registrant's invite arrives after any (wrong) duplicate would.
    other = {**REGISTRANT, "email": "marko.markovic@grad-primer.rs", "full_name": "Marko Marković"}
    assert httpx.post(f"{stack.api_url}/registrations", json=other).status_code == 202
    people = {REGISTRANT["email"], other["email"]}
    messages = wait_for_mail(stack.data_dir / "mail", people, 2)
    assert sorted(recipient(m) for m in messages) == sorted(people), "exactly one invite each"


def test_correlation_id_follows_the_registration_and_logs_hold_no_personal_data(
    stack: LocalStack,
) -> None:
    lines = {service: lines_of(stack, service) for service in SERVICES}
    for service, service_lines in lines.items():
        records = [json.loads(line) for line in service_lines if line.startswith("{")]
        assert any(r.get("correlation_id") == "e2e-walking-skeleton" for r in records), service
        assert all(r.get("service") == service for r in records if "service" in r)
    sent = [
        json.loads(x)
        for x in lines["notifier"]
        if '"invite.sent"' in x or '"notification.sent"' in x
    ]
    assert any(r.get("correlation_id") == "e2e-walking-skeleton" for r in sent), (
        "the email's log line"
    )
    everything = "\n".join("\n".join(v) for v in lines.values())
    secrets = (
        "jelena",
        "Jelena",
        "Đorđević",
        "Marko",
        "opstina-primer",
        "grad-primer",
        "+381641234567",
        "064 123 4567",
    )
    for secret in secrets:
        assert secret not in everything, f"personal data in logs: {secret!r}"


def test_a_full_session_puts_the_next_person_on_the_waitlist_and_tells_them(
    stack: LocalStack, repo_root: Path
) -> None:
    programme = load_catalogue(repo_root / "deploy/seed/programmes.yaml").programme(
        "social-media-bih"
    )
    [session] = programme.sessions
    staff = {"Authorization": f"Bearer {stack.env['STAFF_API_TOKENS'].split(',')[0]}"}
    people = [
        {
            **REGISTRANT,
            "programme_id": programme.id,
            "email": f"sluzbenik.{n}@institucija.example",
            "full_name": f"Službenik Institucije {n}",
            "organisation": f"Institucija {n // 3}",  # at most 3 per institution (the cap)
            "language": "bs",
            "preferences": [session.id],
            "consent_sms": False,
        }
        for n in range(session.capacity + 1)
    ]
    answers = [
        httpx.post(f"{stack.api_url}/registrations", json=person, headers=staff)
        for person in people
    ]
    assert [a.status_code for a in answers] == [202] * len(people)
    last = people[-1]["email"]

    messages = wait_for_mail(stack.data_dir / "mail", {p["email"] for p in people}, len(people))
    [waiting] = [m for m in messages if recipient(m) == last]
    assert waiting["Subject"] == f"Na listi čekanja ste: {programme.title}"
    assert not any(p.get_content_type() == "text/calendar" for p in waiting.walk())
    body = waiting.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "na listi čekanja, pod rednim brojem 1." in body
    invited = [m for m in messages if recipient(m) != last]
    assert all(calendar_part(m)[0] == "REQUEST" for m in invited)
    assert len({recipient(m) for m in messages}) == len(people), "one message each"
    status_url = answers[-1].json()["status_url"]
    status = httpx.get(status_url).json()
    assert (status["status"], status["waitlist_position"]) == ("waitlisted", 1)

    [leave] = re.findall(r"https?://\S+/r/\S+", body)  # the link to leave the waitlist
    assert leave.startswith(stack.api_url)
    assert "Odjava s liste čekanja" in httpx.get(leave).text
    assert "Odjavljeni ste s liste čekanja" in httpx.post(leave).text
    deadline = time.monotonic() + 30
    while httpx.get(status_url).json()["status"] != "cancelled":
        assert time.monotonic() < deadline, "the scheduler never took them off the list"
        time.sleep(0.2)
