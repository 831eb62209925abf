"""A session's days as its attendees live them: in the session's own time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.contracts import SessionSnapshot


@dataclass(frozen=True)
class LocalDay:
    """One day of a session in the session's zone."""

    starts_at: datetime
    ends_at: datetime


def local_days(session: SessionSnapshot) -> tuple[LocalDay, ...]:
    """The session's days in its own zone, in chronological order."""
    zone = ZoneInfo(session.timezone)
    days = sorted(session.days, key=lambda day: day.starts_at)
    return tuple(LocalDay(d.starts_at.astimezone(zone), d.ends_at.astimezone(zone)) for d in days)


def daily_count(days: tuple[LocalDay, ...]) -> int | None:
    """Return n when the days are consecutive with the same local times (FREQ=DAILY;COUNT=n)."""
    first = days[0]
    for offset, day in enumerate(days):
        if _clock(day) != _clock(first):
            return None
        if day.starts_at.date() != first.starts_at.date() + timedelta(days=offset):
            return None
    return len(days)


def _clock(day: LocalDay) -> tuple[time, time, timedelta]:
    """Local start and end time, and how many midnights the day spans."""
    return day.starts_at.time(), day.ends_at.time(), day.ends_at.date() - day.starts_at.date()
