"""The command line: run once, print the figures with the due profile as a markdown table."""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import uvloop

from benchmarks.reminders.data import NO_QUIET, SEATS, Profile
from benchmarks.reminders.measure import Result, run
from benchmarks.sink import TimingSink
from benchmarks.stats import percentile, table
from deploy.kafka.launcher import LocalKafka
from deploy.ports import free_port
from services.notifier.bulk import Loaded


def ms(seconds: float) -> str:
    """Seconds as milliseconds, for the table."""
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.0f} ms"


def delay_row(name: str, delays: list[float], expected: int) -> tuple[str, str]:
    """p50 / p95 / p99 / max of one group, and how many of the due ones were delivered."""
    spread = " / ".join(ms(percentile(delays, p)) for p in (50, 95, 99, 100))
    return (
        f"{name}: delay p50 / p95 / p99 / max",
        f"{spread} ({len(delays)} of {expected} delivered)",
    )


def load_text(loaded: Loaded, seconds: float) -> str:
    """How many were loaded, how fast; or that an earlier run's store was kept."""
    if loaded.seats == 0:
        return "kept from an earlier run (--reuse-store)"
    rate = loaded.inserted / seconds
    return f"{loaded.inserted:,} for {loaded.seats:,} seats in {seconds:.0f} s ({rate:,.0f}/s)"


def profile_rows(result: Result) -> list[tuple[str, str]]:
    """What was pending and what fell due: the conditions of the figures."""
    p = result.profile
    quiet = (
        "default 21:00-08:00"
        if result.quiet != NO_QUIET
        else "off (the next hour touches 21:00-08:00)"
    )
    return [
        ("pending reminders when the window opened", f"{result.pending:,}"),
        ("bulk load (reminders due days ahead)", load_text(result.loaded, result.load_s)),
        ("due profile: paced", f"{p.rate:g}/s for {p.seconds:g} s = {p.paced} reminders"),
        (
            "due profile: burst (after the paced ones + 2 s)",
            f"{p.bursts} sessions x {SEATS} seats in one instant = {p.burst}",
        ),
        ("quiet hours (Europe/Belgrade)", quiet),
        ("notifier dispatch settings", result.dispatch),
    ]


def figure_rows(result: Result) -> list[tuple[str, str]]:
    """Delays, exactly-once counts, memory, CPU and the store."""
    twice = result.sent_messages - result.sent_recipients
    not_due = result.sent_recipients - result.delivered
    cpu_ms = 1000 * result.window_cpu_s / max(1, result.delivered)
    idle, end = result.rss_idle, result.rss_end
    return [
        delay_row("paced", result.delays["paced"], result.expected["paced"]),
        delay_row("burst", result.delays["burst"], result.expected["burst"]),
        (
            "messages accepted / to a reminder not due / twice",
            f"{result.sent_messages} / {not_due} / {twice}",
        ),
        ("RSS notifier idle with all pending (peak)", f"{idle[0]:.0f} MiB ({idle[1]:.0f} MiB)"),
        ("RSS notifier after the window (peak)", f"{end[0]:.0f} MiB ({end[1]:.0f} MiB)"),
        (
            "notifier CPU, window queued -> last delivery",
            f"{result.window_cpu_s:.1f} s ({cpu_ms:.1f} ms per reminder)",
        ),
        ("store on disk (SQLite + WAL)", f"{result.store_mib:,.0f} MiB"),
        ("claim query plan", result.claim_plan),
    ]


def rows(result: Result) -> list[tuple[str, str]]:
    """The printed figures, after the due profile that was offered."""
    return profile_rows(result) + figure_rows(result)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The knobs; defaults are the issue's figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reminders")
    parser.add_argument("--pending", type=int, default=1_000_000, help="reminders pending in all")
    parser.add_argument("--rate", type=float, default=50.0, help="reminders falling due per second")
    parser.add_argument(
        "--seconds", type=float, default=30.0, help="how long they keep falling due"
    )
    parser.add_argument(
        "--bursts", type=int, default=10, help="30-seat sessions due in one instant"
    )
    parser.add_argument(
        "--lead", type=float, default=5.0, help="seconds from queueing to the first due"
    )
    parser.add_argument(
        "--grace", type=float, default=60.0, help="seconds to wait after the last due"
    )
    parser.add_argument("--data-dir", type=Path, default=None, help="default: a temporary folder")
    parser.add_argument("--reuse-store", action="store_true", help="keep --data-dir's loaded store")
    parser.add_argument("--bootstrap", default=None, help="an existing broker (default: start one)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Print the figures as a markdown table."""
    args = parse_args(argv)
    profile = Profile(args.pending, args.rate, args.seconds, args.bursts, args.lead, args.grace)
    print(f"python -m benchmarks.reminders {' '.join(sys.argv[1:])}  ({machine()})", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-reminders-") as scratch, ExitStack() as stack:
        root = args.data_dir or Path(scratch)
        root.mkdir(parents=True, exist_ok=True)
        sink = stack.enter_context(TimingSink(free_port()))
        bootstrap = (
            args.bootstrap or stack.enter_context(LocalKafka(root / "kafka")).bootstrap_servers
        )
        result = uvloop.run(  # the loop the notifier runs on
            run(profile, bootstrap=bootstrap, data_dir=root, sink=sink, reuse=args.reuse_store)
        )
    print(table(rows(result)))
    print(f"\n({machine()})")
    if not result.complete:
        sys.exit("incomplete: a due reminder was not delivered exactly once, or one was sent early")


def machine() -> str:
    """CPUs and load, printed with the figures: other work on the machine skews them."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} CPUs, load average {load}"


if __name__ == "__main__":
    main()
