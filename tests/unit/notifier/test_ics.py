"""The invite's calendar, parsed back with icalendar and checked field by field."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import icalendar
import pytest

from services.notifier.ics import (
    PRODID,
    Invite,
    QuotedNameParameters,
    build_invite,
    description_text,
    invite_uid,
    location_text,
    sequence_of,
    timezone_of,
)
from services.notifier.messages import MailIdentity
from services.notifier.notices import trainer_id, trainer_recipient
from services.notifier.schedule import daily_count, local_days
from shared.contracts import SeatAssignedV1
from tests.unit.notifier.conftest import notice_of, refold

pytestmark = pytest.mark.unit
MakeEvent = Callable[..., SeatAssignedV1]
TRICKY = "Obuka č ć ž š đ Č Ć Ž Š Đ; Ћирилица ђ ћ љ њ џ, a\\b \\n \\\\; kraj, BEGIN:VALARM"


@pytest.fixture
def build(now: datetime, identity: MailIdentity) -> Callable[..., bytes]:
    """Serialise the calendar of an event's notice (an invite unless told) at the injected time."""

    def run(event: SeatAssignedV1, kind: str = "invite") -> bytes:
        return build_invite(Invite(notice_of(event, kind), identity.organizer, now))  # type: ignore[arg-type]

    return run


def parse(data: bytes) -> tuple[icalendar.Calendar, icalendar.Event]:
    """Parse a calendar and return it with its only event."""
    calendar = icalendar.Calendar.from_ical(data)
    assert len(calendar.events) == 1
    return calendar, calendar.events[0]


def test_calendar_is_an_itip_request(build: Callable[..., bytes], make_event: MakeEvent) -> None:
    calendar, event = parse(build(make_event()))
    assert calendar["METHOD"] == "REQUEST"
    assert calendar["VERSION"] == "2.0"
    assert calendar["CALSCALE"] == "GREGORIAN"
    assert calendar["PRODID"].startswith("-//TrainingOps//")
    assert event["STATUS"] == "CONFIRMED"
    assert event["TRANSP"] == "OPAQUE"


def test_uid_is_stable_per_registration_and_session(
    make_event: MakeEvent, identity: MailIdentity, now: datetime
) -> None:
    first = build_invite(Invite(notice_of(make_event()), identity.organizer, now))
    later = build_invite(
        Invite(notice_of(make_event(revision=3)), identity.organizer, now + timedelta(days=2))
    )
    other_session = make_event(session={"session_id": "x"})
    other = build_invite(Invite(notice_of(other_session), identity.organizer, now))
    uid = parse(first)[1]["UID"]
    assert uid == parse(later)[1]["UID"]
    assert uid != parse(other)[1]["UID"]
    assert uid.endswith("@trainingops")
    assert uid == invite_uid(make_event().registration_id, "ppz-bg-06")


@pytest.mark.parametrize(("revision", "sequence"), [(1, 0), (2, 1), (7, 6)])
def test_sequence_is_revision_minus_one(
    build: Callable[..., bytes], make_event: MakeEvent, revision: int, sequence: int
) -> None:
    assert parse(build(make_event(revision=revision)))[1]["SEQUENCE"] == sequence


def test_dtstamp_is_the_injected_now(
    build: Callable[..., bytes], make_event: MakeEvent, now: datetime
) -> None:
    assert parse(build(make_event()))[1].decoded("DTSTAMP") == now


def test_start_and_end_carry_the_session_zone_in_summer(
    build: Callable[..., bytes], make_event: MakeEvent
) -> None:
    data = build(make_event())
    assert b"DTSTART;TZID=Europe/Belgrade:20260610T093000\r\n" in data
    _, event = parse(data)
    assert event["DTSTART"].params["TZID"] == "Europe/Belgrade"
    assert event["DTEND"].params["TZID"] == "Europe/Belgrade"
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start.utcoffset() == timedelta(hours=2)  # CEST
    assert start.astimezone(UTC) == datetime(2026, 6, 10, 7, 30, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 6, 10, 14, 30, tzinfo=UTC)


def test_vtimezone_of_the_session_zone_is_included(
    build: Callable[..., bytes], make_event: MakeEvent
) -> None:
    calendar, _ = parse(build(make_event()))
    assert [tz["TZID"] for tz in calendar.timezones] == ["Europe/Belgrade"]
    assert calendar.get_missing_tzids() == set()


def test_two_consecutive_days_become_a_daily_rule(
    build: Callable[..., bytes], make_event: MakeEvent
) -> None:
    _, event = parse(build(make_event()))
    assert event["RRULE"]["FREQ"] == ["DAILY"]
    assert event["RRULE"]["COUNT"] == [2]
    assert "RDATE" not in event


def test_a_single_day_has_no_recurrence(build: Callable[..., bytes], make_event: MakeEvent) -> None:
    one_day = [{"starts_at": "2026-06-10T07:30:00Z", "ends_at": "2026-06-10T14:30:00Z"}]
    _, event = parse(build(make_event(session={"days": one_day})))
    assert "RRULE" not in event
    assert "RDATE" not in event


def test_uneven_days_become_zoned_rdate_periods(
    build: Callable[..., bytes], make_event: MakeEvent
) -> None:
    days = [
        {"starts_at": "2026-06-10T07:30:00Z", "ends_at": "2026-06-10T14:30:00Z"},
        {"starts_at": "2026-06-11T07:00:00Z", "ends_at": "2026-06-11T11:00:00Z"},
        {"starts_at": "2026-06-15T07:30:00Z", "ends_at": "2026-06-15T14:30:00Z"},
    ]
    _, event = parse(build(make_event(session={"days": days})))
    assert "RRULE" not in event
    rdate = event["RDATE"]
    assert rdate.params["TZID"] == "Europe/Belgrade"
    assert rdate.params["VALUE"] == "PERIOD"
    periods = [p.dt for p in rdate.dts]
    assert [(s.astimezone(UTC), e.astimezone(UTC)) for s, e in periods] == [
        (datetime(2026, 6, 11, 7, 0, tzinfo=UTC), datetime(2026, 6, 11, 11, 0, tzinfo=UTC)),
        (datetime(2026, 6, 15, 7, 30, tzinfo=UTC), datetime(2026, 6, 15, 14, 30, tzinfo=UTC)),
    ]


def test_organizer_and_attendee_parameters(
    build: Callable[..., bytes], make_event: MakeEvent
) -> None:
    _, event = parse(build(make_event()))
    organizer, attendee = event["ORGANIZER"], event["ATTENDEE"]
    assert organizer == "mailto:obuke@trainingops.example"
    assert organizer.params["CN"] == "Kancelarija za obuke"
    assert attendee == "mailto:djordje.scekic@opstina.example"
    assert dict(attendee.params) == {
        "CN": "Đorđe Šćekić",
        "ROLE": "REQ-PARTICIPANT",
        "PARTSTAT": "NEEDS-ACTION",
        "RSVP": "TRUE",
    }


@pytest.mark.parametrize("name", ["Ana\\", "Anić\\", "Ana;PARTSTAT=ACCEPTED", 'Ana"A"', "Ana:x,y"])
def test_attendee_names_cannot_spill_into_other_parameters(
    build: Callable[..., bytes], make_event: MakeEvent, name: str
) -> None:
    source = make_event()
    attendee = source.attendee.model_copy(update={"full_name": name})
    _, event = parse(build(source.model_copy(update={"attendee": attendee})))
    params = dict(event["ATTENDEE"].params)
    assert params["PARTSTAT"] == "NEEDS-ACTION"
    assert params["RSVP"] == "TRUE"
    assert set(params) == {"CN", "ROLE", "PARTSTAT", "RSVP"}


def test_summary_location_description_round_trip_exactly(
    build: Callable[..., bytes], make_event: MakeEvent
) -> None:
    venue = {"name": TRICKY, "room": "Сала 3; спрат 2", "address": "Trg, 1\\a", "city": "Niš"}
    source = make_event(session={"title": TRICKY * 2, "venue": venue})
    _, event = parse(build(source))
    assert event["SUMMARY"] == TRICKY * 2
    assert event["LOCATION"] == f"{TRICKY}, Сала 3; спрат 2, Trg, 1\\a, Niš"
    assert event["DESCRIPTION"] == description_text(source.session)
    assert "\n" in event["DESCRIPTION"]  # newlines travel escaped and come back


def test_lines_fold_at_75_octets_without_splitting_characters_or_escapes(
    build: Callable[..., bytes], make_event: MakeEvent
) -> None:
    for shift in range(40):  # move every fold boundary across the tricky characters
        data = build(make_event(session={"title": "x" * shift + TRICKY * 2}))
        assert_folded_safely(data)


def assert_folded_safely(data: bytes) -> None:
    """Every physical line is at most 75 octets, valid UTF-8 alone, and no escape is cut."""
    assert data.endswith(b"\r\n")
    escaped = False
    for line in data[:-2].split(b"\r\n"):
        assert len(line) <= 75, line
        text = line.decode("utf-8")  # raises if a character was cut in two
        if text.startswith(" "):
            assert not escaped, f"escape split before {text!r}"
            text = text[1:]
        escaped = False
        for char in text:
            escaped = not escaped and char == "\\"


def test_no_personal_link_or_token_in_the_calendar(
    build: Callable[..., bytes], make_event: MakeEvent
) -> None:
    in_person = build(make_event())
    online = make_event(
        session={"mode": "online", "venue": None, "online_url": "https://meet.example/ppz-bg-06"}
    )
    online_ics = build(online)
    for data in (in_person, online_ics):
        text = data.decode()
        assert str(online.registration_id) not in text
        assert "token" not in text.lower()
    assert re.findall(r"https?://\S+", in_person.decode()) == []
    assert set(re.findall(r"https?://[^\s\\,;]+", online_ics.decode())) == {
        "https://meet.example/ppz-bg-06"
    }
    _, event = parse(online_ics)
    assert event["URL"] == "https://meet.example/ppz-bg-06"
    assert event["LOCATION"] == "https://meet.example/ppz-bg-06"


def test_output_is_deterministic(build: Callable[..., bytes], make_event: MakeEvent) -> None:
    assert build(make_event()) == build(make_event())


def test_a_cancellation_is_an_itip_cancel_of_the_same_event(
    build: Callable[..., bytes], make_event: MakeEvent
) -> None:
    _, invite = parse(build(make_event()))
    calendar, cancel = parse(build(make_event(revision=3), "cancellation"))
    assert calendar["METHOD"] == "CANCEL"
    assert cancel["STATUS"] == "CANCELLED"
    assert cancel["UID"] == invite["UID"]
    assert cancel["SEQUENCE"] == 2 > invite["SEQUENCE"]
    assert cancel.decoded("DTSTART") == invite.decoded("DTSTART")
    assert cancel["ATTENDEE"] == invite["ATTENDEE"]


def test_an_update_is_a_request_with_a_higher_sequence(
    build: Callable[..., bytes], make_event: MakeEvent
) -> None:
    moved = [{"starts_at": "2026-06-17T07:30:00Z", "ends_at": "2026-06-17T14:30:00Z"}]
    _, invite = parse(build(make_event()))
    calendar, update = parse(build(make_event(revision=2, session={"days": moved}), "update"))
    assert calendar["METHOD"] == "REQUEST"
    assert (update["UID"], update["SEQUENCE"]) == (invite["UID"], 1)
    assert update.decoded("DTSTART").astimezone(UTC) == datetime(2026, 6, 17, 7, 30, tzinfo=UTC)
    assert "RRULE" not in update


def test_a_trainer_is_the_chair_with_their_own_uid(
    make_event: MakeEvent, identity: MailIdentity, now: datetime
) -> None:
    event = make_event()
    trainer = event.session.trainers[0]
    notice = notice_of(event).model_copy(
        update={
            "recipient_id": trainer_id(trainer.email),
            "recipient": trainer_recipient(trainer, "sr-Latn"),
        }
    )
    _, vevent = parse(build_invite(Invite(notice, identity.organizer, now)))
    assert vevent["ATTENDEE"] == "mailto:milica@trainers.example"
    assert vevent["ATTENDEE"].params["ROLE"] == "CHAIR"
    assert vevent["UID"] == invite_uid(trainer_id("Milica@Trainers.example"), "ppz-bg-06")
    assert vevent["UID"] != invite_uid(event.registration_id, "ppz-bg-06")


def event_of(invite: Invite) -> icalendar.Event:
    """The VEVENT of one invite built in one piece: the session, its days and the one attendee."""
    notice, session, attendee = invite.notice, invite.notice.session, invite.notice.recipient
    days = local_days(session)
    vevent = icalendar.Event()
    vevent.add("uid", invite_uid(notice.recipient_id, session.session_id))
    vevent.add("sequence", sequence_of(notice.revision))
    vevent.add("dtstamp", invite.now)
    vevent.add("dtstart", days[0].starts_at)
    vevent.add("dtend", days[0].ends_at)
    if len(days) > 1 and (count := daily_count(days)) is not None:
        vevent.add("rrule", {"FREQ": "DAILY", "COUNT": count})
    elif len(days) > 1:
        periods = [(day.starts_at, day.ends_at) for day in days[1:]]
        vevent.add("rdate", periods, parameters={"TZID": session.timezone, "VALUE": "PERIOD"})
    vevent.add("summary", session.title)
    vevent.add("location", location_text(session))
    vevent.add("description", description_text(session))
    if session.mode == "online" and session.online_url is not None:
        vevent.add("url", str(session.online_url))
    organizer = icalendar.vCalAddress(f"mailto:{invite.organizer.addr_spec}")
    organizer.params = QuotedNameParameters({"CN": invite.organizer.display_name})
    vevent.add("organizer", organizer)
    role = "CHAIR" if attendee.role == "trainer" else "REQ-PARTICIPANT"
    address = icalendar.vCalAddress(f"mailto:{attendee.email}")
    address.params = QuotedNameParameters(
        {"CN": attendee.full_name, "ROLE": role, "PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE"}
    )
    vevent.add("attendee", address)
    vevent.add("status", "CANCELLED" if notice.method == "CANCEL" else "CONFIRMED")
    vevent.add("transp", "OPAQUE")
    return vevent


def whole_calendar(invite: Invite) -> bytes:
    """The calendar serialised in one piece by icalendar (what build_invite assembles from parts)."""
    days = local_days(invite.notice.session)
    calendar = icalendar.Calendar()
    for name, value in (("prodid", PRODID), ("version", "2.0"), ("calscale", "GREGORIAN")):
        calendar.add(name, value)
    calendar.add("method", invite.notice.method)
    first, last = days[0].starts_at.year, days[-1].ends_at.year
    calendar.add_component(timezone_of(invite.notice.session.timezone, first, last))
    calendar.add_component(event_of(invite))
    return refold(calendar.to_ical())


@pytest.mark.parametrize("kind", ["invite", "update", "cancellation"])
@pytest.mark.parametrize(
    "session",
    [
        {},
        {"title": TRICKY * 2, "timezone": "Europe/Sarajevo"},
        {"mode": "online", "venue": None, "online_url": "https://meet.example/ppz"},
        {
            "days": [
                {"starts_at": "2026-12-30T08:00:00Z", "ends_at": "2026-12-30T12:00:00Z"},
                {"starts_at": "2027-01-04T08:00:00Z", "ends_at": "2027-01-04T12:00:00Z"},
            ]
        },
    ],
)
def test_cached_calendar_parts_give_the_bytes_of_the_whole_calendar(
    make_event: MakeEvent,
    identity: MailIdentity,
    now: datetime,
    kind: str,
    session: dict[str, object],
) -> None:
    for name in ("Đorđe Šćekić", "Александра Милошевић-Петровић", "Ana\\;ROLE=CHAIR"):
        event = make_event(session=session, attendee={"full_name": name}, revision=2)
        invite = Invite(notice_of(event, kind), identity.organizer, now)  # type: ignore[arg-type]
        assert build_invite(invite) == whole_calendar(invite)
