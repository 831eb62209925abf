"""Compose emails (iMIP, RFC 6047, for calendar notices): pure, one key gives one Message-ID."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from services.notifier import wording
from services.notifier.ics import Invite, build_invite
from services.notifier.notices import Notice


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
) -> EmailMessage:
    """Text and HTML; for calendar notices also the calendar, inline and as `invite.ics`."""
    language = notice.recipient.language
    values = wording.context(notice, identity.organizer, links)
    text = wording.render(language, "body.txt.j2", values)
    message = EmailMessage()
    message["From"] = identity.sender
    message["To"] = Address(
        display_name=notice.recipient.full_name, addr_spec=notice.recipient.email
    )
    message["Subject"] = wording.render(language, "subject.txt.j2", values).strip()
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(notice.key, identity.sender.domain)
    message["Content-Language"] = language
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(wording.html_of(language, text), subtype="html", cte="quoted-printable")
    if notice.is_calendar:
        _attach_calendar(message, build_invite(Invite(notice, identity.organizer, now)), notice)
    return message


def _attach_calendar(message: EmailMessage, calendar: bytes, notice: Notice) -> None:
    # The method= parameter must match the calendar's METHOD, or Outlook ignores the invite.
    message.add_alternative(
        calendar,
        maintype="text",
        subtype="calendar",
        params={"method": notice.method, "charset": "utf-8"},
    )
    message.add_attachment(calendar, maintype="application", subtype="ics", filename="invite.ics")
