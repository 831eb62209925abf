"""The invite email: MIME structure, headers, and words in each language."""

from __future__ import annotations

import re
from base64 import encodebytes
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.header import Header, decode_header, make_header
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

import icalendar
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from services.notifier import wording
from services.notifier.ics import Invite, build_invite
from services.notifier.messages import (
    UTF8_WORDS,
    WIRE,
    Body,
    MailIdentity,
    compose_email,
    flatten,
    mailbox,
    message_id,
    multipart,
    one_line,
    quoted_printable,
    text_part,
    unstructured,
    wire_lines,
    wire_message,
    with_calendar,
)
from services.notifier.notices import Notice
from services.notifier.personal_links import LinkMaker
from shared.contracts import SeatAssignedV1
from shared.links import LinkSigner
from tests.unit.notifier.conftest import notice_of

pytestmark = pytest.mark.unit
MakeEvent = Callable[..., SeatAssignedV1]
KEY = "6f1c9b7e-2f4a-4c1e-9a43-0d8e5b1f2a10:ppz-bg-06:invite:1"
SIGNER = LinkSigner("unit-test-secret-0123456789")
LINKS = LinkMaker(SIGNER, "https://prijave.example")
LINK_END = datetime(2027, 5, 4, 8, 15, tzinfo=UTC)


@pytest.fixture
def compose(now: datetime, identity: MailIdentity) -> Callable[..., EmailMessage]:
    """Compose an invite and return it as a receiver parses it off the wire."""

    def run(
        event: SeatAssignedV1, *, kind: str = "invite", at: datetime = now, **fields: object
    ) -> EmailMessage:
        notice = notice_of(event, kind, **fields)  # type: ignore[arg-type]
        links = LINKS.links_for(notice)
        mail = compose_email(notice, identity=identity, links=links, now=at)
        parsed = BytesParser(policy=policy.default).parsebytes(mail.data)
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
    other = compose(make_event(revision=2))["Message-ID"]
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


def tokens_in(text: str) -> list[str]:
    """The tokens of the personal links in a text."""
    return re.findall(r"https://prijave\.example/r/([A-Za-z0-9._-]+)", text)


def test_a_cancellation_email_carries_method_cancel_in_mime_and_calendar(
    compose: Callable[..., EmailMessage], make_event: MakeEvent
) -> None:
    leaves = parts(compose(make_event(revision=2), kind="cancellation"))
    calendar_part = leaves["text/calendar"]
    assert calendar_part.get_param("method") == "CANCEL"
    calendar = icalendar.Calendar.from_ical(calendar_part.get_payload(decode=True))
    assert calendar["METHOD"] == "CANCEL"
    assert calendar.events[0]["STATUS"] == "CANCELLED"
    assert tokens_in(leaves["text/plain"].get_content()) == []  # nothing left to cancel


def test_personal_cancel_link_is_in_the_body_and_never_in_the_calendar(
    compose: Callable[..., EmailMessage], make_event: MakeEvent, now: datetime
) -> None:
    event = make_event(revision=2)
    leaves = parts(compose(event, kind="update"))
    [token] = tokens_in(leaves["text/plain"].get_content())
    assert f'href="https://prijave.example/r/{token}"' in leaves["text/html"].get_content()
    claim = SIGNER.verify(token, now=now)
    assert (claim.registration_id, claim.action) == (event.registration_id, "cancel")
    assert (claim.session_id, claim.revision) == ("ppz-bg-06", 2)
    assert claim.expires_at == event.session.days[0].starts_at
    for leaf in (leaves["text/calendar"], leaves["application/ics"]):
        assert token.encode() not in leaf.get_payload(decode=True)
        assert b"prijave.example" not in leaf.get_payload(decode=True)


@pytest.mark.parametrize(
    ("language", "deadline"),
    [
        ("sr-Latn", "do četvrtak, 7. 5. 2026. 18:00 (Europe/Belgrade)"),
        ("sr-Cyrl", "до четвртак, 7. 5. 2026. 18:00 (Europe/Belgrade)"),
        ("bs", "do četvrtak, 7. 5. 2026. 18:00 (Europe/Belgrade)"),
        ("en", "by Thursday, 7 May 2026 18:00 (Europe/Belgrade)"),
    ],
)
def test_an_offer_has_accept_and_decline_links_and_the_deadline_in_the_session_zone(
    compose: Callable[..., EmailMessage],
    make_event: MakeEvent,
    now: datetime,
    language: str,
    deadline: str,
) -> None:
    expires_at = datetime.fromisoformat("2026-05-07T16:00:00+00:00")  # 18:00 CEST
    event = make_event(revision=4, attendee={"language": language})
    message = compose(event, kind="offer", expires_at=expires_at)
    leaves = parts(message)
    assert set(leaves) == {"text/plain", "text/html"}  # no invite before the seat is accepted
    text = leaves["text/plain"].get_content()
    assert deadline in text
    claims = [SIGNER.verify(t, now=now) for t in tokens_in(text)]
    assert [c.action for c in claims] == ["accept-offer", "decline-offer"]
    assert {(c.session_id, c.revision, c.expires_at) for c in claims} == {
        ("ppz-bg-06", 4, expires_at)
    }
    assert all(c.registration_id == event.registration_id for c in claims)


@pytest.mark.parametrize(
    ("language", "subjects"),
    [
        (
            "sr-Latn",
            ("Potvrda mesta", "Izmena", "Otkazano", "Oslobodilo se mesto za Vas", "Podsetnik"),
        ),
        (
            "sr-Cyrl",
            ("Потврда места", "Измена", "Отказано", "Ослободило се место за Вас", "Подсетник"),  # noqa: RUF001
        ),
        (
            "bs",
            ("Potvrda mjesta", "Izmjena", "Otkazano", "Oslobodilo se mjesto za Vas", "Podsjetnik"),
        ),
        (
            "en",
            (
                "Your place is confirmed",
                "Changed",
                "Cancelled",
                "A place is free for you",
                "Reminder",
            ),
        ),
    ],
)
def test_every_kind_has_its_subject_in_every_language(
    compose: Callable[..., EmailMessage],
    make_event: MakeEvent,
    language: str,
    subjects: tuple[str, ...],
) -> None:
    event = make_event(attendee={"language": language})
    kinds = ("invite", "update", "cancellation", "offer", "reminder")
    for kind, subject in zip(kinds, subjects, strict=True):
        extra = (
            {"expires_at": datetime.fromisoformat("2026-05-07T16:00:00+00:00")}
            if kind == "offer"
            else {}
        )
        message = compose(event, kind=kind, **extra)
        assert message["Subject"] == f"{subject}: Javne nabavke u praksi"
        body = parts(message)["text/plain"].get_content()
        assert "(Europe/Belgrade)" in body
        assert ("text/calendar" in parts(message)) == (kind in ("invite", "update", "cancellation"))


CYRILLIC = "Александра Милошевић-Петровић Јовановић"


def leaf_summary(message: EmailMessage) -> list[tuple[str, dict[str, str], str | None]]:
    """Every part in order: content type, parameters (boundaries aside), disposition."""
    return [
        (
            part.get_content_type(),
            {
                k: v
                for k, v in part.get_params() or []
                if k not in ("boundary", part.get_content_type())
            },
            part.get_content_disposition(),
        )
        for part in message.walk()
    ]


def rfc2047_decoded(data: bytes, field: str) -> str:
    """A header decoded per RFC 2047 (the default policy's address parser keeps the spaces
    between adjacent encoded words, which RFC 2047 says to drop)."""
    raw = message_from_bytes(data)[field]
    return str(make_header(decode_header(raw)))


def test_golden_parse_of_an_invite_to_a_cyrillic_name(
    make_event: MakeEvent, now: datetime, identity: MailIdentity
) -> None:
    event = make_event(attendee={"language": "sr-Cyrl", "full_name": CYRILLIC})
    notice = notice_of(event)
    mail = compose_email(notice, identity=identity, links=LINKS.links_for(notice), now=now)
    message = BytesParser(policy=policy.default).parsebytes(mail.data)
    assert isinstance(message, EmailMessage)
    assert leaf_summary(message) == [
        ("multipart/mixed", {}, None),
        ("multipart/alternative", {}, None),
        ("text/plain", {"charset": "utf-8"}, None),
        ("text/html", {"charset": "utf-8"}, None),
        ("text/calendar", {"charset": "utf-8", "method": "REQUEST"}, None),
        ("application/ics", {}, "attachment"),
    ]
    assert [part.get("MIME-Version") for part in message.walk()] == ["1.0"] + [None] * 5
    assert [part["Content-Transfer-Encoding"] for part in message.walk()][2:] == (
        ["quoted-printable"] * 2 + ["base64"] * 2
    )
    assert rfc2047_decoded(mail.data, "To") == f"{CYRILLIC} <djordje.scekic@opstina.example>"
    assert message["Subject"] == "Потврда места: Javne nabavke u praksi"
    assert message["From"] == "Training Office <training@trainingops.example>"
    assert message["Content-Language"] == "sr-Cyrl"
    assert (mail.sender, mail.recipients) == (
        "training@trainingops.example",
        ("djordje.scekic@opstina.example",),
    )
    assert mail.message_id == message["Message-ID"] == message_id(notice.key, "trainingops.example")
    leaves = parts(message)
    text = leaves["text/plain"].get_content()
    assert text.startswith(f"Поштовани/а {CYRILLIC},")  # noqa: RUF001
    html = leaves["text/html"].get_content().replace("\r\n", "\n")  # CRLF on the wire
    assert html == wording.html_of("sr-Cyrl", text.replace("\r\n", "\n"))
    calendar = build_invite(Invite(notice, identity.organizer, now))
    assert leaves["text/calendar"].get_payload(decode=True) == calendar
    assert leaves["application/ics"].get_payload(decode=True) == calendar


def test_each_multipart_header_is_one_line_with_its_own_boundary(
    make_event: MakeEvent, now: datetime, identity: MailIdentity
) -> None:
    notice = notice_of(make_event())
    data = compose_email(notice, identity=identity, links=LINKS.links_for(notice), now=now).data
    headers = re.findall(rb"^Content-Type: multipart/(\w+); boundary=\"([^\"]+)\"\r\n", data, re.M)
    assert [subtype for subtype, _ in headers] == [b"mixed", b"alternative"]
    boundaries = {boundary for _, boundary in headers}
    assert len(boundaries) == 2
    assert all(data.count(b"\r\n--" + b + b"--\r\n") == 1 for b in boundaries)


def test_the_wire_is_seven_bit_crlf_with_short_lines_and_short_encoded_words(
    compose: Callable[..., EmailMessage],
    make_event: MakeEvent,
    now: datetime,
    identity: MailIdentity,
) -> None:
    long_title = "Обука за односе с јавношћу у јединицама локалне самоуправе, други део"  # noqa: RUF001
    event = make_event(attendee={"full_name": CYRILLIC * 2}, session={"title": long_title})
    notice = notice_of(event)
    data = compose_email(notice, identity=identity, links=LINKS.links_for(notice), now=now).data
    assert data.isascii()
    lines = data.split(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"\r" not in data.replace(b"\r\n", b"")
    assert max(len(line) for line in lines) <= 78
    assert all(len(word) <= 75 for word in re.findall(rb"=\?[^?]+\?[bBqQ]\?[^?]*\?=", data))
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert message["Subject"] == f"Potvrda mesta: {long_title}"
    assert rfc2047_decoded(data, "To").startswith(CYRILLIC * 2 + " <")


HEADER_NAMES = ("From", "To", "Subject", "Message-ID", "Content-Type", "Content-Disposition")


@given(
    st.sampled_from(HEADER_NAMES),
    st.text(
        st.one_of(
            st.characters(blacklist_categories=("Cs",)),  # compat32 itself cannot write these
            st.characters(min_codepoint=32, max_codepoint=126),
        )
    ),
)
def test_the_wire_policy_writes_every_header_as_compat32_does(name: str, value: str) -> None:
    compat32_wire = policy.compat32.clone(linesep="\r\n", mangle_from_=False, max_line_length=76)
    assert WIRE.fold_binary(name, value) == compat32_wire.fold_binary(name, value)


BODY_TEXT = st.lists(
    st.one_of(
        st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r")),
        st.sampled_from([" ", "\t", "=", ".", "\n", "\n.\n", "From ", "=?", "č", "Ђ", "x" * 80]),
    )
).map("".join)


@example("\U00010000\U000100000\x1f\x800\x80\U00010000\U00010000000000000 \n", "plain")
@given(BODY_TEXT, st.sampled_from(["plain", "html"]))
def test_a_text_part_reads_back_as_written_in_seven_bit_lines_of_76(
    body: str, subtype: str
) -> None:
    message = MIMEMultipart("mixed", _subparts=[text_part(subtype, quoted_printable(body))])
    data = flatten(message)
    assert data.isascii()
    assert max(len(line) for line in data.split(b"\r\n")) <= 76
    [part] = message_from_bytes(data).get_payload()
    assert part["Content-Type"] == f'text/{subtype}; charset="utf-8"'
    assert part.get_payload(decode=True).decode("utf-8").replace("\r\n", "\n") == body


@given(st.text(st.sampled_from("ab =.\t\r\n")))
def test_a_payload_goes_on_the_wire_as_the_bytes_generator_writes_it(payload: str) -> None:
    part = MIMENonMultipart("text", "plain")
    part.set_payload(payload)
    _, written = flatten(part).split(b"\r\n\r\n", 1)
    assert written == wire_lines(payload)


def written_whole(body: Body, mail_id: str, headers: dict[str, str]) -> bytes:
    """The message built and flattened whole by the library: what `wire_message` must write."""
    texts = [
        text_part(s, quoted_printable(t)) for s, t in (("plain", body.text), ("html", body.html))
    ]
    if body.calendar is None:
        message = multipart("alternative", texts, mail_id)
    else:
        encoded = encodebytes(body.calendar).decode("ascii")
        message = with_calendar(texts, encoded, body.method, mail_id)
    for name, value in headers.items():
        message[name] = value
    return flatten(message)  # BytesGenerator over the whole message


NAMES = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@given(
    BODY_TEXT,
    BODY_TEXT,
    st.one_of(st.none(), st.binary(max_size=3000)),
    st.sampled_from(["REQUEST", "CANCEL"]),
    st.text(min_size=1),
    NAMES,
    NAMES,
)
def test_a_message_is_written_as_the_library_writes_it_whole(
    text: str, html: str, calendar: bytes | None, method: str, key: str, name: str, subject: str
) -> None:
    mail_id = message_id(key, "trainingops.example")
    headers = {
        "From": mailbox("Kancelarija za obuke", "obuke@trainingops.example", "From"),
        "To": mailbox(name, "participant@opstina.example"),
        "Subject": unstructured(subject),
        "Date": "Tue, 01 Dec 2026 18:00:00 +0000",
        "Message-ID": mail_id,
        "Content-Language": "sr-Latn",
    }
    body = Body(text, html, calendar, method)
    assert wire_message(body, mail_id, headers) == written_whole(body, mail_id, headers)


def compat32_mailbox(name: str, addr_spec: str, field: str) -> bytes:
    """The address header as compat32 folds a Header holding the name and the address."""
    header = Header(one_line(name), UTF8_WORDS, header_name=field)
    header.append(f"<{addr_spec}>", "us-ascii")
    return policy.compat32.clone(linesep="\r\n", max_line_length=76).fold_binary(field, header)


@given(
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1).filter(
        lambda name: not one_line(name).isascii()
    ),
    st.emails(),
    st.sampled_from(["To", "From"]),
)
def test_a_non_ascii_name_is_written_as_compat32_writes_it(
    name: str, addr_spec: str, field: str
) -> None:
    ours = WIRE.fold_binary(field, mailbox(name, addr_spec, field))
    assert ours == compat32_mailbox(name, addr_spec, field)


@given(st.text(st.characters(blacklist_categories=("Cs", "Cc"))), st.sampled_from(["Subject"]))
def test_a_subject_is_written_as_compat32_writes_it(text: str, field: str) -> None:
    compat32 = policy.compat32.clone(linesep="\r\n", max_line_length=76)
    value = one_line(text)
    encoded = Header(value, UTF8_WORDS, header_name=field)
    expected = value if value.isascii() and "=?" not in value else encoded
    assert WIRE.fold_binary(field, unstructured(text, field)) == compat32.fold_binary(
        field, expected
    )


@pytest.mark.parametrize(
    "name", ["X\r\nBcc: a@b.c", "A\rB", "Ana\nSubject: x", 'Ana "Anči" Primer', "=?utf-8?q?Boss?="]
)
def test_names_cannot_inject_headers_or_forge_encoded_words(
    make_event: MakeEvent, now: datetime, identity: MailIdentity, name: str
) -> None:
    # The contracts refuse control characters; this is the second line of defence.
    notice = notice_of(make_event())
    notice = notice.model_copy(
        update={
            "recipient": notice.recipient.model_copy(update={"full_name": name}),
            "session": notice.session.model_copy(update={"title": "Obuka\r\nBcc: x@y.z"}),
        }
    )
    mail = compose_email(notice, identity=identity, links={}, now=now)
    message = BytesParser(policy=policy.default).parsebytes(mail.data)
    assert isinstance(message, EmailMessage)
    assert message.get_all("Bcc") is None
    assert len(message.get_all("Subject")) == len(message.get_all("To")) == 1
    assert message["Subject"] == "Potvrda mesta: Obuka Bcc: x@y.z"
    [to] = message["To"].addresses
    assert to.addr_spec == "djordje.scekic@opstina.example"
    assert to.display_name == " ".join(name.split())


def test_offers_and_reminders_are_one_alternative_without_a_calendar(
    make_event: MakeEvent, now: datetime, identity: MailIdentity
) -> None:
    event = make_event(attendee={"full_name": CYRILLIC})
    for kind in ("offer", "reminder"):
        notice = notice_of(event, kind)  # type: ignore[arg-type]
        mail = compose_email(notice, identity=identity, links=LINKS.links_for(notice), now=now)
        message = BytesParser(policy=policy.default).parsebytes(mail.data)
        assert isinstance(message, EmailMessage)
        assert leaf_summary(message) == [
            ("multipart/alternative", {}, None),
            ("text/plain", {"charset": "utf-8"}, None),
            ("text/html", {"charset": "utf-8"}, None),
        ]


@pytest.mark.parametrize(
    ("language", "subject", "place", "leave"),
    [
        (
            "sr-Latn",
            "Na listi čekanja ste",
            "listi čekanja, pod rednim brojem 4.",
            "liste čekanja ovde",
        ),
        (
            "sr-Cyrl",
            "На листи чекања сте",  # noqa: RUF001
            "листи чекања, под редним бројем 4.",
            "листе чекања овде",
        ),
        (
            "bs",
            "Na listi čekanja ste",
            "listi čekanja, pod rednim brojem 4.",
            "liste čekanja ovdje",
        ),
        ("en", "You are on the waiting list", "waiting list, at number 4.", "waiting list here"),
    ],
)
def test_a_waitlist_email_names_the_programme_and_the_place_in_every_language(
    make_event: MakeEvent,
    now: datetime,
    identity: MailIdentity,
    language: str,
    subject: str,
    place: str,
    leave: str,
) -> None:
    event = make_event(attendee={"language": language})
    waiting = {"kind": "waitlisted", "session": None, "position": 4, "expires_at": LINK_END}
    notice = Notice.model_validate(
        notice_of(event).model_dump() | waiting | {"programme_title": "Odnosi s javnošću"}
    )
    mail = compose_email(notice, identity=identity, links=LINKS.links_for(notice), now=now)
    message = BytesParser(policy=policy.default).parsebytes(mail.data)
    assert isinstance(message, EmailMessage)
    assert message["Subject"] == f"{subject}: Odnosi s javnošću"
    assert [kind for kind, _, _ in leaf_summary(message)] == [
        "multipart/alternative",
        "text/plain",
        "text/html",
    ]
    text = parts(message)["text/plain"].get_content()
    assert place in text
    assert f"{leave}: https://prijave.example/r/" in text
    assert "Odnosi s javnošću" in text
    assert "Europe/Belgrade" not in text  # no session, no days
    assert "Odnosi s javnošću" in parts(message)["text/html"].get_content()


def test_a_waitlist_notice_has_no_session_and_every_other_notice_has_one(
    make_event: MakeEvent,
) -> None:
    event = make_event()
    invite = notice_of(event, "invite").model_dump()
    with pytest.raises(ValueError, match="session"):
        Notice.model_validate(invite | {"session": None})  # an invite without its session
    with pytest.raises(ValueError, match="session"):
        notice_of(event, "waitlisted", position=1)  # a waitlist notice naming a session
    waiting = Notice.model_validate(invite | {"kind": "waitlisted", "session": None})
    assert waiting.key == f"{event.registration_id}::waitlisted:1"
    with pytest.raises(ValueError, match="no session"):
        _ = waiting.required_session
