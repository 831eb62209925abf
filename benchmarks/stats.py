"""Percentiles, memory readings and the printed table."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`; NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


STAGES = (  # between consecutive readings
    "POST -> 202",
    "202 -> decided",
    "decided -> queued by the notifier",
    "queued -> invite accepted",
)


def stage_latencies(
    posted_at: Mapping[str, float],
    accepted_at: Mapping[str, float],
    registration_ids: Mapping[str, str],
    decided_at: Mapping[str, float],
    queued_at: Mapping[str, float],
    invited_at: Mapping[str, float],
) -> dict[str, list[float]]:
    """Per registrant (by email): POST to 202, to decided, to queued by the notifier, to invited.

    `decided_at` and `queued_at` are keyed by registration id. A registrant missing a reading is
    left out of the stages that need it.
    """
    stages: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for email, posted in posted_at.items():
        registration_id = registration_ids.get(email, "")
        readings = (
            posted,
            accepted_at.get(email, math.nan),
            decided_at.get(registration_id, math.nan),
            queued_at.get(registration_id, math.nan),
            invited_at.get(email, math.nan),
        )
        for stage, start, end in zip(STAGES, readings, readings[1:], strict=False):
            if not math.isnan(end - start):
                stages[stage].append(end - start)
    return stages


def rss_mib(pid: int) -> tuple[float, float]:
    """Current and peak resident memory (VmRSS, VmHWM) of a process, in MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", math.nan), fields.get("VmHWM", math.nan)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def table(rows: Sequence[tuple[str, str]]) -> str:
    """A two-column markdown table: figure | value."""
    width = max(len(name) for name, _ in rows)
    lines = [f"| {'figure':<{width}} | value |", f"|{'-' * (width + 2)}|-------|"]
    lines += [f"| {name:<{width}} | {value} |" for name, value in rows]
    return "\n".join(lines)
