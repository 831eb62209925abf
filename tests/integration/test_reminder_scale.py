"""The reminder-scale benchmark at small scale: the real notifier process on a real broker.

2,000 reminders pending; 60 fall due at 20/s, then one 30-seat session in one instant. Every due
reminder must be accepted by the SMTP sink exactly once and never early, none of the others sent.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
REPO_ROOT = Path(__file__).resolve().parents[2]
ARGS = ["--pending", "2000", "--rate", "20", "--seconds", "3", "--bursts", "1", "--lead", "3"]


@pytest.fixture(scope="module")
def run(service_kafka: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """`python -m benchmarks.reminders` at small scale: its output and its data folder."""
    data_dir = tmp_path_factory.mktemp("reminder-scale")
    argv = [sys.executable, "-m", "benchmarks.reminders", *ARGS, "--grace", "20"]
    argv += ["--bootstrap", service_kafka, "--data-dir", str(data_dir)]
    done = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout, data_dir


def figures(output: str) -> dict[str, str]:
    """The printed markdown table as {figure: value}."""
    cells = [line.strip("| ").split(" | ") for line in output.splitlines() if line.startswith("| ")]
    return {cell[0].strip(): cell[1].strip() for cell in cells if len(cell) == 2}


def statuses(data_dir: Path) -> dict[tuple[str, str], int]:
    """Outbox rows counted by (session group, status)."""
    query = (
        "SELECT substr(session_id, 1, instr(session_id, '-') - 1), status, count(*)"
        " FROM notification_outbox GROUP BY 1, 2"
    )
    with closing(sqlite3.connect(data_dir / "notifier.sqlite3")) as connection:
        return {(group, status): n for group, status, n in connection.execute(query)}


def test_every_due_reminder_is_sent_once_and_nothing_else(run: tuple[str, Path]) -> None:
    output, data_dir = run
    table = figures(output)
    assert table["pending reminders when the window opened"] == "2,000"
    assert table["paced: delay p50 / p95 / p99 / max"].endswith("(60 of 60 delivered)")
    assert table["burst: delay p50 / p95 / p99 / max"].endswith("(30 of 30 delivered)")
    assert table["messages accepted / to a reminder not due / twice"] == "90 / 0 / 0"
    assert statuses(data_dir) == {
        ("future", "pending"): 1910,
        ("paced", "sent"): 60,
        ("burst", "sent"): 30,
    }


def test_the_claim_query_stays_an_index_range_scan(run: tuple[str, Path]) -> None:
    plan = figures(run[0])["claim query plan"]
    assert (
        plan
        == "SEARCH notification_outbox USING INDEX ix_notification_outbox_due (status=? AND next_attempt_at<?)"
    )


def test_the_notifier_logged_no_address_while_sending(run: tuple[str, Path]) -> None:
    _, data_dir = run
    log = (data_dir / "notifier.log").read_text()
    assert log.count('"reminder.sent"') == 90
    assert "@bench.example" not in log
    assert "Petrović" not in log
