"""Compose emails (iMIP, RFC 6047, for calendar notices): pure, one key gives one Message-ID.

The message is built with the standard library's compat32 MIME classes and flattened once,
here: the EmailMessage API parses every header it is given and refolds it when flattening,
which cost about three times the CPU for the same message on the wire.
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


class WireGenerator(BytesGenerator):
    """BytesGenerator, writing a payload with its line ends turned in one call, not line by line.

    The bytes are the same (a property test holds them equal): base64 and quoted-printable
    payloads are a hundred lines or so, and each line was two writes. Their encoders end lines
    with a bare LF, so the common case is a plain replace, at a fifth of the regex's CPU.
    """

    def _write_lines(self, lines: str) -> None:
        if not lines:
            return
        if "\r" in lines:
            self.write(LINE_ENDS.sub(self._NL, lines))  # type: ignore[attr-defined]
        else:
            self.write(lines.replace("\n", self._NL))  # type: ignore[attr-defined]


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
    parts = [text_part(text, "plain"), text_part(wording.html_of(language, text), "html")]
    mail_id = message_id(notice.key, identity.sender.domain)
    if notice.is_calendar:
        calendar = build_invite(Invite(notice, identity.organizer, now))
        message = _with_calendar(parts, calendar, notice.method, mail_id)
    else:
        message = _multipart("alternative", parts, mail_id)
    headers = {
        "From": mailbox(identity.sender.display_name, identity.sender.addr_spec, "From"),
        "To": mailbox(notice.recipient.full_name, notice.recipient.email),
        "Subject": unstructured(wording.render(language, "subject.txt.j2", values)),
        "Date": format_datetime(now),
        "Message-ID": mail_id,
        "Content-Language": language,
    }
    for name, value in headers.items():
        message[name] = value
    recipients = (notice.recipient.email,)
    return OutgoingMail(identity.sender.addr_spec, recipients, mail_id, flatten(message))


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
    WireGenerator(buffer, policy=WIRE).flatten(message)
    return buffer.getvalue()


def text_part(body: str, subtype: str) -> Message:
    """A text body as a MIME part: UTF-8, quoted-printable."""
    part = MIMENonMultipart("text", subtype, charset="utf-8")
    del part["MIME-Version"]  # said once, at the top
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part.set_payload(quoted_printable(body))
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


def _with_calendar(
    parts: list[Message], calendar: bytes, method: str, mail_id: str
) -> MIMEMultipart:
    # The method= parameter must match the calendar's METHOD, or Outlook ignores the invite.
    encoded = encodebytes(calendar).decode("ascii")
    inline = MIMENonMultipart("text", "calendar", charset="utf-8", method=method)
    attachment = MIMENonMultipart("application", "ics")
    _base64_payload(inline, encoded)
    _base64_payload(attachment, encoded)
    attachment.add_header("Content-Disposition", "attachment", filename="invite.ics")
    alternative = _multipart("alternative", [*parts, inline], mail_id)
    del alternative["MIME-Version"]
    return _multipart("mixed", [alternative, attachment], mail_id)


def _multipart(subtype: str, parts: list[Message], mail_id: str) -> MIMEMultipart:
    # "=_" never occurs in quoted-printable or base64 text (RFC 2045 5.1), and every part here
    # is one of those: the boundary cannot collide, so the generator need not search for one.
    # Eight digits of the mail's own id keep the Content-Type header on one line (no folding).
    boundary = f"=_{subtype}_{mail_id[1 : BOUNDARY_DIGITS + 1]}"
    return MIMEMultipart(subtype, boundary=boundary, _subparts=parts)


def _base64_payload(part: Message, encoded: str) -> None:
    del part["MIME-Version"]
    part["Content-Transfer-Encoding"] = "base64"
    part.set_payload(encoded)
