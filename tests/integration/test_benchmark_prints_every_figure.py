"""`python -m benchmarks` at a small scale prints every figure the issue asks for, as numbers."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SMALL = ["--warm-up", "30", "--registrations", "150", "--seconds", "1", "--opening-day", "0"]


def figures(output: str) -> dict[str, str]:
    """The markdown table's rows, figure -> value."""
    rows = (line.split("|")[1:3] for line in output.splitlines() if line.startswith("| "))
    return {name.strip(): value.strip() for name, value in rows}


def test_throughput_latency_ceiling_ratio_and_memory_are_printed(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            *SMALL,
            "--reminders",
            "0",
            "--data-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    printed = figures(done.stdout)
    assert printed["registrations (throughput run)"] == "150 accepted, 0 retried"
    assert re.fullmatch(
        r"\d+ registrations/s", printed["sustained throughput, POST -> invite accepted"]
    )
    for percentile in ("p50", "p95", "p99"):
        name = next(
            n for n in printed if n.startswith("latency at 200/s") and n.endswith(percentile)
        )
        assert re.fullmatch(r"\d+ ms", printed[name])
    before, after = re.fullmatch(
        r"(\d+) / (\d+) messages/s",
        printed["ceiling: raw aiokafka relay throughput, just before / after ours"],
    ).groups()  # type: ignore[union-attr]
    ours = int(printed["sustained throughput, POST -> invite accepted"].split()[0])
    ratio = float(printed["our throughput / ceiling (their mean)"])
    assert ratio == pytest.approx(2 * ours / (int(before) + int(after)), abs=0.02)
    for service in ("registration", "scheduler", "notifier"):
        assert re.fullmatch(
            r"\d+ MiB \(peak \d+ MiB\)", printed[f"RSS {service} (after the throughput runs)"]
        )
    cpu = printed["CPU per registration, ms (throughput run)"]
    total, parts = cpu.split(" = ")
    shares = [float(part.rsplit(" ", 1)[1]) for part in parts.split(" + ")]
    assert float(total) == pytest.approx(sum(shares), abs=0.1 * len(shares))
