"""What is pending: held seats whose reminders fall due days ahead, or during the run."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as clock_time
from uuid import uuid4
from zoneinfo import ZoneInfo

from services.notifier.reminders import QuietHours
from shared.contracts import SeatAssignedV1, SessionSnapshot

ZONE = ZoneInfo("Europe/Belgrade")
SEATS = 30
NO_QUIET = QuietHours(clock_time(0, 0), clock_time(0, 0))  # start == end: an empty window


@dataclass(frozen=True)
class Profile:
    """What is pending and what falls due during the run."""

    pending: int
    rate: float
    seconds: float
    bursts: int
    lead: float = 5.0
    grace: float = 60.0

    @property
    def paced(self) -> int:
        """Reminders falling due one after another at `rate` per second."""
        return int(self.rate * self.seconds)

    @property
    def burst(self) -> int:
        """Reminders falling due in the same instant (whole 30-seat sessions)."""
        return self.bursts * SEATS

    @property
    def future_seats(self) -> int:
        """Seats whose two email reminders (7 days and 1 day before) are due days ahead."""
        return max(0, self.pending - self.paced - self.burst) // 2


def snapshot(session_id: str, starts_at: datetime) -> SessionSnapshot:
    """A two-day in-person training at the SKIP Center, as the scheduler describes it."""
    days = [
        {
            "starts_at": starts_at + timedelta(days=d),
            "ends_at": starts_at + timedelta(days=d, hours=7),
        }
        for d in (0, 1)
    ]
    return SessionSnapshot.model_validate(
        {
            "session_id": session_id,
            "programme_id": "pr-gradovi-2026",
            "title": "Odnosi s javnošću u lokalnoj samoupravi",
            "mode": "in_person",
            "timezone": ZONE.key,
            "days": days,
            "venue": {"name": "SKIP Centar", "city": "Beograd", "room": "Sala 2"},
            "language": "sr-Latn",
            "trainers": [{"full_name": "Milica Đurić", "email": "milica@trainers.example"}],
        }
    )


def seat(session: SessionSnapshot, email: str, now: datetime) -> SeatAssignedV1:
    """A held seat (revision 1), email reminders only, a distinct address per person."""
    attendee = {"full_name": "Jelena Petrović", "email": email, "organisation": "Grad Niš"}
    return SeatAssignedV1.model_validate(
        {
            "event_id": uuid4(),
            "occurred_at": now,
            "correlation_id": f"bench-{email.partition('@')[0]}",
            "producer": "scheduler",
            "registration_id": uuid4(),
            "programme_id": session.programme_id,
            "session": session,
            "attendee": attendee,
            "reason": "benchmark",
        }
    )


def like(template: SeatAssignedV1, session: SessionSnapshot, email: str) -> SeatAssignedV1:
    """`template` for another person and session: a copy, as valid as `seat` but without its cost."""
    attendee = template.attendee.model_copy(update={"email": email})
    ids = {"event_id": uuid4(), "registration_id": uuid4()}
    correlation = {"correlation_id": f"bench-{email.partition('@')[0]}"}
    return template.model_copy(
        update={**ids, **correlation, "session": session, "attendee": attendee}
    )


def future_seats(profile: Profile, now: datetime) -> Iterator[SeatAssignedV1]:
    """30-seat sessions starting at 09:30 on days 9 to 60 ahead: both reminders are days away."""
    today = now.astimezone(ZONE).date()
    template: SeatAssignedV1 | None = None
    for number in range(math.ceil(profile.future_seats / SEATS)):
        day = today + timedelta(days=9 + number % 52)
        session = snapshot(f"future-{number}", datetime.combine(day, clock_time(9, 30), ZONE))
        for index in range(number * SEATS, min((number + 1) * SEATS, profile.future_seats)):
            email = f"future-{index}@bench.example"
            template = template or seat(session, email, now)
            yield like(template, session, email)


def due_seats(
    profile: Profile, first_due: datetime, now: datetime, tag: str = ""
) -> dict[str, SeatAssignedV1]:
    """By recipient: seats whose 1-day reminder falls due in the window (paced, then bursts)."""
    seats = {}
    for index in range(profile.paced):
        due = first_due + timedelta(seconds=index / profile.rate)
        session = snapshot(f"paced-{tag}{index}", due.astimezone(ZONE) + timedelta(days=1))
        email = f"paced-{tag}{index}@bench.example"
        seats[email] = seat(session, email, now)
    burst_due = first_due + timedelta(seconds=profile.seconds + 2)
    for number in range(profile.bursts):
        session = snapshot(f"burst-{tag}{number}", burst_due.astimezone(ZONE) + timedelta(days=1))
        for place in range(SEATS):
            email = f"burst-{tag}{number}-{place}@bench.example"
            seats[email] = seat(session, email, now)
    return seats


def quiet_for(now: datetime, minutes: int = 60) -> QuietHours:
    """The default quiet hours, or none when the next `minutes` touch them (said in the table)."""
    default = QuietHours()
    moments = (now + timedelta(minutes=m) for m in range(minutes + 1))
    return NO_QUIET if any(default.contains(m, ZONE) for m in moments) else default
