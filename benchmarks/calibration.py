"""How fast this machine runs Python right now: a fixed workload, timed beside every run.

The shared 2-core machine's speed moves by as much as a factor of two within minutes, so two runs
of the same code differ by more than most changes do. The reference workload does not change with
the code (plain Python: calls, attributes, dicts, strings, JSON), so its time, printed at the start
and the end of a run, says which phase of the machine the figures between them were measured in.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

ROUNDS = 300


@dataclass
class _Seat:
    """A seat of the workload: plain attributes, a method call."""

    session: str
    position: int

    def label(self) -> str:
        """The seat as text."""
        return f"{self.session}#{self.position:03d}"


def workload(rounds: int = ROUNDS) -> int:
    """The fixed work: seat people, index and sort them, round-trip them through JSON."""
    checksum = 0
    for round_ in range(rounds):
        seats = [_Seat(f"s-{i % 7}", i) for i in range(100)]
        by_label = {seat.label(): seat for seat in seats}
        ordered = sorted(by_label, key=lambda label: (label[-3:], label))
        document = json.loads(json.dumps({"round": round_, "seats": ordered}))
        checksum += len(document["seats"]) + sum(seat.position for seat in by_label.values())
    return checksum


def reference_ms(repeat: int = 5, clock: Callable[[], float] = time.process_time) -> float:
    """CPU milliseconds the workload takes, the best of `repeat` (the least disturbed)."""
    best = float("inf")
    for _ in range(repeat):
        started = clock()
        workload()
        best = min(best, clock() - started)
    return best * 1000
