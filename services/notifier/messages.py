"""Compose emails (iMIP, RFC 6047, for calendar notices): pure, one key gives one Message-ID.

The MIME structure is the standard library's compat32 classes, flattened: the EmailMessage API
parses every header it is given and refolds it when flattening, which cost about three times the
CPU for the same message on the wire. Each shape of message (with a calendar of a method, or
without) is built and flattened once, with placeholders where a message's own bytes go; each
message fills them in, two fifths of composing's CPU saved (a property test holds the bytes equal
to what the library writes for the whole message).
"""

from __future__ import annotations

import functools
import hashlib
import re
from base64 import b64encode, encodebytes
from binascii import b2a_qp
from dataclasses import dataclass
from datetime import datetime
from email import charset, quoprimime
from email.generator import BytesGenerator
from email.header import Header
from email.headerregistry import Address
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import Compat32
from email.utils import format_datetime, formataddr
from io import BytesIO

from services.notifier import wording
from services.notifier.ics import Invite, build_invite
from services.notifier.notices import Notice
from services.notifier.ports import OutgoingMail

# Text bodies travel quoted-printable (readable, 7-bit); headers as RFC 2047 encoded words,
# base64 ("B"): choosing the shorter of Q and B measured both, octet by octet, for every word.
UTF8_WORDS = charset.Charset("utf-8")
UTF8_WORDS.header_encoding = charset.BASE64
PRINTABLE = re.compile(r"[ -~]*")


class Encoded(str):
    """A header value already folded and encoded for the wire, as compat32 would write it."""


class WirePolicy(Compat32):
    """compat32, except that a printable ASCII header that fits on one line is written as is.

    That is what compat32 writes for it too (a property test holds the two equal), without
    wrapping the value in a `Header` to find that it needs no folding or encoding; so is a value
    already `Encoded`.
    """

    def fold_binary(self, name: str, value: object) -> bytes:
        """The header as wire bytes, folded and encoded where it must be."""
        if isinstance(value, Encoded) or (
            isinstance(value, str)
            and len(name) + len(value) + 2 <= (self.max_line_length or 78)
            and PRINTABLE.fullmatch(value)
        ):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)  # type: ignore[arg-type]


LINE_ENDS = re.compile(r"\r\n|\r|\n")  # what the generator splits payloads on (its NLCRE)


def wire_lines(payload: str) -> bytes:
    """A payload as BytesGenerator writes it: every line end a CRLF (a property test holds it)."""
    if "\r" not in payload:  # what the encoders write: bare LFs, for a plain replace
        return payload.replace("\n", "\r\n").encode("ascii", "surrogateescape")
    return LINE_ENDS.sub("\r\n", payload).encode("ascii", "surrogateescape")


# Every line ends in CRLF as SMTP wants it; no ">From " mangling of body lines; headers fold
# at 76, so that an encoded word after the leading space stays within RFC 2047's 75 characters.
MAX_LINE = 76
WIRE = WirePolicy(linesep="\r\n", mangle_from_=False, max_line_length=MAX_LINE)
# CR, LF and other control characters never reach a header: no header injection.
CONTROLS = re.compile(r"[\x00-\x1f\x7f]+")
BOUNDARY_DIGITS = 8


@dataclass(frozen=True)
class MailIdentity:
    """Who the mail is from, and who organises the events in it."""

    sender: Address
    organizer: Address


def message_id(notification_key: str, domain: str) -> str:
    """A Message-ID derived from the notification key: a resend is recognisably the same mail."""
    digest = hashlib.sha256(notification_key.encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def compose_email(
    notice: Notice, *, identity: MailIdentity, links: dict[str, str], now: datetime
) -> OutgoingMail:
    """Text and HTML; for calendar notices also the calendar, inline and as `invite.ics`."""
    language = notice.recipient.language
    values = wording.context(notice, identity.organizer, links)
    text = wording.render(language, "body.txt.j2", values)
    mail_id = message_id(notice.key, identity.sender.domain)
    headers = {
        "From": mailbox(identity.sender.display_name, identity.sender.addr_spec, "From"),
        "To": mailbox(notice.recipient.full_name, notice.recipient.email),
        "Subject": unstructured(wording.render(language, "subject.txt.j2", values)),
        "Date": format_datetime(now),
        "Message-ID": mail_id,
        "Content-Language": language,
    }
    calendar = build_invite(Invite(notice, identity.organizer, now)) if notice.is_calendar else None
    body = Body(text, wording.html_of(language, text), calendar, notice.method)
    data = wire_message(body, mail_id, headers)
    return OutgoingMail(identity.sender.addr_spec, (notice.recipient.email,), mail_id, data)


@dataclass(frozen=True)
class Body:
    """What a message says: text, its HTML, and the calendar (with its METHOD) if it has one."""

    text: str
    html: str
    calendar: bytes | None = None
    method: str = "REQUEST"


def wire_message(body: Body, mail_id: str, headers: dict[str, str]) -> bytes:
    """The whole message on the wire: its shape's layout with this message's bytes filled in."""
    slots = {
        HEADERS: b"".join(WIRE.fold_binary(name, value) for name, value in headers.items()),
        ID: boundary_id(mail_id).encode("ascii"),
        TEXT: wire_lines(quoted_printable(body.text)),
        HTML: wire_lines(quoted_printable(body.html)),
    }
    if body.calendar is None:
        return layout_of(None).fill(slots)
    slots[CALENDAR] = wire_lines(encodebytes(body.calendar).decode("ascii"))
    return layout_of(body.method).fill(slots)


# Where a message's own bytes go in its shape's layout; none can occur in the constant MIME
# headers around them, and the boundary's is exactly as long as the digits it stands for.
HEADERS, TEXT, HTML, CALENDAR = b"@HEADERS@", b"@TEXT@", b"@HTML@", b"@CALENDAR@"
ID = b"@ID".ljust(BOUNDARY_DIGITS, b"@")
SLOTS = re.compile(b"(" + b"|".join(map(re.escape, (HEADERS, TEXT, HTML, CALENDAR, ID))) + b")")


@dataclass(frozen=True)
class Layout:
    """A message shape on the wire: constant bytes, with slots at the odd indexes between them."""

    pieces: tuple[bytes, ...]

    def fill(self, slots: dict[bytes, bytes]) -> bytes:
        """The message, each slot replaced by its bytes."""
        pieces = list(self.pieces)
        pieces[1::2] = [slots[slot] for slot in pieces[1::2]]
        return b"".join(pieces)


@functools.lru_cache(maxsize=8)
def layout_of(method: str | None) -> Layout:
    """The layout of a message with a calendar of `method`, or (None) of one without."""
    placeholder_id = f"<{ID.decode()}>"
    parts = [text_part("plain", TEXT.decode()), text_part("html", HTML.decode())]
    if method is not None:
        message = with_calendar(parts, CALENDAR.decode(), method, placeholder_id)
    else:
        message = multipart("alternative", parts, placeholder_id)
    data = flatten(message)
    end_of_headers = data.index(b"\r\n\r\n") + 2  # the headers of each message go here
    return Layout(tuple(SLOTS.split(data[:end_of_headers] + HEADERS + data[end_of_headers:])))


def mailbox(display_name: str, addr_spec: str, field: str = "To") -> str:
    """An address header: quoted when ASCII, RFC 2047 encoded words (at most 75 chars) if not."""
    name = one_line(display_name)
    if name.isascii() and "=?" not in name:  # an ASCII `=?...?=` would be decoded by readers
        return formataddr((name, addr_spec))
    one_word = f"=?utf-8?b?{b64encode(name.encode()).decode('ascii')}?= <{addr_spec}>"
    if len(field) + 2 + len(one_word) <= MAX_LINE:
        return one_word  # what the Header below gives when it fits on one line (a test holds it)
    header = Header(name, UTF8_WORDS, header_name=field)
    header.append(f"<{addr_spec}>", "us-ascii")
    return wire_form(header)


@functools.lru_cache(maxsize=4096)  # a session's subject is the same for all its attendees
def unstructured(value: str, field: str = "Subject") -> str:
    """A free-text header on one logical line, encoded when not ASCII."""
    text = one_line(value)
    if text.isascii() and "=?" not in text:
        return text
    header = Header(text, UTF8_WORDS, header_name=field)
    return wire_form(header)


def wire_form(header: Header) -> Encoded:
    """The header's value folded and encoded as the wire policy would write it."""
    return Encoded(header.encode(linesep=WIRE.linesep, maxlinelen=MAX_LINE))


def one_line(value: str) -> str:
    """The value with every run of control characters (CR, LF, TAB...) turned into a space."""
    return CONTROLS.sub(" ", value).strip()


def flatten(message: Message) -> bytes:
    """The message as it goes on the wire: CRLF line ends, 7-bit."""
    buffer = BytesIO()
    BytesGenerator(buffer, policy=WIRE).flatten(message)
    return buffer.getvalue()


def text_part(subtype: str, encoded: str) -> Message:
    """A MIME part of UTF-8 text, its payload already quoted-printable."""
    part = MIMENonMultipart("text", subtype, charset="utf-8")
    del part["MIME-Version"]  # said once, at the top
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part.set_payload(encoded)
    return part


def quoted_printable(body: str) -> str:
    """The UTF-8 body in quoted-printable lines of at most 76 characters (RFC 2045 6.7)."""
    data = body.encode("utf-8")
    # binascii's encoder, in C: what `email.quoprimime` does in Python, at a tenth of the CPU;
    # but it can end a line at 77 (a space written as =20 just before a break): then the latter
    encoded = b2a_qp(data, istext=True).decode("ascii")
    if max(map(len, encoded.split("\n"))) > MAX_LINE:  # a split: 20 times the regex's speed
        return quoprimime.body_encode(data.decode("latin-1"), maxlinelen=MAX_LINE)
    return encoded


def with_calendar(parts: list[Message], encoded: str, method: str, mail_id: str) -> MIMEMultipart:
    """Text and HTML beside the (base64) calendar, which is also attached as `invite.ics`."""
    # The method= parameter must match the calendar's METHOD, or Outlook ignores the invite.
    inline = MIMENonMultipart("text", "calendar", charset="utf-8", method=method)
    attachment = MIMENonMultipart("application", "ics")
    _base64_payload(inline, encoded)
    _base64_payload(attachment, encoded)
    attachment.add_header("Content-Disposition", "attachment", filename="invite.ics")
    alternative = multipart("alternative", [*parts, inline], mail_id)
    del alternative["MIME-Version"]
    return multipart("mixed", [alternative, attachment], mail_id)


def multipart(subtype: str, parts: list[Message], mail_id: str) -> MIMEMultipart:
    """The parts under one multipart, its boundary made of the mail's id."""
    # "=_" never occurs in quoted-printable or base64 text (RFC 2045 5.1), and every part here
    # is one of those: the boundary cannot collide, so the generator need not search for one.
    # Eight digits of the mail's own id keep the Content-Type header on one line (no folding).
    boundary = f"=_{subtype}_{boundary_id(mail_id)}"
    return MIMEMultipart(subtype, boundary=boundary, _subparts=parts)


def _base64_payload(part: Message, encoded: str) -> None:
    del part["MIME-Version"]
    part["Content-Transfer-Encoding"] = "base64"
    part.set_payload(encoded)


def boundary_id(mail_id: str) -> str:
    """The digits of the mail's id that its boundaries carry (after the `<`)."""
    return mail_id[1 : BOUNDARY_DIGITS + 1]
