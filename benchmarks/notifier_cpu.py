"""`python -m benchmarks.notifier_cpu`: the notifier's CPU per placement taken in and per invite sent.

In process and without Kafka, so only the notifier's own work is counted: seats go straight to the
intake's use case, `--placements` one at a time (`handlers.on_placement`, a transaction each) and as
many again in batches as Kafka hands them over (`handlers.on_placements`), then the dispatcher sends
the invites over the deployed SMTP pool to an aiosmtpd sink in a child process, and hands outcome
events to a publisher that acknowledges after 2 ms (a loopback Kafka round trip). CPU is this
process's `time.process_time()`, JSON logs rendered as in production (to /dev/null); reminders
are planned with the seats but fall due weeks later.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvloop

from benchmarks.reminders.data import ZONE, seat, snapshot
from benchmarks.reminders.notifier import intake_of
from benchmarks.stats import table
from deploy.ports import free_port
from services.notifier import handlers
from services.notifier.main import build_dispatcher
from services.notifier.settings import NotifierSettings
from services.notifier.smtp import SmtpConfig, SmtpMailer
from services.notifier.store import SqlNotificationStore
from shared.clock import SystemClock
from shared.contracts import NotificationOutcomeV1, SeatAssignedV1
from shared.kafka import make_broker
from shared.logging import configure_logging

BATCH = 200  # placements per Kafka batch at most (`batch_subscriber_options`)


@dataclass
class AckedOutcomes:
    """An outcome publisher that acknowledges each event after `ack_s` seconds."""

    ack_s: float = 0.002
    expected: int = 0
    published: list[NotificationOutcomeV1] = field(default_factory=list)
    all_in: asyncio.Event = field(default_factory=asyncio.Event)

    async def publish(self, outcome: NotificationOutcomeV1) -> None:
        """Wait as for Kafka's acknowledgement, then keep it."""
        await asyncio.sleep(self.ack_s)
        self.published.append(outcome)
        if len(self.published) >= self.expected:
            self.all_in.set()


def seats(count: int, now: datetime) -> list[SeatAssignedV1]:
    """`count` seats in 30-seat two-day sessions a month ahead, one address per person."""
    starts = datetime.combine(now.astimezone(ZONE).date() + timedelta(days=30), now.time(), ZONE)
    sessions = [snapshot(f"cpu-{n}", starts) for n in range(count // 30 + 1)]
    return [seat(sessions[i // 30], f"cpu-{i}@bench.example", now) for i in range(count)]


@contextmanager
def smtp_sink(port: int) -> Iterator[None]:
    """aiosmtpd's accept-everything Sink handler in a child process (its CPU is not ours)."""
    command = [sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink"]
    child = subprocess.Popen([*command, "-l", f"127.0.0.1:{port}"])
    try:
        yield
    finally:
        child.terminate()
        child.wait(timeout=10)


async def listening(port: int) -> bool:
    """Whether something accepts TCP connections on the port yet."""
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    return True


async def measure(count: int, data_dir: Path, port: int) -> list[tuple[str, str]]:
    """Take `count` seats in, then send their invites; the CPU and wall time of each phase."""
    settings = NotifierSettings(
        _env_file=None, data_dir=data_dir, smtp_port=port, link_signing_secret=secrets.token_hex(16)
    )
    store = SqlNotificationStore(settings.database_url_for("notifier", None))
    await store.create_tables()
    mailer = SmtpMailer(SmtpConfig.from_settings(settings), pool_size=settings.smtp_pool_size)
    broker = make_broker(settings.kafka_bootstrap_servers, client_id="bench")  # never connected
    dispatcher = build_dispatcher(
        settings, store, broker, mailer=mailer, sms=None, clock=SystemClock()
    )
    outcomes = AckedOutcomes(expected=2 * count)
    dispatcher.outcomes = outcomes
    intake = intake_of(store, settings)
    placed = seats(2 * count, datetime.now(UTC))
    try:
        cpu, wall = time.process_time(), time.perf_counter()
        for event in placed[:count]:
            await handlers.on_placement(event, intake)
        intake_cpu, intake_wall = time.process_time() - cpu, time.perf_counter() - wall
        cpu = time.process_time()
        for start in range(count, 2 * count, BATCH):
            await handlers.on_placements(placed[start : start + BATCH], intake)
        batch_cpu = time.process_time() - cpu
        cpu, wall = time.process_time(), time.perf_counter()
        dispatcher.start(settings.dispatch_poll_interval)  # the service's loop, as deployed
        await outcomes.all_in.wait()
        send_cpu, send_wall = time.process_time() - cpu, time.perf_counter() - wall
        await dispatcher.stop()
    finally:
        await mailer.close()
        await store.dispose()
    sent = sum(1 for o in outcomes.published if o.status == "sent" and o.kind == "invite")
    return [
        ("placements taken in (invite + reminders queued)", f"{count} + {count}"),
        ("intake: CPU per placement, one at a time", f"{1000 * intake_cpu / count:.2f} ms"),
        ("intake: placements/s, one at a time", f"{count / intake_wall:.0f}"),
        (f"intake: CPU per placement, in batches of {BATCH}", f"{1000 * batch_cpu / count:.2f} ms"),
        (f"invites sent (SMTP pool of {settings.smtp_pool_size})", f"{sent} of {2 * count}"),
        ("dispatcher: CPU per invite", f"{1000 * send_cpu / max(sent, 1):.2f} ms"),
        ("dispatcher: invites/s", f"{sent / send_wall:.0f}"),
    ]


def main() -> None:
    """Print the figures as a markdown table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.notifier_cpu")
    parser.add_argument("--placements", type=int, default=2000)
    args = parser.parse_args()
    port = free_port()
    devnull = open(os.devnull, "w")  # noqa: SIM115  # JSON lines rendered as in production, kept nowhere
    configure_logging("notifier", fmt="json", stream=devnull, for_the_process=True)
    with tempfile.TemporaryDirectory(prefix="bench-notifier-") as scratch, smtp_sink(port), devnull:
        rows = uvloop.run(_run(args.placements, Path(scratch), port))  # as the service runs
    print(table(rows))


async def _run(count: int, data_dir: Path, port: int) -> list[tuple[str, str]]:
    await wait_listening(port)
    return await measure(count, data_dir, port)


async def wait_listening(port: int, within_s: float = 15) -> None:
    """Wait until the sink accepts connections."""
    deadline = time.monotonic() + within_s
    while not await listening(port):
        if time.monotonic() > deadline:
            raise SystemExit(f"the SMTP sink did not listen on {port}")
        await asyncio.sleep(0.1)


if __name__ == "__main__":
    main()
