"""One run: reminders fall due in the live store; the SMTP sink times when each is accepted."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

from benchmarks.load import wait_for
from benchmarks.reminders.data import Profile, due_seats, quiet_for
from benchmarks.reminders.notifier import (
    claim_plan,
    cpu_seconds,
    load,
    notifier_env,
    notifier_process,
    pending_count,
    preload,
    settings_for,
    started,
    store_mib,
)
from benchmarks.sink import TimingSink
from benchmarks.stats import rss_mib
from services.notifier.bulk import Loaded
from services.notifier.reminders import QuietHours
from services.notifier.settings import NotifierSettings


@dataclass(frozen=True)
class Result:
    """What one run measured."""

    profile: Profile
    quiet: QuietHours
    dispatch: str
    loaded: Loaded
    load_s: float
    pending: int
    delays: dict[str, list[float]]
    expected: dict[str, int]
    sent_messages: int
    sent_recipients: int
    rss_idle: tuple[float, float]
    rss_end: tuple[float, float]
    window_cpu_s: float
    store_mib: float
    claim_plan: str

    @property
    def delivered(self) -> int:
        """Due reminders the sink accepted."""
        return sum(len(group) for group in self.delays.values())

    @property
    def complete(self) -> bool:
        """Every due reminder accepted once, none early, nothing else sent: the figures count."""
        once = self.sent_messages == self.sent_recipients == self.delivered
        early = any(delay < 0 for group in self.delays.values() for delay in group)
        return once and not early and self.delivered == sum(self.expected.values())


async def fall_due(profile: Profile, url: str, settings: NotifierSettings) -> dict[str, datetime]:
    """Queue the reminders that fall due during the run (into the live store), `lead` s ahead."""
    now = datetime.now(UTC)
    tag = f"{uuid4().hex[:6]}-"  # this run's addresses: a sink shared with other runs knows none
    seats = due_seats(profile, now + timedelta(seconds=profile.lead), now, tag)
    loaded = await load(url, iter(seats.values()), settings)
    if loaded.inserted != len(seats):
        raise RuntimeError(f"{loaded.inserted} reminders queued for {len(seats)} due seats")
    due = {
        email: min(d.starts_at for d in s.session.days) - timedelta(days=1)
        for email, s in seats.items()
    }
    late = datetime.now(UTC) - min(due.values())
    if late > timedelta(0):
        raise RuntimeError(
            f"queued {late.total_seconds():.1f} s after the first due time: raise --lead"
        )
    return due


def dispatch_settings(settings: NotifierSettings) -> str:
    """The dispatcher's knobs the run used (DISPATCH_* and SMTP_POOL_* from the environment)."""
    knobs = settings.model_dump().items()
    chosen = {k: v for k, v in knobs if k.startswith(("dispatch_", "smtp_pool"))}
    return ", ".join(f"{key}={value}" for key, value in sorted(chosen.items()))


def delays_by_group(sink: TimingSink, due: dict[str, datetime]) -> dict[str, list[float]]:
    """Wall-clock delay (accepted - due) of every delivered reminder, by group (paced, burst)."""
    offset = time.time() - time.perf_counter()
    groups: dict[str, list[float]] = {"paced": [], "burst": []}
    for email, when in due.items():
        if email in sink.accepted_at:
            accepted = sink.accepted_at[email] + offset
            groups[email.partition("-")[0]].append(accepted - when.timestamp())
    return groups


async def run(
    profile: Profile, *, bootstrap: str, data_dir: Path, sink: TimingSink, reuse: bool = False
) -> Result:
    """Load, start the notifier, let reminders fall due, and measure their delay."""
    quiet = quiet_for(datetime.now(UTC))
    settings = settings_for(data_dir, quiet)
    url = settings.database_url_for("notifier", None)
    db = data_dir / "notifier.sqlite3"
    loaded, load_s = await preload(profile, settings, db, reuse=reuse)
    messages_before, recipients_before = sink.messages, sink.count()  # the sink may be shared
    child = notifier_process(notifier_env(settings, url, bootstrap, sink.port), data_dir)
    offset = child.log_path.stat().st_size if child.log_path.exists() else 0
    child.start()
    try:
        await started(child, offset)
        assert child.process is not None
        rss_idle, cpu_before = rss_mib(child.process.pid), cpu_seconds(child.process.pid)
        due = await fall_due(profile, url, settings)
        pending = pending_count(db)
        last = (max(due.values()) - datetime.now(UTC)).total_seconds()
        await wait_for(
            lambda: all(e in sink.accepted_at for e in due), within_s=last + profile.grace
        )
        rss_end, cpu_after = rss_mib(child.process.pid), cpu_seconds(child.process.pid)
    finally:
        child.stop()
    delays = delays_by_group(sink, due)
    return Result(
        profile=profile,
        quiet=quiet,
        dispatch=dispatch_settings(settings),
        loaded=loaded,
        load_s=load_s,
        pending=pending,
        delays=delays,
        expected={"paced": profile.paced, "burst": profile.burst},
        sent_messages=sink.messages - messages_before,
        sent_recipients=sink.count() - recipients_before,
        rss_idle=rss_idle,
        rss_end=rss_end,
        window_cpu_s=cpu_after - cpu_before,
        store_mib=store_mib(db),
        claim_plan=claim_plan(db),
    )
