"""Group commit: every caller's item is written exactly once, and a caller returns only after it was."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from services.registration.group_commit import GroupCommit

pytestmark = pytest.mark.unit


class Ledger:
    """A fake store: records each committed transaction; may refuse some items or pause."""

    def __init__(self, refuse: frozenset[int] = frozenset()) -> None:
        self.transactions: list[list[int]] = []
        self.refuse = refuse
        self.gate = asyncio.Event()
        self.gate.set()

    async def write_many(self, items: Sequence[int]) -> list[int]:
        await self.gate.wait()
        await asyncio.sleep(0)  # a real write suspends: others queue up meanwhile
        if self.refuse.intersection(items):
            raise ValueError("refused")
        self.transactions.append(list(items))
        return [item * 10 for item in items]

    def committed(self) -> list[int]:
        return [item for transaction in self.transactions for item in transaction]


async def test_concurrent_writes_share_transactions_and_none_is_lost_or_doubled() -> None:
    ledger = Ledger()
    group = GroupCommit(ledger.write_many)
    results = await asyncio.gather(*(group.run(i) for i in range(200)))
    assert results == [i * 10 for i in range(200)], "each caller gets its own item's result"
    assert sorted(ledger.committed()) == list(range(200))
    assert len(ledger.transactions) < 10, "concurrent callers must share a commit"


async def test_a_caller_returns_only_after_its_transaction_committed() -> None:
    ledger = Ledger()
    ledger.gate.clear()
    group = GroupCommit(ledger.write_many)
    pending = [asyncio.create_task(group.run(i)) for i in range(5)]
    await asyncio.sleep(0.01)
    assert not any(task.done() for task in pending)
    ledger.gate.set()
    await asyncio.gather(*pending)
    assert sorted(ledger.committed()) == [0, 1, 2, 3, 4]


async def test_batches_are_bounded() -> None:
    ledger = Ledger()
    group = GroupCommit(ledger.write_many, max_batch=7)
    await asyncio.gather(*(group.run(i) for i in range(50)))
    assert max(len(t) for t in ledger.transactions) <= 7
    assert sorted(ledger.committed()) == list(range(50))


async def test_one_bad_item_fails_only_its_caller() -> None:
    ledger = Ledger(refuse=frozenset({13}))
    group = GroupCommit(ledger.write_many)
    results = await asyncio.gather(*(group.run(i) for i in range(30)), return_exceptions=True)
    failed = [i for i, result in enumerate(results) if isinstance(result, Exception)]
    assert failed == [13]
    assert sorted(ledger.committed()) == [i for i in range(30) if i != 13]


async def test_writes_after_a_quiet_spell_start_a_new_writer() -> None:
    ledger = Ledger()
    group = GroupCommit(ledger.write_many)
    await group.run(1)
    await asyncio.sleep(0.01)
    await group.run(2)
    assert ledger.transactions == [[1], [2]]


async def test_a_cancelled_writer_wakes_its_callers() -> None:
    ledger = Ledger()
    ledger.gate.clear()
    group = GroupCommit(ledger.write_many)
    pending = [asyncio.create_task(group.run(i)) for i in range(3)]
    await asyncio.sleep(0.01)
    assert group.runner is not None
    group.runner.cancel()
    results = await asyncio.gather(*pending, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    assert ledger.committed() == []
