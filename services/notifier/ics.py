"""Build iTIP calendars (RFC 5545/5546), REQUEST or CANCEL: pure, deterministic for the same input."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.headerregistry import Address
from uuid import UUID

import icalendar
from icalendar.parser import Contentline, Parameters
from icalendar.prop import vDDDTypes, vInt, vText

from services.notifier.folding import fold_lines, serialise
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

    Only four lines differ between the invites of one session (UID, SEQUENCE, DTSTAMP, ATTENDEE):
    everything else is serialised once per session and reused, in the order icalendar writes a
    whole calendar (a test holds the bytes equal).
    """
    notice, organizer = invite.notice, invite.organizer
    before, between, after = _session_parts(
        notice.required_session, notice.method, organizer.addr_spec, organizer.display_name
    )
    stamp, attendee = _attendee_parts(invite)
    return before + stamp + between + attendee + after


@functools.lru_cache(maxsize=1024)  # a session's invites share all but the attendee's lines
def _session_parts(
    session: SessionSnapshot, method: str, organizer: str, organizer_name: str
) -> tuple[bytes, bytes, bytes]:
    """The calendar around the attendee's lines: up to DTEND, the recurrence, and from DESCRIPTION.

    icalendar writes a VEVENT's properties in its canonical order (SUMMARY, DTSTART, DTEND,
    DTSTAMP, UID, SEQUENCE, RRULE, RDATE), then the others by name (ATTENDEE, DESCRIPTION...).
    """
    days = local_days(session)
    head, tail = _calendar_lines(method)
    zone = serialise(timezone_of(session.timezone, days[0].starts_at.year, days[-1].ends_at.year))
    opening, recurrence, closing = icalendar.Event(), icalendar.Event(), icalendar.Event()
    opening.add("summary", session.title)
    opening.add("dtstart", days[0].starts_at)
    opening.add("dtend", days[0].ends_at)
    _add_recurrence(recurrence, session.timezone, days)
    closing.add("location", location_text(session))
    closing.add("description", description_text(session))
    if session.mode == "online" and session.online_url is not None:
        closing.add("url", str(session.online_url))
    closing.add("organizer", _address(organizer, organizer_name))
    closing.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    closing.add("transp", "OPAQUE")
    return (
        head + zone + b"BEGIN:VEVENT\r\n" + _properties(opening),
        _properties(recurrence),
        _properties(closing) + b"END:VEVENT\r\n" + tail,
    )


def _attendee_parts(invite: Invite) -> tuple[bytes, bytes]:
    """The attendee's own lines: DTSTAMP, UID and SEQUENCE; then ATTENDEE."""
    notice, attendee = invite.notice, invite.notice.recipient
    stamp = [
        _stamp_line(invite.now.astimezone(UTC).replace(microsecond=0)),  # DTSTAMP has seconds
        _line("UID", vText(invite_uid(notice.recipient_id, notice.session_id))),
        _sequence_line(sequence_of(notice.revision)),
    ]
    address = _address(
        attendee.email,
        attendee.full_name,
        ROLE="CHAIR" if attendee.role == "trainer" else "REQ-PARTICIPANT",
        PARTSTAT="NEEDS-ACTION",
        RSVP="TRUE",
    )
    return fold_lines(stamp), fold_lines([_line("ATTENDEE", address)])


@functools.lru_cache(maxsize=16)  # the invites written within one second share it
def _stamp_line(moment: datetime) -> str:
    """The DTSTAMP line of `moment` (whole seconds, UTC)."""
    return _line("DTSTAMP", vDDDTypes(moment))


@functools.lru_cache(maxsize=16)
def _sequence_line(sequence: int) -> str:
    """The SEQUENCE line."""
    return _line("SEQUENCE", vInt(sequence))


def _line(name: str, value: vDDDTypes | vText | vInt | icalendar.vCalAddress) -> str:
    """One unfolded content line, as a component writes the property (without the component)."""
    return str(Contentline.from_parts(name, value.params, value))


def _properties(event: icalendar.Event) -> bytes:
    """An event's property lines, folded, without its BEGIN and END lines."""
    return fold_lines(event.content_lines()[1:-2])


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


def timezone_of(tzid: str, first: int, last: int) -> icalendar.Timezone:
    """The VTIMEZONE with the transitions from the year before `first` to the year after `last`."""
    return icalendar.Timezone.from_tzid(
        tzid, first_date=date(first - 1, 1, 1), last_date=date(last + 1, 12, 31)
    )


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


class QuotedNameParameters(Parameters):
    """Always quote CN: unquoted, a name ending in a backslash would swallow the next parameter."""

    always_quoted = (*Parameters.always_quoted, "CN")  # type: ignore[assignment]


def _address(email: str, name: str, **params: str) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{email}")
    address.params = QuotedNameParameters({"CN": name, **params})
    return address
