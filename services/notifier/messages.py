"""Compose the invite email (RFC 6047 iMIP): pure, the same key always gives the same Message-ID."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from services.notifier import wording
from services.notifier.ics import Invite, build_invite
from shared.contracts import SeatAssignedV1

CALENDAR_METHOD = "REQUEST"


@dataclass(frozen=True)
class MailIdentity:
    """Who the mail is from, and who organises the events in it."""

    sender: Address
    organizer: Address


def message_id(notification_key: str, domain: str) -> str:
    """A Message-ID derived from the notification key: a resend is recognisably the same mail."""
    digest = hashlib.sha256(notification_key.encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def compose_invite(
    event: SeatAssignedV1, *, identity: MailIdentity, notification_key: str, now: datetime
) -> EmailMessage:
    """Text, HTML and the calendar as alternatives, plus `invite.ics` as an attachment."""
    language = event.attendee.language
    values = wording.context(event, identity.organizer)
    calendar = build_invite(Invite(event=event, organizer=identity.organizer, now=now))
    message = EmailMessage()
    message["From"] = identity.sender
    message["To"] = Address(display_name=event.attendee.full_name, addr_spec=event.attendee.email)
    message["Subject"] = wording.render(language, "subject.txt.j2", values).strip()
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(notification_key, identity.sender.domain)
    message["Content-Language"] = language
    message.set_content(wording.render(language, "invite.txt.j2", values), cte="quoted-printable")
    message.add_alternative(
        wording.render(language, "invite.html.j2", values), subtype="html", cte="quoted-printable"
    )
    # The method= parameter must match the calendar's METHOD, or Outlook ignores the invite.
    message.add_alternative(
        calendar,
        maintype="text",
        subtype="calendar",
        params={"method": CALENDAR_METHOD, "charset": "utf-8"},
    )
    message.add_attachment(calendar, maintype="application", subtype="ics", filename="invite.ics")
    return message
