"""The dispatcher: delivers due notifications from the durable outbox, several at a time.

Many dispatchers may run side by side: `claim_due` takes rows with `FOR UPDATE SKIP LOCKED` on
PostgreSQL, in one write-locked UPDATE ... RETURNING on SQLite, and pushes them out by a lease,
so each row is worked by one of them.
Inside one dispatcher up to `concurrency` deliveries are in flight, so one slow SMTP answer does
not hold the others; a claimed row whose lease is running out is left for the next claim rather
than sent late. The only duplicate window left: a crash after the provider accepted a message and
before `finish(sent)` committed; after the lease the row is due again and is sent once more, with
the same Message-ID, UID and SEQUENCE (measured in tests/service/notifier/test_dispatcher.py).
When idle it sleeps until the earliest pending notification falls due (at most one poll interval),
so a reminder leaves at its minute, not up to a poll later.
A helper beside the notifier (`overdue` > 0, a DISPATCH_ONLY process) claims only rows due at
least `overdue` ago, and claims again at once only after a full batch: it leaves fresh work to
the notifier's own dispatcher, which is woken by the intake, and joins in only on a backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from services.notifier import reminders
from services.notifier.channels import Channels
from services.notifier.delivering import Deliverer, ids_of
from services.notifier.outcomes import publish_in_order
from services.notifier.ports import Delivery, NotificationStore, OutcomePublisher
from services.notifier.recording import GroupCommit, Record
from shared.clock import Clock
from shared.contracts import NotificationOutcomeV1
from shared.kafka import RetryPolicy
from shared.logging import get_logger

log = get_logger("services.notifier.dispatcher")
OUTCOMES_PER_ROUND = 500
MIN_IDLE = 0.02  # seconds: what falls due within one wait is claimed together


@dataclass
class Dispatcher:
    """Claims due notifications in batches and delivers them concurrently."""

    store: NotificationStore
    channels: Channels
    outcomes: OutcomePublisher
    clock: Clock
    quiet: reminders.QuietHours = field(default_factory=reminders.QuietHours)
    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(8, 30.0, 3600.0))
    lease: timedelta = timedelta(minutes=5)
    batch: int = 16
    concurrency: int = 4
    overdue: timedelta = timedelta(0)
    rng: Callable[[], float] = random.random
    _bell: asyncio.Event = field(default_factory=asyncio.Event)
    _recorded: asyncio.Event = field(default_factory=asyncio.Event)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _publishing: asyncio.Lock = field(default_factory=asyncio.Lock)
    _task: asyncio.Task[None] | None = None
    _fresh: list[NotificationOutcomeV1] = field(default_factory=list)  # committed, not yet sent
    _from_store: bool = True  # read the outcomes back from the store (at start, after a failure)
    _read_back: set[UUID] = field(default_factory=set)  # what the last such round read

    def __post_init__(self) -> None:
        self._slots = asyncio.Semaphore(self.concurrency)
        self.recorder = GroupCommit(self.store, on_commit=self._committed)
        self.deliverer = Deliverer(
            store=self.store,
            channels=self.channels,
            clock=self.clock,
            quiet=self.quiet,
            retry=self.retry,
            rng=lambda: self.rng(),
            recorder=self.recorder,
        )

    def start(self, poll_interval: float) -> None:
        """Run the loop in the background until `stop()`."""
        self._stop.clear()
        self._task = asyncio.create_task(self.run(self._stop, poll_interval))

    async def stop(self) -> None:
        """End the background loop after the notifications in hand."""
        self._stop.set()
        self.wake()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def wake(self) -> None:
        """Look for due work now instead of at the next poll."""
        self._bell.set()

    async def run(self, stop: asyncio.Event, poll_interval: float = 1.0) -> None:
        """Keep deliveries in flight until `stop` is set, claiming more as slots free up."""
        publisher = asyncio.create_task(self._publish_until(stop, poll_interval))
        in_hand: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            if len(in_hand) > self.concurrency:  # a backlog waits for slots: claim later
                await asyncio.wait(in_hand, timeout=poll_interval, return_when="FIRST_COMPLETED")
            else:
                self._bell.clear()  # before the claim: work queued meanwhile rings it again
                wanted = self.batch - len(in_hand)
                claimed = await self._claim_safely(wanted)
                in_hand |= {asyncio.create_task(self._deliver(*item)) for item in claimed}
                if not claimed or (self.overdue and len(claimed) < wanted):
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            self._bell.wait(), await self.idle_seconds(poll_interval)
                        )
            in_hand = {task for task in in_hand if not task.done()}
        await asyncio.gather(*in_hand, return_exceptions=True)
        self._recorded.set()
        await publisher

    async def run_once(self) -> int:
        """Claim one batch, deliver it concurrently, publish the outcomes; return how many."""
        await self.publish_outcomes()  # leftovers from a Kafka outage or a crash
        claimed = await self._claim(self.batch)
        results = await asyncio.gather(
            *(self._deliver(*item) for item in claimed), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result  # only what `_deliver` lets through: the process is going down
        await self.publish_outcomes()
        return len(claimed)

    async def publish_outcomes(self) -> int:
        """Publish every stored outcome (all at once, in order per key), then forget the acked."""
        published = 0
        async with self._publishing:  # one publisher at a time: nothing is sent twice
            await self.recorder.settled()  # acked ones are deleted first, not read back
            self._fresh.clear()  # committed, so the store holds them too
            self._from_store, self._read_back = False, set()
            while outcomes := await self.store.unpublished_outcomes(limit=OUTCOMES_PER_ROUND):
                self._read_back.update(outcome.event_id for outcome in outcomes)
                acked = await publish_in_order(self.outcomes, outcomes)
                published += await self.store.outcomes_published(acked)
                if len(acked) < len(outcomes):
                    self._from_store = True  # Kafka is away: the next round reads them again
                if len(acked) < len(outcomes) or len(outcomes) < OUTCOMES_PER_ROUND:
                    break
        return published

    async def _publish_fresh(self) -> None:
        """Publish the outcomes committed since the last round, from memory (no read back)."""
        async with self._publishing:
            # one committed while the store was being read may have been read (and sent) already
            batch = [o for o in self._fresh if o.event_id not in self._read_back]
            self._fresh = []
            acked = await publish_in_order(self.outcomes, batch)
            self.recorder.forget(acked)  # deleted with the next group of results
            if len(acked) < len(batch):
                self._from_store = True  # the rest stay stored, in order, for the next round

    def _committed(self, records: Sequence[Record]) -> None:
        self._fresh.extend(r.outcome for r in records if r.outcome is not None)

    async def idle_seconds(self, poll_interval: float) -> float:
        """Seconds to wait for work: until the next one falls due, at most `poll_interval`.

        A helper waits the whole interval: what falls due now is the notifier's own dispatcher's.
        """
        if self.overdue:
            return poll_interval
        try:
            due = await self.store.next_due()
        except Exception:  # the database may be briefly away: poll as usual
            return poll_interval
        if due is None:
            return poll_interval
        return min(poll_interval, max(MIN_IDLE, (due - self.clock.now()).total_seconds()))

    async def _claim_safely(self, limit: int) -> list[tuple[Delivery, datetime]]:
        try:
            return await self._claim(limit)
        except Exception as error:  # the database may be briefly away: keep the loop alive
            log.error("dispatcher.round_failed", error=type(error).__name__)
            return []

    async def _claim(self, limit: int) -> list[tuple[Delivery, datetime]]:
        now = self.clock.now()
        lease = self.lease + self.overdue  # pushed out from `now`, whatever the cut-off
        claimed = await self.store.claim_due(now - self.overdue, limit=limit, lease=lease)
        return [(delivery, now) for delivery in claimed]

    async def _deliver(self, delivery: Delivery, claimed_at: datetime) -> None:
        """Work one claimed row in a free slot; an unexpected error leaves it to its lease."""
        async with self._slots:
            if self.clock.now() - claimed_at > self.lease / 2:
                log.warning("dispatch.claim_expiring", **ids_of(delivery))
                return  # another claim may take it soon: never send it late and twice
            try:
                await self.deliverer.work(delivery)
            except Exception as error:  # the database may be briefly away: due again later
                log.error(
                    "dispatch.delivery_failed", **ids_of(delivery), error=type(error).__name__
                )
            finally:
                self._recorded.set()

    async def _publish_until(self, stop: asyncio.Event, poll_interval: float) -> None:
        """Publish outcomes as deliveries record them (and each poll, after a Kafka outage)."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._recorded.wait(), poll_interval)
            self._recorded.clear()
            try:
                await (self.publish_outcomes() if self._from_store else self._publish_fresh())
            except Exception as error:  # the database may be briefly away: next round
                self._from_store = True
                log.error("outcome.round_failed", error=type(error).__name__)
            if stop.is_set():
                await self.recorder.settled()  # the acked outcomes' deletion
                return
