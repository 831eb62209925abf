"""The outbox relay: publishes committed events in commit order, then marks them published.

A state change and the events announcing it commit in one transaction; nothing is published
before that commit. The relay publishes unpublished rows in `seq` order, a batch at a time, and
marks them only after the broker acknowledged every one of them (acks=all). A crash between the
publish and the mark publishes those rows again on restart: same event id, so consumers (idempotent on event ids) ignore
it. Only one relay publishes at a time: one per process (an asyncio lock), and on PostgreSQL one
across all replicas (`pg_try_advisory_xact_lock`, held while publishing).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime

import structlog
from faststream.kafka import KafkaBroker
from sqlalchemy import select, update

from services.scheduler.store import SchedulerStore
from services.scheduler.tables import outbox
from shared.clock import Clock
from shared.kafka.publishing import StoredEvent, publish_stored

log = structlog.stdlib.get_logger(__name__)


class OutboxRelay:
    """Moves committed events from the outbox table to Kafka."""

    def __init__(
        self, store: SchedulerStore, broker: KafkaBroker, clock: Clock, *, batch: int = 200
    ) -> None:
        self.store, self.broker, self.clock, self.batch = store, broker, clock, batch
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()

    async def flush(self) -> int:
        """Publish everything committed so far, in order; return how many rows were published."""
        published = 0
        async with self._lock, self.store.relay_lease() as leader:
            if not leader:
                return 0  # another replica is publishing
            while rows := await self._unpublished():
                events = [StoredEvent(topic, key, event_json) for _, topic, key, event_json in rows]
                await publish_stored(self.broker, events)
                await self._mark([seq for seq, *_ in rows], self.clock.now())
                published += len(rows)
        return published

    def nudge(self) -> None:
        """Ask the background loop to flush now (after a commit it did not make itself)."""
        self._wake.set()

    async def run(self, interval: float) -> None:
        """Flush forever: when nudged, and every `interval` seconds (restarts, other replicas)."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=interval)
            self._wake.clear()
            try:
                await self.flush()
            except Exception as error:  # the rows stay: the next round retries them
                log.warning("outbox.publish_failed", error=type(error).__name__)

    async def _unpublished(self) -> list[tuple[int, str, str, str]]:
        query = (
            select(outbox.c.seq, outbox.c.topic, outbox.c.key, outbox.c.event_json)
            .where(outbox.c.published_at.is_(None))
            .order_by(outbox.c.seq)
            .limit(self.batch)
        )
        async with self.store.connection() as conn:
            return [tuple(row) for row in (await conn.execute(query)).all()]

    async def _mark(self, seqs: list[int], now: datetime) -> None:
        async with self.store.connection() as conn:
            await conn.execute(
                update(outbox).where(outbox.c.seq.in_(seqs)).values(published_at=now)
            )

    async def pending(self) -> int:
        """How many committed events still wait to be published."""
        query = select(outbox.c.seq).where(outbox.c.published_at.is_(None))
        async with self.store.connection() as conn:
            return len((await conn.execute(query)).all())
