"""The notifier CPU benchmark measures what it says: every placement taken in, every invite sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.notifier_cpu import measure, smtp_sink, wait_listening
from deploy.ports import free_port
from services.notifier.settings import NotifierSettings

pytestmark = pytest.mark.integration


async def test_every_placement_is_taken_in_and_every_invite_sent(tmp_path: Path) -> None:
    port = free_port()
    with smtp_sink(port):
        await wait_listening(port)
        rows = dict(await measure(12, tmp_path, port))
    assert rows["placements taken in (invite + reminders queued)"] == "12 + 12"
    pool = NotifierSettings(_env_file=None).smtp_pool_size
    assert rows[f"invites sent (SMTP pool of {pool})"] == "24 of 24"
    assert float(rows["dispatcher: CPU per invite"].removesuffix(" ms")) > 0
