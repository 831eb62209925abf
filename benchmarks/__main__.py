"""`make bench`: the system's figures on loopback, next to a raw-relay ceiling on the same broker."""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvloop

from benchmarks.calibration import reference_ms
from benchmarks.catalogue import TRAINER, write_catalogue
from benchmarks.ceiling import Relayed, run_ceiling
from benchmarks.load import DecisionTail, drive, registrant, wait_for
from benchmarks.reminders.__main__ import rows as reminder_rows
from benchmarks.reminders.data import Profile
from benchmarks.reminders.measure import run as run_reminders
from benchmarks.service_logs import read_invites_queued
from benchmarks.sink import TimingSink
from benchmarks.stats import cpu_seconds, percentile, rss_mib, stage_latencies, table
from deploy.kafka.launcher import LocalKafka
from deploy.local.stack import LocalStack, StackSettings
from deploy.ports import free_port
from shared.collector import settle_after_start_up

WORKERS = 32
# One loopback address sends everything: lift the public form's abuse limits for the run.
UNLIMITED = {"RATE_LIMIT_PER_ADDRESS": "100000000/minute", "RATE_LIMIT_PER_PERSON": "100000/minute"}
Rows = list[tuple[str, str]]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The knobs; defaults are the issue's figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument(
        "--warm-up",
        type=int,
        default=1000,
        help="registrations through the system before measuring",
    )
    parser.add_argument("--registrations", type=int, default=2000, help="sustained-throughput run")
    parser.add_argument("--rate", type=float, default=200.0, help="fixed rate of the latency run")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the latency run")
    parser.add_argument("--opening-day", type=int, default=100_000, help="0 skips it")
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument(
        "--reminders", type=int, default=1_000_000, help="pending reminders; 0 skips that run"
    )
    parser.add_argument("--data-dir", type=Path, default=None, help="default: a temporary folder")
    return parser.parse_args(argv)


@contextmanager
def system(
    data_dir: Path, sink: TimingSink, *, sessions: int, capacity: int
) -> Iterator[tuple[LocalStack, LocalKafka]]:
    """A fresh broker and the three services, mailing into `sink`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    catalogue = write_catalogue(data_dir / "catalogue.yaml", sessions=sessions, capacity=capacity)
    with LocalKafka(data_dir / "kafka") as kafka:
        settings = StackSettings(
            kafka_bootstrap_servers=kafka.bootstrap_servers,
            smtp_host="127.0.0.1",
            smtp_port=sink.port,
            http_port=free_port(),
            sms_sink_port=free_port(),
            data_dir=data_dir / "stack",
            catalogue_path=catalogue,
        )
        extra = {**UNLIMITED, "ADMIN_HTTP_PORT": str(free_port())}
        with LocalStack(settings, extra_env=extra) as stack:
            yield stack, kafka


async def trainers_invited(sink: TimingSink, before: int, sessions: int) -> None:
    """Wait for the trainers' invites of a new catalogue: start-up work, not per registration."""
    await wait_for(lambda: sink.received[TRAINER] >= before + sessions, within_s=600)


def ms(seconds: float) -> str:
    """Seconds as milliseconds, for the table."""
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.0f} ms"


def memory_rows(stack: LocalStack, when: str) -> Rows:
    """Resident memory of each service now, and its peak."""
    rows = []
    for name in stack.services:
        process = stack.children[name].process
        assert process is not None
        now, peak = rss_mib(process.pid)
        rows.append((f"RSS {name} ({when})", f"{now:.0f} MiB (peak {peak:.0f} MiB)"))
    return rows


def cpu_by_process(stack: LocalStack, kafka: LocalKafka) -> dict[str, float]:
    """CPU seconds used so far by each service, the broker, and this process (load, sink, tail)."""
    pids = {name: stack.children[name].process for name in stack.services}
    used = {name: cpu_seconds(p.pid) for name, p in pids.items() if p is not None}
    if kafka.pid is not None:
        used["kafka"] = cpu_seconds(kafka.pid)
    used["benchmark (HTTP load, SMTP sink)"] = time.process_time()
    return used


def cpu_rows(before: dict[str, float], after: dict[str, float], count: int, run: str) -> Rows:
    """CPU per registration, process by process, over `run`."""
    spent = {name: after[name] - before[name] for name in before}
    total = sum(spent.values())
    parts = [f"{name} {1000 * used / count:.1f}" for name, used in spent.items()]
    return [
        (
            f"CPU per registration, ms ({run})",
            f"{1000 * total / count:.1f} = " + " + ".join(parts),
        )
    ]


async def throughput_and_latency(
    stack: LocalStack, kafka: LocalKafka, sink: TimingSink, args: argparse.Namespace
) -> Rows:
    """Sustained throughput between two runs of the ceiling, then latency at a fixed rate.

    The machine's speed drifts within minutes: the ceiling runs right before and right after the
    system's run, and the ratio is to their mean, so that neither side gets a phase to itself.
    """
    await warm_up(stack, sink, args.warm_up)
    bootstrap = stack.env["KAFKA_BOOTSTRAP_SERVERS"]
    before = await run_ceiling(bootstrap, sink, args.registrations)
    measured, ours = await throughput_run(stack, kafka, sink, args)
    after = await run_ceiling(bootstrap, sink, args.registrations)
    cpu_before = cpu_by_process(stack, kafka)
    latencies, stage_rows = await latency_run(stack, sink, args)
    paced = cpu_rows(cpu_before, cpu_by_process(stack, kafka), len(latencies), "latency run")
    return [
        *measured,
        (
            f"latency at {args.rate:.0f}/s for {args.seconds:.0f} s: p50",
            ms(percentile(latencies, 50)),
        ),
        (f"latency at {args.rate:.0f}/s: p95", ms(percentile(latencies, 95))),
        (f"latency at {args.rate:.0f}/s: p99", ms(percentile(latencies, 99))),
        *stage_rows,
        *paced,
        *ceiling_rows(before, after, ours),
    ]


async def throughput_run(
    stack: LocalStack, kafka: LocalKafka, sink: TimingSink, args: argparse.Namespace
) -> tuple[Rows, float]:
    """`--registrations` POSTs as fast as the API takes them; rows, and registrations per second."""
    bodies = [registrant("burst", i) for i in range(args.registrations)]
    tail = DecisionTail(stack.env["KAFKA_BOOTSTRAP_SERVERS"])
    await tail.start()
    cpu_before = cpu_by_process(stack, kafka)
    try:
        submitted = await drive(stack.api_url, bodies, rate=None, workers=WORKERS)
        accepted_at = time.perf_counter()
        emails = list(submitted.posted_at)
        await wait_for(lambda: all(e in sink.accepted_at for e in emails), within_s=900)
    finally:
        await tail.stop()
    cpu = cpu_rows(cpu_before, cpu_by_process(stack, kafka), len(emails), "throughput run")
    started = min(submitted.posted_at.values())
    finished = max(sink.accepted_at.get(e, math.nan) for e in emails)
    ours = len(emails) / (finished - started)
    decided = max(tail.decided_at.values()) - started
    rows: Rows = [
        ("registrations (throughput run)", f"{len(emails)} accepted, {submitted.retries} retried"),
        ("  stage: API accepted (POST -> 202)", f"{len(emails) / (accepted_at - started):.0f}/s"),
        ("  stage: scheduler decided", f"{len(tail.decided_at) / decided:.0f}/s"),
        ("sustained throughput, POST -> invite accepted", f"{ours:.0f} registrations/s"),
        *cpu,
    ]
    return rows, ours


async def warm_up(stack: LocalStack, sink: TimingSink, count: int) -> None:
    """Registrations through the whole system, not measured: the broker's JIT and every cache warm."""
    bodies = [registrant("warm-up", i) for i in range(count)]
    submitted = await drive(stack.api_url, bodies, rate=None, workers=WORKERS)
    emails = list(submitted.posted_at)
    await wait_for(lambda: all(e in sink.accepted_at for e in emails), within_s=900)


async def latency_run(
    stack: LocalStack, sink: TimingSink, args: argparse.Namespace
) -> tuple[list[float], Rows]:
    """POST at a fixed rate; each latency runs from the POST to the SMTP sink accepting the invite.

    Also where it went: POST to 202, 202 to the decision on placements.v1, decision to the
    invite queued in the notifier's outbox (its log), queued to the invite accepted.
    """
    bodies = [registrant("paced", i) for i in range(int(args.rate * args.seconds))]
    tail = DecisionTail(stack.env["KAFKA_BOOTSTRAP_SERVERS"])
    await tail.start()
    try:
        submitted = await drive(stack.api_url, bodies, rate=args.rate, workers=WORKERS * 4)
        emails = list(submitted.posted_at)
        await wait_for(lambda: all(e in sink.accepted_at for e in emails), within_s=600)
    finally:
        await tail.stop()
    invited = {e: sink.accepted_at[e] for e in emails if e in sink.accepted_at}
    stages = stage_latencies(
        submitted.posted_at,
        submitted.accepted_at,
        submitted.registration_ids,
        tail.decided_at,
        read_invites_queued(stack.log_path("notifier")),
        invited,
    )
    rows = [
        (
            f"latency at {args.rate:.0f}/s by stage: {stage}, p50 / p99",
            f"{ms(percentile(values, 50))} / {ms(percentile(values, 99))}",
        )
        for stage, values in stages.items()
    ]
    return [at - submitted.posted_at[e] for e, at in invited.items()], rows


def ceiling_rows(before: Relayed, after: Relayed, ours: float) -> Rows:
    """The raw relay's two runs on the same broker and sink, and our share of their mean."""
    latencies = before.latencies + after.latencies
    return [
        (
            "ceiling: raw aiokafka relay throughput, just before / after ours",
            f"{before.rate:.0f} / {after.rate:.0f} messages/s",
        ),
        (
            "ceiling: relay latency p50 / p99",
            f"{ms(percentile(latencies, 50))} / {ms(percentile(latencies, 99))}",
        ),
        ("our throughput / ceiling (their mean)", f"{2 * ours / (before.rate + after.rate):.2f}"),
    ]


async def opening_day(stack: LocalStack, kafka: LocalKafka, sink: TimingSink, count: int) -> Rows:
    """`count` registrations as fast as the API takes them; time until all decided and told.

    Two times: until every invite went out (the seated), and until the waitlisted were told too.
    """
    tail = DecisionTail(stack.env["KAFKA_BOOTSTRAP_SERVERS"])
    await tail.start()
    cpu_before = cpu_by_process(stack, kafka)
    try:
        started = time.perf_counter()
        submitted = await drive(
            stack.api_url, [registrant("od", i) for i in range(count)], rate=None, workers=WORKERS
        )
        accepted_s = time.perf_counter() - started
        await wait_for(
            lambda: len(tail.decided_at) >= len(submitted.posted_at), within_s=3600, every_s=1
        )
        seated = [e for e, r in submitted.registration_ids.items() if r in tail.assigned]
        await wait_for(lambda: sink.all_received(seated), within_s=3600, every_s=1)
        invited_s = time.perf_counter() - started
        await wait_for(
            lambda: sink.count_with("od-") >= len(tail.decided_at), within_s=3600, every_s=1
        )
        told_s = time.perf_counter() - started
    finally:
        await tail.stop()
    cpu = cpu_rows(cpu_before, cpu_by_process(stack, kafka), count, "opening day")
    waitlisted = len(tail.decided_at) - len(tail.assigned)
    return [
        (
            "opening day: registrations accepted",
            f"{len(submitted.posted_at)} in {accepted_s:.0f} s ({len(submitted.posted_at) / accepted_s:.0f}/s)",
        ),
        ("opening day: assigned / waitlisted", f"{len(tail.assigned)} / {waitlisted}"),
        ("opening day: until all decided and every invite sent", f"{invited_s:.0f} s"),
        ("opening day: until the waitlisted were told too", f"{told_s:.0f} s"),
        *cpu,
    ]


async def main_async(args: argparse.Namespace, root: Path) -> Rows:
    """Run every measurement; return the table's rows."""
    rows: Rows = []
    with TimingSink(free_port()) as sink:
        invited = sink.received[TRAINER]
        with system(root / "steady", sink, sessions=args.sessions, capacity=1000) as (
            stack,
            kafka,
        ):
            await trainers_invited(sink, invited, args.sessions)
            rows += await throughput_and_latency(stack, kafka, sink, args)
            rows += memory_rows(stack, "after the throughput runs")
        if args.opening_day:
            capacity = max(1, int(0.8 * args.opening_day / args.sessions))
            invited = sink.received[TRAINER]
            with system(root / "opening-day", sink, sessions=args.sessions, capacity=capacity) as (
                stack,
                kafka,
            ):
                await trainers_invited(sink, invited, args.sessions)
                rows += await opening_day(stack, kafka, sink, args.opening_day)
                rows += memory_rows(stack, "after opening day")
        if args.reminders:
            rows += await reminder_scale(root / "reminders", sink, args.reminders)
    return rows


async def reminder_scale(root: Path, sink: TimingSink, pending: int) -> Rows:
    """A notifier of its own, on a broker of its own, over a store holding `pending` reminders."""
    profile = Profile(pending, rate=50.0, seconds=30.0, bursts=10)
    with LocalKafka(root / "kafka") as kafka:  # its own group "notifier" must not meet the stack's
        result = await run_reminders(
            profile, bootstrap=kafka.bootstrap_servers, data_dir=root, sink=sink
        )
    return [(f"reminders: {name}", value) for name, value in reminder_rows(result)]


def machine() -> str:
    """CPUs, load and speed, printed with the figures: other work on the machine skews them."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    speed = f"reference workload {reference_ms():.0f} ms (benchmarks/calibration.py)"
    return f"{os.cpu_count()} CPUs, load average {load}, {speed}"


def main() -> None:
    """Print every figure as a markdown table."""
    args = parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # unwinds as Ctrl-C: nothing left
    print(f"python -m benchmarks {' '.join(sys.argv[1:])}  ({machine()})", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        root = args.data_dir or Path(scratch)
        started = time.perf_counter()
        settle_after_start_up()  # as the services: its full collections would stall the sink
        rows = uvloop.run(main_async(args, root))  # the loop the services run on
    print(table(rows))
    print(f"\n(total benchmark time {time.perf_counter() - started:.0f} s; {machine()})")


if __name__ == "__main__":
    main()
