"""Readings taken from the services' own JSON logs: when the notifier queued each invite."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

QUEUED = "notification.queued"
QUEUED_MARK = f'"{QUEUED}"'  # lines without it are not parsed at all


def invites_queued_at(lines: Iterable[str], clock_offset: float) -> dict[str, float]:
    """Registration id -> when its first invite was queued, on the benchmark's clock.

    An invite's notification key is `recipient:session:invite:revision`, and a participant's
    recipient id is the registration id; `clock_offset` (see `epoch_to_clock`) turns a log
    timestamp (UTC, wall clock) into a `time.perf_counter()` reading. Lines that are not such
    JSON entries are skipped.
    """
    queued: dict[str, float] = {}
    for line in lines:
        if QUEUED_MARK not in line:
            continue
        try:
            entry = json.loads(line)
            recipient, _, kind, _ = entry["notification_key"].split(":")
            epoch = datetime.fromisoformat(entry["timestamp"]).timestamp()
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        if entry.get("event") == QUEUED and kind == "invite":
            queued.setdefault(recipient, epoch + clock_offset)
    return queued


def epoch_to_clock() -> float:
    """What to add to a wall-clock reading to put it on `time.perf_counter()`'s scale."""
    return time.perf_counter() - time.time()


def read_invites_queued(log: Path) -> dict[str, float]:
    """`invites_queued_at` over the notifier's log file (empty if there is none yet)."""
    if not log.is_file():
        return {}
    with log.open(encoding="utf-8", errors="replace") as lines:
        return invites_queued_at(lines, epoch_to_clock())
