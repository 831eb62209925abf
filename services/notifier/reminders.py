"""Reminder rules, pure: when each reminder is due, quiet hours, and whether to send it now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from services.notifier.notices import Channel

Verdict = Literal["send", "defer", "suppress", "too_late"]
LAST_CALL = timedelta(minutes=1)


@dataclass(frozen=True)
class QuietHours:
    """A nightly window (in the session's zone) when no reminder goes out; it may wrap midnight."""

    start: time = time(21, 0)
    end: time = time(8, 0)

    def contains(self, moment: datetime, zone: ZoneInfo) -> bool:
        """Whether `moment` falls in the window, read on the zone's wall clock."""
        local = moment.astimezone(zone).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def end_after(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """The first end of the window after `moment` (wall-clock 08:00, DST-correct)."""
        local = moment.astimezone(zone)
        day = local.date() if local.time() < self.end else local.date() + timedelta(days=1)
        return datetime.combine(day, self.end, zone)

    def start_before(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """The last start of the window at or before `moment`."""
        local = moment.astimezone(zone)
        day = local.date() if local.time() >= self.start else local.date() - timedelta(days=1)
        return datetime.combine(day, self.start, zone)


def due_before(starts_at: datetime, offset: timedelta, zone: ZoneInfo) -> datetime:
    """Whole days count on the wall clock (7 days before 09:30 is 09:30), the rest in real time."""
    local = starts_at.astimezone(zone).replace(tzinfo=None) - timedelta(days=offset.days)
    wall = local.replace(tzinfo=zone)
    return wall - timedelta(seconds=offset.seconds, microseconds=offset.microseconds)


def slot_name(channel: Channel, offset: timedelta) -> str:
    """A reminder's name inside its key, e.g. `email-1440m`."""
    return f"{channel}-{int(offset.total_seconds() // 60)}m"


def plan(
    starts_at: datetime,
    zone: ZoneInfo,
    offsets: dict[Channel, tuple[timedelta, ...]],
    quiet: QuietHours,
    now: datetime,
) -> list[tuple[Channel, str, datetime]]:
    """Every reminder still ahead, as (channel, slot, due), moved out of quiet hours."""
    planned = []
    for channel, channel_offsets in offsets.items():
        for offset in channel_offsets:
            due = outside_quiet(due_before(starts_at, offset, zone), starts_at, zone, quiet)
            if now <= due < starts_at:
                planned.append((channel, slot_name(channel, offset), due))
    return planned


def outside_quiet(
    due: datetime, starts_at: datetime, zone: ZoneInfo, quiet: QuietHours
) -> datetime:
    """Defer a due time out of quiet hours; if that reaches the start, send before the night."""
    if not quiet.contains(due, zone):
        return due
    later = quiet.end_after(due, zone)
    return later if later < starts_at else quiet.start_before(due, zone) - LAST_CALL


def verdict(
    due_revision: int,
    live_revision: int | None,
    *,
    starts_at: datetime,
    now: datetime,
    zone: ZoneInfo,
    quiet: QuietHours,
) -> tuple[Verdict, datetime | None]:
    """Decide at send time: current state first, then the start, then quiet hours."""
    if live_revision != due_revision:
        return "suppress", None
    if now >= starts_at:
        return "too_late", None
    if quiet.contains(now, zone):
        later = quiet.end_after(now, zone)
        return ("defer", later) if later < starts_at else ("too_late", None)
    return "send", None
