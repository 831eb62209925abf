"""`make run`'s entry point as a user runs it: it comes up, an invite arrives, Ctrl-C leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from deploy.ports import free_port

pytestmark = pytest.mark.e2e


def processes_mentioning(marker: str) -> list[int]:
    """Pids whose command line or environment mentions `marker` (our data folder)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            blob = (proc / "cmdline").read_bytes() + (proc / "environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in blob:
            found.append(int(proc.name))
    return found


def wait_for_line(process: subprocess.Popen[str], needle: str, timeout: float) -> list[str]:
    """Read the runner's output until a line contains `needle`."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if needle in line:
            return seen
    raise AssertionError(f"{needle!r} not printed; output:\n{''.join(seen[-40:])}")


def test_make_run_serves_a_registration_and_stops_cleanly(tmp_path: Path, repo_root: Path) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("reads /proc to prove no process is left behind")
    data_dir = tmp_path / "run-data"
    http_port = free_port()
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k
            not in ("KAFKA_BOOTSTRAP_SERVERS", "SMTP_HOST", "SMS_GATEWAY_URL", "STAFF_API_TOKENS")
        },
        "DATA_DIR": str(data_dir),
        "HTTP_PORT": str(http_port),
        "SMTP_PORT": str(free_port()),
        "SMS_SINK_PORT": str(free_port()),
        "ADMIN_HTTP_PORT": str(admin_port := free_port()),
        "KAFKA_PORT": str(free_port()),
        "PYTHONUNBUFFERED": "1",
    }
    runner = subprocess.Popen(
        [sys.executable, "-m", "deploy.local.run"],
        cwd=repo_root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = "".join(wait_for_line(runner, "Press Ctrl-C", timeout=180))
        assert f"http://127.0.0.1:{http_port}" in banner
        assert str(data_dir / "mail") in banner
        sample = (repo_root / "deploy/seed/sample-registration.json").read_text()
        response = httpx.post(
            f"http://127.0.0.1:{http_port}/registrations",
            content=sample,
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 202, response.text
        deadline = time.monotonic() + 30
        while not list((data_dir / "mail").glob("*.eml")) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert list((data_dir / "mail").glob("*.eml")), "no invite captured"
        token = (data_dir / "staff-api-token").read_text().strip()
        sessions = f"http://127.0.0.1:{admin_port}/admin/programmes/social-networks-lsg/sessions"
        assert httpx.get(sessions).status_code == 401
        staff = httpx.get(sessions, headers={"Authorization": f"Bearer {token}"})
        assert staff.status_code == 200, "make run's generated staff token opens the admin API"
    finally:
        runner.send_signal(signal.SIGINT)
        try:
            runner.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            runner.kill()
            raise
    assert runner.returncode == 0
    assert processes_mentioning(str(data_dir)) == [], "make run left processes behind"
