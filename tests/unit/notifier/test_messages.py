"""The invite email: MIME structure, headers, and words in each language."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

import icalendar
import pytest

from services.notifier.messages import MailIdentity, compose_invite, message_id
from shared.contracts import SeatAssignedV1

pytestmark = pytest.mark.unit
MakeEvent = Callable[..., SeatAssignedV1]
KEY = "6f1c9b7e-2f4a-4c1e-9a43-0d8e5b1f2a10:ppz-bg-06:invite:1"


@pytest.fixture
def compose(now: datetime, identity: MailIdentity) -> Callable[..., EmailMessage]:
    """Compose an invite and return it as a receiver parses it off the wire."""

    def run(event: SeatAssignedV1, *, key: str = KEY, at: datetime = now) -> EmailMessage:
        message = compose_invite(event, identity=identity, notification_key=key, now=at)
        wire = message.as_bytes(policy=policy.SMTP)
        parsed = BytesParser(policy=policy.default).parsebytes(wire)
        assert isinstance(parsed, EmailMessage)
        return parsed

    return run


def parts(message: EmailMessage) -> dict[str, EmailMessage]:
    """The leaf parts by content type."""
    return {p.get_content_type(): p for p in message.walk() if not p.is_multipart()}


def test_mime_structure(compose: Callable[..., EmailMessage], make_event: MakeEvent) -> None:
    message = compose(make_event())
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.get_payload()] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content_disposition() == "attachment"


def test_calendar_part_declares_the_same_method_as_the_calendar(
    compose: Callable[..., EmailMessage], make_event: MakeEvent
) -> None:
    leaves = parts(compose(make_event()))
    calendar_part = leaves["text/calendar"]
    assert calendar_part.get_param("method") == "REQUEST"
    assert calendar_part.get_content_charset() == "utf-8"
    data = calendar_part.get_payload(decode=True)
    assert icalendar.Calendar.from_ical(data)["METHOD"] == "REQUEST"
    assert leaves["application/ics"].get_payload(decode=True) == data
    assert b"\r\n" in data  # CRLF survives MIME, and no bare LF appears
    assert b"\n" not in data.replace(b"\r\n", b"")


def test_headers(
    compose: Callable[..., EmailMessage], make_event: MakeEvent, now: datetime
) -> None:
    message = compose(make_event())
    assert str(message["From"]) == "Training Office <training@trainingops.example>"
    to = message["To"].addresses[0]
    assert (to.display_name, to.addr_spec) == ("Đorđe Šćekić", "djordje.scekic@opstina.example")
    assert parsedate_to_datetime(message["Date"]) == now
    assert re.fullmatch(r"<[0-9a-f]{32}@trainingops\.example>", message["Message-ID"])


def test_message_id_is_stable_per_notification_key(
    compose: Callable[..., EmailMessage], make_event: MakeEvent, now: datetime
) -> None:
    first = compose(make_event())["Message-ID"]
    again = compose(make_event(), at=now + timedelta(minutes=5))["Message-ID"]
    other = compose(make_event(), key=KEY.replace(":1", ":2"))["Message-ID"]
    assert first == again == message_id(KEY, "trainingops.example")
    assert other != first


@pytest.mark.parametrize(
    ("language", "subject", "greeting", "weekday"),
    [
        ("sr-Latn", "Potvrda mesta: ", "Poštovani/a", "sreda, 10. 6. 2026."),
        ("sr-Cyrl", "Потврда места: ", "Поштовани/а", "среда, 10. 6. 2026."),  # noqa: RUF001
        ("bs", "Potvrda mjesta: ", "Poštovani/a", "srijeda, 10. 6. 2026."),
        ("en", "Your place is confirmed: ", "Dear", "Wednesday, 10 June 2026"),
    ],
)
def test_words_in_each_language_with_every_day_and_the_zone(
    compose: Callable[..., EmailMessage],
    make_event: MakeEvent,
    language: str,
    subject: str,
    greeting: str,
    weekday: str,
) -> None:
    message = compose(make_event(attendee={"language": language}))
    assert message["Subject"] == subject + "Javne nabavke u praksi"
    leaves = parts(message)
    for kind in ("text/plain", "text/html"):
        body = leaves[kind].get_content()
        assert greeting in body
        assert f"{weekday} 09:30\N{EN DASH}16:30 (Europe/Belgrade)" in body
        assert "11. 6. 2026." in body or "11 June 2026" in body
        assert "Palata Srbije, Sala 3, Bulevar Mihajla Pupina 2, Beograd" in body


def test_html_escapes_what_the_text_shows_verbatim(
    compose: Callable[..., EmailMessage], make_event: MakeEvent
) -> None:
    leaves = parts(compose(make_event(session={"title": "<b>Obuka</b> & više"})))
    assert "&lt;b&gt;Obuka&lt;/b&gt; &amp; više" in leaves["text/html"].get_content()
    assert "„<b>Obuka</b> & više”" in leaves["text/plain"].get_content()


def test_online_sessions_show_the_link(
    compose: Callable[..., EmailMessage], make_event: MakeEvent
) -> None:
    online = {"mode": "online", "venue": None, "online_url": "https://meet.example/ppz"}
    leaves = parts(compose(make_event(session=online, attendee={"language": "en"})))
    assert "Online: https://meet.example/ppz" in leaves["text/plain"].get_content()
    assert 'href="https://meet.example/ppz"' in leaves["text/html"].get_content()
