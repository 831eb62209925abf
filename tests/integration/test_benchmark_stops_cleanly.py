"""`python -m benchmarks` stopped by SIGTERM (a timeout, a CI job cancelled) leaves nothing running."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deploy.local.stack import LocalStack, StackSettings

pytestmark = pytest.mark.integration


def processes_under(folder: Path) -> list[int]:
    """Pids whose command line or environment names `folder` (the broker, the services)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            named = (proc / "cmdline").read_bytes() + (proc / "environ").read_bytes()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if str(folder).encode() in named:
            found.append(int(proc.name))
    return found


def started(stack: LocalStack) -> bool:
    """Whether every service process of the benchmark's stack has logged its start."""
    paths = [stack.log_path(name) for name in stack.services]
    return all(p.exists() and b'"service.started"' in p.read_bytes() for p in paths)


def test_a_sigterm_stops_the_services_and_the_broker_it_started(tmp_path: Path) -> None:
    data = tmp_path / "bench"
    argv = ["--registrations", "200", "--warm-up", "50", "--seconds", "1", "--opening-day", "0"]
    bench = subprocess.Popen(
        [sys.executable, "-m", "benchmarks", *argv, "--reminders", "0", "--data-dir", str(data)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 180
        stack = LocalStack(StackSettings(data_dir=data / "steady" / "stack"))  # its names only
        while not started(stack):
            assert bench.poll() is None, "the benchmark ended before its services were up"
            assert time.monotonic() < deadline, "the services did not start"
            time.sleep(0.2)
        assert processes_under(data)  # the broker and the services are running
        bench.send_signal(signal.SIGTERM)
        bench.wait(timeout=120)
    finally:
        bench.kill()
    assert processes_under(data) == []
