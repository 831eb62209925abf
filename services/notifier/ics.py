"""Build iTIP calendars (RFC 5545/5546), REQUEST or CANCEL: pure, deterministic for the same input."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from email.headerregistry import Address
from uuid import UUID

import icalendar
from icalendar.parser import Parameters

from services.notifier.folding import serialise
from services.notifier.notices import Notice
from services.notifier.schedule import LocalDay, daily_count, local_days
from shared.contracts import SessionSnapshot

PRODID = "-//TrainingOps//Notifier 1.0//EN"
UID_DOMAIN = "trainingops"
UID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "invites.trainingops")


@dataclass(frozen=True)
class Invite:
    """What a calendar needs beyond the notice: who organises it and when it is written."""

    notice: Notice
    organizer: Address
    now: datetime


def invite_uid(recipient_id: UUID, session_id: str) -> str:
    """One UID per (registration or trainer, session): the same on every resend, update, cancel."""
    return f"{uuid.uuid5(UID_NAMESPACE, f'{recipient_id}:{session_id}')}@{UID_DOMAIN}"


def sequence_of(revision: int) -> int:
    """SEQUENCE starts at 0 for revision 1 and rises with every significant change."""
    return revision - 1


def location_text(session: SessionSnapshot) -> str:
    """Venue as one line (name, room, address, city), or the online link."""
    if session.venue is not None:
        venue = session.venue
        return ", ".join(p for p in (venue.name, venue.room, venue.address, venue.city) if p)
    return str(session.online_url) if session.online_url else ""


def description_text(session: SessionSnapshot) -> str:
    """A neutral description: safe to land in a shared calendar (no personal links)."""
    lines = [session.title, location_text(session)]
    if session.trainers:
        lines.append(", ".join(t.full_name for t in session.trainers))
    return "\n".join(line for line in lines if line)


def build_invite(invite: Invite) -> bytes:
    """Serialise a REQUEST or CANCEL calendar with its VTIMEZONE and one VEVENT.

    Only the VEVENT differs between invites: the calendar's own lines and the VTIMEZONE are
    serialised once and reused (byte for byte what serialising the whole calendar gives).
    """
    days = local_days(invite.notice.session)
    head, tail = _calendar_lines(invite.notice.method)
    zone = _timezone_lines(
        invite.notice.session.timezone, days[0].starts_at.year, days[-1].ends_at.year
    )
    return head + zone + serialise(event_of(invite, days)) + tail


@functools.lru_cache(maxsize=4)
def _calendar_lines(method: str) -> tuple[bytes, bytes]:
    """The VCALENDAR's own lines: before its components, and after them."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    whole = serialise(calendar)
    tail = b"END:VCALENDAR\r\n"
    return whole.removesuffix(tail), tail


@functools.lru_cache(maxsize=64)  # once per zone and years: the same lines in every invite
def _timezone_lines(tzid: str, first: int, last: int) -> bytes:
    return serialise(timezone_of(tzid, first, last))


def timezone_of(tzid: str, first: int, last: int) -> icalendar.Timezone:
    """The VTIMEZONE with the transitions from the year before `first` to the year after `last`."""
    return icalendar.Timezone.from_tzid(
        tzid, first_date=date(first - 1, 1, 1), last_date=date(last + 1, 12, 31)
    )


def event_of(invite: Invite, days: tuple[LocalDay, ...]) -> icalendar.Event:
    """The VEVENT of one invite: the session, its days and the one attendee."""
    notice, session, attendee = invite.notice, invite.notice.session, invite.notice.recipient
    vevent = icalendar.Event()
    vevent.add("uid", invite_uid(notice.recipient_id, session.session_id))
    vevent.add("sequence", sequence_of(notice.revision))
    vevent.add("dtstamp", invite.now)
    vevent.add("dtstart", days[0].starts_at)
    vevent.add("dtend", days[0].ends_at)
    _add_recurrence(vevent, session.timezone, days)
    vevent.add("summary", session.title)
    vevent.add("location", location_text(session))
    vevent.add("description", description_text(session))
    if session.mode == "online" and session.online_url is not None:
        vevent.add("url", str(session.online_url))
    vevent.add("organizer", _address(invite.organizer.addr_spec, invite.organizer.display_name))
    vevent.add(
        "attendee",
        _address(
            attendee.email,
            attendee.full_name,
            ROLE="CHAIR" if attendee.role == "trainer" else "REQ-PARTICIPANT",
            PARTSTAT="NEEDS-ACTION",
            RSVP="TRUE",
        ),
    )
    vevent.add("status", "CANCELLED" if notice.method == "CANCEL" else "CONFIRMED")
    vevent.add("transp", "OPAQUE")
    return vevent


def _add_recurrence(vevent: icalendar.Event, tzid: str, days: tuple[LocalDay, ...]) -> None:
    if len(days) == 1:
        return
    count = daily_count(days)
    if count is not None:
        vevent.add("rrule", {"FREQ": "DAILY", "COUNT": count})
        return
    # icalendar drops TZID on PERIOD values: without it the extra days would float.
    periods = [(day.starts_at, day.ends_at) for day in days[1:]]
    vevent.add("rdate", periods, parameters={"TZID": tzid, "VALUE": "PERIOD"})


class _QuotedNameParameters(Parameters):
    """Always quote CN: unquoted, a name ending in a backslash would swallow the next parameter."""

    always_quoted = (*Parameters.always_quoted, "CN")  # type: ignore[assignment]


def _address(email: str, name: str, **params: str) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{email}")
    address.params = _QuotedNameParameters({"CN": name, **params})
    return address
