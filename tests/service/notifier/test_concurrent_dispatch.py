"""Concurrent delivery, group commits and batched outcomes: nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from services.notifier.dispatcher import Dispatcher
from services.notifier.outcomes import publish_in_order
from services.notifier.ports import OutgoingMail
from services.notifier.recording import GroupCommit, Record
from services.notifier.store import SqlNotificationStore
from shared.clock import ManualClock
from shared.contracts import NotificationOutcomeV1
from tests.service.notifier.harness import NOW, FakeMailer
from tests.service.notifier.test_dispatcher import Outcomes, dispatcher_for, queue_invite

pytestmark = pytest.mark.service


@dataclass
class SlowFirstMailer(FakeMailer):
    """Holds the first message until released; counts how many sends overlap."""

    release: asyncio.Event = field(default_factory=asyncio.Event)
    active: int = 0
    peak: int = 0
    calls: int = 0

    async def send(self, message: OutgoingMail) -> None:
        """Wait (the first one until released, the rest a moment), then accept."""
        self.calls += 1
        first = self.calls == 1
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            await (self.release.wait() if first else asyncio.sleep(0.001))
        finally:
            self.active -= 1
        await super().send(message)


async def eventually(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Poll `condition()` until true, within a bounded deadline."""
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_one_slow_send_does_not_hold_the_others_and_in_flight_stays_bounded(
    store: SqlNotificationStore,
) -> None:
    clock, outcomes, mailer = ManualClock(NOW), Outcomes(), SlowFirstMailer()
    dispatcher = dispatcher_for(store, mailer, clock, outcomes)
    assert dispatcher.concurrency == 4
    keys = {(await queue_invite(store)).key for _ in range(40)}
    dispatcher.start(poll_interval=0.05)
    await eventually(lambda: len(mailer.sent) == 39)  # all but the slow one
    assert mailer.peak <= dispatcher.concurrency
    mailer.release.set()
    await eventually(lambda: len(outcomes.published) == 40)
    await dispatcher.stop()
    assert Counter(m["Message-ID"] for m in mailer.sent).most_common(1)[0][1] == 1
    assert {o.notification_key for o in outcomes.published} == keys
    assert await store.unpublished_outcomes(limit=100) == []
    assert {(await store.get(key)).status for key in keys} == {"sent"}  # type: ignore[union-attr]


async def test_every_claimed_row_is_sent_and_recorded_exactly_once(
    store: SqlNotificationStore,
) -> None:
    clock, outcomes, mailer = ManualClock(NOW), Outcomes(), FakeMailer()
    dispatcher = dispatcher_for(store, mailer, clock, outcomes)
    keys = [(await queue_invite(store)).key for _ in range(100)]
    rounds = []
    while worked := await dispatcher.run_once():
        rounds.append(worked)
    assert rounds == [16] * 6 + [4]
    assert len(mailer.sent) == len({m["Message-ID"] for m in mailer.sent}) == 100
    assert sorted(o.notification_key for o in outcomes.published) == sorted(keys)
    for key in keys:
        stored = await store.get(key)
        assert stored is not None
        assert (stored.status, stored.attempts) == ("sent", 1)


async def test_a_claim_whose_lease_runs_out_before_its_slot_is_left_for_the_next_claim(
    store: SqlNotificationStore,
) -> None:
    clock, outcomes = ManualClock(NOW), Outcomes()

    @dataclass
    class SlowMailer(FakeMailer):
        async def send(self, message: OutgoingMail) -> None:
            clock.advance(timedelta(minutes=4))  # a very slow server, in travelled time
            await super().send(message)

    mailer = SlowMailer()
    dispatcher = Dispatcher(store, dispatcher_for(store, mailer, clock, outcomes).channels,
                            outcomes, clock, concurrency=1)  # fmt: skip
    first, second = await queue_invite(store), await queue_invite(store)
    assert await dispatcher.run_once() == 2
    assert len(mailer.sent) == 1  # the second waited past half its lease: not sent late
    clock.advance(dispatcher.lease)
    assert await dispatcher.run_once() == 1
    assert sorted(o.notification_key for o in outcomes.published) == sorted([first.key, second.key])
    assert len({m["Message-ID"] for m in mailer.sent}) == len(mailer.sent) == 2


@dataclass
class CountingStore:
    """A RecordStore that counts its transactions and can fail once."""

    store: SqlNotificationStore
    groups: list[int] = field(default_factory=list)
    fail_next: bool = False

    async def record(self, records: Sequence[Record], forget: Sequence[UUID] = ()) -> None:
        """Write the group (or fail it whole)."""
        await asyncio.sleep(0.005)
        if self.fail_next:
            self.fail_next = False
            raise OSError("database away")
        self.groups.append(len(records))
        await self.store.record(records, forget)


async def test_results_arriving_together_commit_together(store: SqlNotificationStore) -> None:
    keys = [(await queue_invite(store)).key for _ in range(12)]
    counting = CountingStore(store)
    group = GroupCommit(counting)
    await asyncio.gather(*(group.finish(key, "sent", NOW) for key in keys))
    assert sum(counting.groups) == 12
    assert len(counting.groups) < 12  # the first alone, then the ones that queued meanwhile
    assert {(await store.get(key)).status for key in keys} == {"sent"}  # type: ignore[union-attr]


async def test_a_failed_group_commit_fails_every_caller_and_the_next_one_works(
    store: SqlNotificationStore,
) -> None:
    keys = [(await queue_invite(store)).key for _ in range(3)]
    counting = CountingStore(store, fail_next=True)
    group = GroupCommit(counting)
    results = await asyncio.gather(
        *(group.finish(key, "sent", NOW) for key in keys), return_exceptions=True
    )
    assert any(isinstance(r, OSError) for r in results)
    failed = [key for key, r in zip(keys, results, strict=True) if isinstance(r, OSError)]
    assert [(await store.get(key)).status for key in failed] == ["pending"] * len(failed)  # type: ignore[union-attr]
    await group.defer(keys[0], NOW + timedelta(hours=1), NOW, attempted=True)
    stored = await store.get(keys[0])
    assert stored is not None
    assert stored.next_attempt_at == NOW + timedelta(hours=1)


def outcome_for(registration: str, status: str, attempt: int) -> NotificationOutcomeV1:
    """An outcome of one registration's invite."""
    return NotificationOutcomeV1.model_validate(
        {
            "event_id": str(uuid4()),
            "occurred_at": NOW,
            "correlation_id": "c",
            "producer": "notifier",
            "notification_key": f"{registration}:s:invite:1",
            "registration_id": registration,
            "session_id": "s",
            "channel": "email",
            "kind": "invite",
            "status": status,
            "attempt": attempt,
        }
    )


@dataclass
class GatedOutcomes(Outcomes):
    """Acknowledges only after `ack` is set; refuses one registration entirely."""

    ack: asyncio.Event = field(default_factory=asyncio.Event)
    refused: str | None = None
    started: list[NotificationOutcomeV1] = field(default_factory=list)

    async def publish(self, outcome: NotificationOutcomeV1) -> None:
        """Start the send, wait for the broker's ack (or fail)."""
        self.started.append(outcome)
        await self.ack.wait()
        if str(outcome.registration_id) == self.refused:
            raise ConnectionError("partition leader away")
        await super().publish(outcome)


async def test_outcomes_go_out_together_in_order_per_registration_and_only_acked_ones_leave(
    store: SqlNotificationStore,
) -> None:
    a, b, c = (str(uuid4()) for _ in range(3))
    batch = [
        outcome_for(a, "deferred", 1),
        outcome_for(b, "sent", 1),
        outcome_for(a, "sent", 2),
        outcome_for(c, "deferred", 1),
        outcome_for(c, "sent", 2),
    ]
    at = [NOW + timedelta(seconds=i) for i in range(5)]
    await store.record(
        [Record(f"k{i}", None, at[i], until=NOW, outcome=o) for i, o in enumerate(batch)]
    )
    publisher = GatedOutcomes(refused=c)
    publishing = asyncio.create_task(publish_in_order(publisher, batch))
    await eventually(lambda: len(publisher.started) == 3)  # one per registration, all at once
    assert len(await store.unpublished_outcomes(limit=10)) == 5  # nothing leaves before its ack
    publisher.ack.set()
    acked = await publishing
    assert [o.status for o in publisher.published if str(o.registration_id) == a] == [
        "deferred",
        "sent",
    ]
    assert set(acked) == {batch[0].event_id, batch[1].event_id, batch[2].event_id}
    assert await store.outcomes_published(acked) == 3
    left = await store.unpublished_outcomes(limit=10)
    assert [o.event_id for o in left] == [batch[3].event_id, batch[4].event_id]  # c's, in order
    assert [o.event_id for o in publisher.started if str(o.registration_id) == c] == [
        batch[3].event_id
    ]  # c's second outcome never overtook its failed first


@dataclass
class OutcomesDownAfter(Outcomes):
    """Kafka acknowledges the first `up` publishes, refuses the next `down`, then is back."""

    up: int = 10
    down: int = 5
    refused: int = 0

    async def publish(self, outcome: NotificationOutcomeV1) -> None:
        """Keep, fail while down, keep again."""
        if len(self.published) >= self.up and self.refused < self.down:
            self.refused += 1
            raise ConnectionError("broker away")
        await asyncio.sleep(0.002)  # the broker's acknowledgement
        await super().publish(outcome)


@pytest.mark.parametrize("kafka", ["up", "away for a while"])
async def test_outcomes_from_memory_are_published_once_each_and_then_forgotten(
    store: SqlNotificationStore, kafka: str
) -> None:
    clock, mailer = ManualClock(NOW), FakeMailer()
    outcomes = OutcomesDownAfter(down=0 if kafka == "up" else 5)
    dispatcher = dispatcher_for(store, mailer, clock, outcomes)
    keys = [(await queue_invite(store)).key for _ in range(60)]
    dispatcher.start(poll_interval=0.05)
    await eventually(lambda: len(outcomes.published) >= 60)
    await dispatcher.stop()
    published = Counter(o.notification_key for o in outcomes.published)
    assert published == Counter(keys)  # every outcome once: none lost, none doubled
    assert outcomes.refused == (0 if kafka == "up" else 5)
    assert await store.unpublished_outcomes(limit=100) == []  # acked ones were deleted
    assert len(mailer.sent) == 60  # a broker outage never resends a mail


async def test_acked_outcomes_are_deleted_with_the_next_group_of_results(
    store: SqlNotificationStore,
) -> None:
    first, second = await queue_invite(store), await queue_invite(store)
    counting = CountingStore(store)
    group = GroupCommit(counting, on_commit=lambda records: committed.extend(records))
    committed: list[Record] = []
    outcome = outcome_for(str(first.recipient_id), "sent", 1)
    await group.finish(first.key, "sent", NOW, outcome=outcome)
    assert [r.key for r in committed] == [first.key]  # heard only after its commit
    assert [o.event_id for o in await store.unpublished_outcomes(limit=10)] == [outcome.event_id]
    group.forget([outcome.event_id])
    await group.finish(second.key, "sent", NOW)
    await group.settled()
    assert await store.unpublished_outcomes(limit=10) == []
    assert counting.groups == [1, 1]  # the deletion rode along with the second result


async def test_settled_waits_for_what_was_queued_not_for_what_comes_later(
    store: SqlNotificationStore,
) -> None:
    keys = [(await queue_invite(store)).key for _ in range(6)]
    group = GroupCommit(CountingStore(store))  # each transaction takes 5 ms or more
    first = asyncio.create_task(group.finish(keys[0], "sent", NOW))
    await asyncio.sleep(0)  # its transaction is under way

    async def one_after_another() -> None:
        for key in keys[1:]:
            await group.finish(key, "sent", NOW)

    later = asyncio.create_task(one_after_another())
    await group.settled()  # a busy writer must not keep the outcome publisher waiting
    assert first.done()
    assert not later.done()
    await later
    await group.settled()
    assert {(await store.get(key)).status for key in keys} == {"sent"}  # type: ignore[union-attr]


def _claim_until_empty(url: str, start: float) -> list[str]:
    """In a process of its own: claim small batches from the shared store until none is due."""

    async def claim_all() -> list[str]:
        store = SqlNotificationStore(url)
        keys: list[str] = []
        await asyncio.sleep(max(0.0, start - time.time()))  # both processes begin together
        try:
            while claimed := await store.claim_due(NOW, limit=2, lease=timedelta(hours=1)):
                keys += [delivery.notice.key for delivery in claimed]
                await asyncio.sleep(0.005)  # as a send would: the other process claims meanwhile
        finally:
            await store.dispose()
        return keys

    return asyncio.run(claim_all())


async def test_dispatchers_in_two_processes_on_one_sqlite_file_never_claim_the_same_row(
    store: SqlNotificationStore, tmp_path: Path
) -> None:
    queued = {(await queue_invite(store)).key for _ in range(300)}
    url = f"sqlite+aiosqlite:///{tmp_path / 'notifier.sqlite3'}"
    start = time.time() + 3  # after both have imported and opened the file
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        loop = asyncio.get_running_loop()
        runs = [loop.run_in_executor(pool, _claim_until_empty, url, start) for _ in range(2)]
        first, second = await asyncio.gather(*runs)
    assert first  # both took part
    assert second
    assert len(first) + len(second) == len(queued)
    assert set(first) | set(second) == queued
