"""The notifier under test: its settings, its pre-loaded store, its process, facts about its store."""

from __future__ import annotations

import os
import secrets
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.dialects import sqlite

from benchmarks.load import wait_for
from benchmarks.reminders.data import Profile, future_seats
from deploy.local.processes import Child
from services.notifier.bulk import Loaded, load_seats
from services.notifier.handlers import Intake
from services.notifier.reminders import QuietHours
from services.notifier.settings import NotifierSettings
from services.notifier.store import DUE_ROWS, SqlNotificationStore
from shared.clock import SystemClock
from shared.contracts import SeatAssignedV1


def settings_for(data_dir: Path, quiet: QuietHours) -> NotifierSettings:
    """The notifier's settings for the run; the loader plans with the same ones."""
    return NotifierSettings(
        _env_file=None, data_dir=data_dir, quiet_start=quiet.start, quiet_end=quiet.end
    )


def intake_of(store: SqlNotificationStore, settings: NotifierSettings) -> Intake:
    """The notifier's intake rules over `store`; its bell rings nothing (the dispatcher polls)."""
    return Intake(
        store=store,
        clock=SystemClock(),
        mail_domain=settings.sender().domain,
        offsets=settings.offsets_for,
        quiet=QuietHours(settings.quiet_start, settings.quiet_end),
        wake=lambda: None,
    )


async def load(url: str, seats: Iterator[SeatAssignedV1], settings: NotifierSettings) -> Loaded:
    """Bulk-load seats and their reminders into the notifier's store."""
    store = SqlNotificationStore(url)
    try:
        await store.create_tables()
        return await load_seats(intake_of(store, settings), seats)
    finally:
        await store.dispose()


def kept(db: Path, *, reuse: bool) -> bool:
    """Whether an earlier run's store is kept; refuse to add to one unasked."""
    if db.exists() and not reuse:
        raise SystemExit(f"{db} exists: use an empty --data-dir (or --reuse-store)")
    return db.exists()


async def preload(
    profile: Profile, settings: NotifierSettings, db: Path, *, reuse: bool
) -> tuple[Loaded, float]:
    """Load the reminders due days ahead (timed), or keep those an earlier run loaded."""
    if kept(db, reuse=reuse):
        return Loaded(seats=0, planned=0, inserted=0), 0.0
    url = settings.database_url_for("notifier", None)
    began = time.perf_counter()
    loaded = await load(url, future_seats(profile, datetime.now(UTC)), settings)
    return loaded, time.perf_counter() - began


def notifier_env(
    settings: NotifierSettings, url: str, bootstrap: str, smtp_port: int
) -> dict[str, str]:
    """The notifier's environment, as deploy/local/stack.py gives it, plus the run's store and quiet hours."""
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": url,
        "MAIL_FROM": settings.mail_from,
        "QUIET_START": settings.quiet_start.isoformat(),
        "QUIET_END": settings.quiet_end.isoformat(),
        "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
        "LINK_SIGNING_SECRET": secrets.token_urlsafe(32),
        "LOG_FORMAT": "json",
        "PYTHONUNBUFFERED": "1",
    }


def notifier_process(env: dict[str, str], data_dir: Path) -> Child:
    """`python -m services.notifier`, its output kept in `data_dir/notifier.log`."""
    argv = [sys.executable, "-m", "services.notifier"]
    return Child("notifier", argv, env=env, log_path=data_dir / "notifier.log", echo=False)


async def started(child: Child, offset: int, within_s: float = 120.0) -> None:
    """Wait until the notifier logged `service.started` after `offset` (fail if it exits first)."""

    def up() -> bool:
        if not child.alive():
            raise RuntimeError(f"notifier exited early; see {child.log_path}")
        log = child.log_path
        return log.exists() and b'"service.started"' in log.read_bytes()[offset:]

    if not await wait_for(up, within_s=within_s, every_s=0.2):
        raise TimeoutError(f"notifier not started after {within_s:.0f} s")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pending_count(db: Path) -> int:
    """Pending rows in the outbox."""
    with closing(sqlite3.connect(db)) as connection:
        query = "SELECT count(*) FROM notification_outbox WHERE status = 'pending'"
        return int(connection.execute(query).fetchone()[0])


def claim_plan(db: Path) -> str:
    """SQLite's plan for the claim's search for due rows (the subquery of `CLAIM_ROWS`)."""
    compiled = DUE_ROWS.compile(dialect=sqlite.dialect())
    params = {**compiled.params, "now_": str(datetime.now(UTC).replace(tzinfo=None)), "limit_": 20}
    values = [params[name] for name in compiled.positiontup or ()]
    with closing(sqlite3.connect(db)) as connection:
        plan = connection.execute(f"EXPLAIN QUERY PLAN {compiled}", values).fetchall()
    return "; ".join(str(step[-1]) for step in plan)


def store_mib(db: Path) -> float:
    """The store's size on disk (database, WAL and shared memory files), in MiB."""
    return sum(p.stat().st_size for p in db.parent.glob(f"{db.name}*")) / 2**20
