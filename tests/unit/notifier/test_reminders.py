"""Reminder rules: offsets on the session's wall clock, quiet hours, DST, the send-time verdict."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notifier.reminders import QuietHours, due_before, outside_quiet, plan, verdict

pytestmark = pytest.mark.unit
BELGRADE = ZoneInfo("Europe/Belgrade")
QUIET = QuietHours()
DEFAULT = {
    "email": (timedelta(days=7), timedelta(days=1)),
    "sms": (timedelta(hours=2),),
}


def utc(text: str) -> datetime:
    """A UTC moment from `YYYY-MM-DDTHH:MM`."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_default_plan_for_a_summer_session() -> None:
    starts_at = utc("2026-06-10T07:30")  # 09:30 CEST
    assert plan(starts_at, BELGRADE, DEFAULT, QUIET, utc("2026-05-04T08:15")) == [
        ("email", "email-10080m", utc("2026-06-03T07:30")),
        ("email", "email-1440m", utc("2026-06-09T07:30")),
        # 07:30 local is quiet: deferred to 08:00 local, still before the start
        ("sms", "sms-120m", utc("2026-06-10T06:00")),
    ]


def test_end_of_october_days_count_on_the_wall_clock_and_hours_in_real_time() -> None:
    # DST ends on Sunday 25 October 2026 at 03:00 CEST -> 02:00 CET.
    starts_at = utc("2026-10-25T08:30")  # Sunday 09:30 CET
    assert due_before(starts_at, timedelta(days=1), BELGRADE) == utc("2026-10-24T07:30")
    assert due_before(starts_at, timedelta(days=7), BELGRADE) == utc("2026-10-18T07:30")
    assert due_before(starts_at, timedelta(hours=2), BELGRADE) == utc("2026-10-25T06:30")
    for channel, _, due in plan(starts_at, BELGRADE, DEFAULT, QUIET, utc("2026-10-01T00:00")):
        local = due.astimezone(BELGRADE)
        assert (channel, local.time()) in {("email", time(9, 30)), ("sms", time(8, 0))}


def test_end_of_march_days_count_on_the_wall_clock_and_quiet_hours_end_at_local_eight() -> None:
    # DST starts on Sunday 29 March 2026 at 02:00 CET -> 03:00 CEST.
    starts_at = utc("2026-03-29T07:30")  # Sunday 09:30 CEST
    assert due_before(starts_at, timedelta(days=1), BELGRADE) == utc(
        "2026-03-28T08:30"
    )  # 09:30 CET
    assert QUIET.end_after(utc("2026-03-28T22:30"), BELGRADE) == utc(
        "2026-03-29T06:00"
    )  # 08:00 CEST
    assert plan(starts_at, BELGRADE, DEFAULT, QUIET, utc("2026-03-01T00:00")) == [
        ("email", "email-10080m", utc("2026-03-22T08:30")),
        ("email", "email-1440m", utc("2026-03-28T08:30")),
        ("sms", "sms-120m", utc("2026-03-29T06:00")),
    ]


def test_a_reminder_that_quiet_hours_would_push_past_the_start_goes_out_the_evening_before() -> (
    None
):
    starts_at = utc("2026-06-10T05:30")  # 07:30 CEST: 08:00 would be too late
    due = outside_quiet(utc("2026-06-10T03:30"), starts_at, BELGRADE, QUIET)
    assert due == utc("2026-06-09T18:59")  # 20:59 CEST, the last minute before quiet hours


def test_reminders_already_past_are_not_planned() -> None:
    starts_at = utc("2026-06-10T07:30")
    planned = plan(starts_at, BELGRADE, DEFAULT, QUIET, utc("2026-06-08T12:00"))
    assert [slot for _, slot, _ in planned] == ["email-1440m", "sms-120m"]


@pytest.mark.parametrize(
    ("now", "live", "expected"),
    [
        ("2026-06-09T07:30", 2, ("send", None)),
        ("2026-06-09T07:30", 3, ("suppress", None)),  # the session moved: a newer plan exists
        ("2026-06-09T07:30", None, ("suppress", None)),  # the seat was released
        ("2026-06-10T07:30", 2, ("too_late", None)),  # never after the start
        ("2026-06-09T20:00", 2, ("defer", utc("2026-06-10T06:00"))),  # 22:00 CEST: wait for 08:00
    ],
)
def test_the_verdict_at_send_time(
    now: str, live: int | None, expected: tuple[str, datetime | None]
) -> None:
    starts_at = utc("2026-06-10T07:30")
    got = verdict(2, live, starts_at=starts_at, now=utc(now), zone=BELGRADE, quiet=QUIET)
    assert got == expected


@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
    ),
    hours=st.integers(min_value=1, max_value=24 * 14),
)
def test_planned_reminders_are_never_quiet_and_never_after_the_start(
    start: datetime, hours: int
) -> None:
    offsets = {"email": (timedelta(hours=hours),), "sms": (timedelta(days=hours // 24),)}
    for _, _, due in plan(start, BELGRADE, offsets, QUIET, start - timedelta(days=30)):
        assert due < start
        assert not QUIET.contains(due, BELGRADE)
