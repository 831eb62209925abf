"""The benchmark offers what it says: due times at the stated rate, valid seats, honest arithmetic."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from benchmarks.reminders.data import NO_QUIET, ZONE, Profile, due_seats, future_seats, quiet_for
from benchmarks.reminders.measure import Result, delays_by_group
from benchmarks.reminders.notifier import intake_of, settings_for
from benchmarks.sink import TimingSink
from services.notifier import handlers
from services.notifier.bulk import Loaded, seat_notice
from services.notifier.reminders import QuietHours
from services.notifier.store import SqlNotificationStore
from shared.clock import ManualClock
from shared.contracts import SeatAssignedV1

pytestmark = pytest.mark.unit
NOON = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # 12:00 in Belgrade


def planned(seat: SeatAssignedV1, tmp_path: Path) -> list[tuple[str, datetime]]:
    """(slot, due) of every reminder the intake plans for `seat` at NOON."""
    real = intake_of(
        SqlNotificationStore("sqlite+aiosqlite://"), settings_for(tmp_path, QuietHours())
    )
    intake = handlers.Intake(
        real.store, ManualClock(NOON), real.mail_domain, real.offsets, real.quiet, real.wake
    )
    return [(r.slot or "", due) for r, due in handlers.plan_reminders(seat_notice(seat), intake)]


def test_paced_reminders_fall_due_at_the_rate_and_bursts_in_one_instant(tmp_path: Path) -> None:
    profile = Profile(pending=10_000, rate=10, seconds=2, bursts=2)
    first = NOON + timedelta(seconds=5)
    seats = due_seats(profile, first, NOON)

    dues = {email: planned(seat, tmp_path) for email, seat in seats.items()}
    paced = [dues[f"paced-{i}@bench.example"] for i in range(20)]
    bursts = [plan for email, plan in dues.items() if email.startswith("burst-")]
    assert len(seats) == profile.paced + profile.burst == 20 + 60
    assert paced == [[("email-1440m", first + timedelta(seconds=i / 10))] for i in range(20)]
    assert bursts == [[("email-1440m", first + timedelta(seconds=4))]] * 60
    assert profile.future_seats == (10_000 - 80) // 2


def test_seats_due_days_ahead_are_valid_distinct_events_in_30_seat_sessions() -> None:
    seats = list(future_seats(Profile(pending=200, rate=1, seconds=0, bursts=0), NOON))

    assert [SeatAssignedV1.model_validate(s.model_dump()) for s in seats] == seats
    assert len({s.registration_id for s in seats}) == len({s.attendee.email for s in seats}) == 100
    sessions = {s.session.session_id for s in seats}
    assert len(sessions) == 4  # 30 + 30 + 30 + 10
    starts = [min(d.starts_at for d in s.session.days) for s in seats]
    assert min(starts) >= NOON + timedelta(days=8)


def test_quiet_hours_stay_default_unless_the_next_hour_touches_them() -> None:
    assert quiet_for(NOON) == QuietHours()
    assert quiet_for(datetime(2026, 11, 23, 19, 30, tzinfo=UTC)) == NO_QUIET  # 20:30 Belgrade
    assert quiet_for(datetime(2026, 11, 23, 23, 0, tzinfo=UTC)) == NO_QUIET  # midnight
    assert not NO_QUIET.contains(datetime(2026, 11, 23, 23, 0, tzinfo=UTC), ZONE)


def test_delay_is_the_sinks_acceptance_minus_the_due_time_on_the_wall_clock() -> None:
    sink = TimingSink(port=1)  # never started: only its records are used
    now = datetime.now(UTC)
    sink.accepted_at["paced-0@bench.example"] = time.perf_counter()
    sink.accepted_at["burst-0-1@bench.example"] = time.perf_counter()
    due = {
        "paced-0@bench.example": now - timedelta(seconds=1.5),
        "burst-0-1@bench.example": now - timedelta(seconds=0.25),
        "paced-1@bench.example": now,  # not delivered
    }
    delays = delays_by_group(sink, due)
    assert delays["paced"] == [pytest.approx(1.5, abs=0.05)]
    assert delays["burst"] == [pytest.approx(0.25, abs=0.05)]


@pytest.mark.parametrize(
    ("delays", "messages", "recipients", "complete"),
    [
        ({"paced": [0.5, 0.7], "burst": [1.0]}, 3, 3, True),
        ({"paced": [0.5], "burst": [1.0]}, 2, 2, False),  # one due reminder missing
        ({"paced": [0.5, 0.7], "burst": [1.0]}, 4, 3, False),  # one sent twice
        ({"paced": [0.5, 0.7], "burst": [1.0]}, 4, 4, False),  # one not due was sent
        ({"paced": [-0.1, 0.7], "burst": [1.0]}, 3, 3, False),  # one sent early
    ],
)
def test_a_run_counts_only_when_every_due_reminder_went_out_once_and_nothing_else(
    delays: dict[str, list[float]], messages: int, recipients: int, complete: bool
) -> None:
    result = Result(
        profile=Profile(pending=10, rate=2, seconds=1, bursts=0),
        quiet=QuietHours(),
        dispatch="",
        loaded=Loaded(seats=0, planned=0, inserted=0),
        load_s=0.0,
        pending=10,
        delays=delays,
        expected={"paced": 2, "burst": 1},
        sent_messages=messages,
        sent_recipients=recipients,
        rss_idle=(1.0, 1.0),
        rss_end=(1.0, 1.0),
        window_cpu_s=1.0,
        store_mib=1.0,
        claim_plan="",
    )
    assert result.complete is complete
