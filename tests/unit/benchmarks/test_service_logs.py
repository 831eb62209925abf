"""Readings from the services' JSON logs: when the notifier queued each invite."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks.service_logs import invites_queued_at, read_invites_queued

pytestmark = pytest.mark.unit

AT = datetime(2026, 12, 1, 22, 15, 54, 719220, tzinfo=UTC)


def queued(key: str, at: datetime = AT, event: str = "notification.queued") -> str:
    """A log line as the notifier writes it (structlog JSON, ISO UTC timestamp with Z)."""
    stamp = at.isoformat().replace("+00:00", "Z")
    return json.dumps({"notification_key": key, "queued": 3, "event": event, "timestamp": stamp})


def test_an_invite_is_read_by_its_registration_id_on_the_benchmark_clock() -> None:
    lines = [queued("reg-a:od-0001:invite:1")]
    assert invites_queued_at(lines, clock_offset=-AT.timestamp() + 5.0) == {"reg-a": 5.0}


def test_only_invites_count_and_the_first_one_wins() -> None:
    later = AT.replace(second=59)
    lines = [
        queued("reg-a:od-0001:reminder.day-before:1"),
        queued("reg-a:waitlist:waitlisted:1"),
        queued("reg-b:od-0002:invite:1"),
        queued("reg-b:od-0002:invite:2", at=later),  # a later revision: not the first invite
    ]
    assert invites_queued_at(lines, clock_offset=0.0) == {"reg-b": AT.timestamp()}


def test_other_lines_are_skipped() -> None:
    lines = [
        "INFO:     Uvicorn running on http://127.0.0.1:8000",
        '{"event": "notification.queued"',  # cut short
        queued("reg-a:od-0001:invite:1", event="invite.sent"),
        json.dumps(  # mentions the event as a value, is another event
            {
                "event": "invite.sent",
                "after": "notification.queued",
                "notification_key": "reg-a:od-0001:invite:1",
                "timestamp": "2026-12-01T22:15:54Z",
            }
        ),
        json.dumps({"event": "notification.queued", "timestamp": "not a time"}),
        queued("not-a-key"),
    ]
    assert invites_queued_at(lines, clock_offset=0.0) == {}


def test_a_log_not_written_yet_reads_as_nothing(tmp_path: Path) -> None:
    assert read_invites_queued(tmp_path / "notifier.log") == {}
    (tmp_path / "notifier.log").write_text(queued("reg-a:od-0001:invite:1") + "\n")
    assert set(read_invites_queued(tmp_path / "notifier.log")) == {"reg-a"}
