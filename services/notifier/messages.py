"""Compose emails (iMIP, RFC 6047, for calendar notices): pure, one key gives one Message-ID.

The message is built with the standard library's compat32 MIME classes and flattened once,
here: the EmailMessage API parses every header it is given and refolds it when flattening,
which cost about three times the CPU for the same message on the wire.
"""

from __future__ import annotations

import hashlib
import re
from base64 import encodebytes
from dataclasses import dataclass
from datetime import datetime
from email import charset
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
UTF8_QP = charset.Charset("utf-8")
UTF8_QP.body_encoding = charset.QP
UTF8_WORDS = charset.Charset("utf-8")
UTF8_WORDS.header_encoding = charset.BASE64
PRINTABLE = re.compile(r"[ -~]*")


class WirePolicy(Compat32):
    """compat32, except that a printable ASCII header that fits on one line is written as is.

    That is what compat32 writes for it too (a property test holds the two equal), without
    wrapping the value in a `Header` to find that it needs no folding or encoding.
    """

    def fold_binary(self, name: str, value: object) -> bytes:
        """The header as wire bytes, folded and encoded where it must be."""
        if (
            isinstance(value, str)
            and len(name) + len(value) + 2 <= (self.max_line_length or 78)
            and PRINTABLE.fullmatch(value)
        ):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)  # type: ignore[arg-type]


# Every line ends in CRLF as SMTP wants it; no ">From " mangling of body lines; headers fold
# at 76, so that an encoded word after the leading space stays within RFC 2047's 75 characters.
WIRE = WirePolicy(linesep="\r\n", mangle_from_=False, max_line_length=76)
# CR, LF and other control characters never reach a header: no header injection.
CONTROLS = re.compile(r"[\x00-\x1f\x7f]+")


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
    parts = [_text(text, "plain"), _text(wording.html_of(language, text), "html")]
    mail_id = message_id(notice.key, identity.sender.domain)
    if notice.is_calendar:
        calendar = build_invite(Invite(notice, identity.organizer, now))
        message = _with_calendar(parts, calendar, notice.method, mail_id)
    else:
        message = _multipart("alternative", parts, mail_id)
    headers: dict[str, str | Header] = {
        "From": mailbox(identity.sender.display_name, identity.sender.addr_spec, "From"),
        "To": mailbox(notice.recipient.full_name, notice.recipient.email),
        "Subject": unstructured(wording.render(language, "subject.txt.j2", values)),
        "Date": format_datetime(now),
        "Message-ID": mail_id,
        "Content-Language": language,
    }
    for name, value in headers.items():
        message[name] = value  # type: ignore[assignment]  # compat32 takes Header values
    recipients = (notice.recipient.email,)
    return OutgoingMail(identity.sender.addr_spec, recipients, mail_id, flatten(message))


def mailbox(display_name: str, addr_spec: str, field: str = "To") -> str | Header:
    """An address header: quoted when ASCII, RFC 2047 encoded words (at most 75 chars) if not."""
    name = one_line(display_name)
    if name.isascii() and "=?" not in name:  # an ASCII `=?...?=` would be decoded by readers
        return formataddr((name, addr_spec))
    header = Header(name, UTF8_WORDS, header_name=field)
    header.append(f"<{addr_spec}>", "us-ascii")
    return header


def unstructured(value: str, field: str = "Subject") -> str | Header:
    """A free-text header on one logical line, encoded when not ASCII."""
    text = one_line(value)
    return (
        text if text.isascii() and "=?" not in text else Header(text, UTF8_WORDS, header_name=field)
    )


def one_line(value: str) -> str:
    """The value with every run of control characters (CR, LF, TAB...) turned into a space."""
    return CONTROLS.sub(" ", value).strip()


def flatten(message: Message) -> bytes:
    """The message as it goes on the wire: CRLF line ends, 7-bit."""
    buffer = BytesIO()
    BytesGenerator(buffer, policy=WIRE).flatten(message)
    return buffer.getvalue()


def _text(body: str, subtype: str) -> Message:
    part = MIMENonMultipart("text", subtype)
    part.set_payload(body, UTF8_QP)  # adds charset="utf-8" and the transfer encoding
    del part["MIME-Version"]  # said once, at the top
    return part


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
    boundary = f"=_{subtype}_{mail_id.strip('<>').partition('@')[0]}"
    return MIMEMultipart(subtype, boundary=boundary, _subparts=parts)


def _base64_payload(part: Message, encoded: str) -> None:
    del part["MIME-Version"]
    part["Content-Transfer-Encoding"] = "base64"
    part.set_payload(encoded)
