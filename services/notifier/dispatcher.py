"""The dispatcher: delivers due notifications from the durable outbox, retrying with backoff.

Many dispatchers may run side by side on PostgreSQL: `claim_due` takes rows with
`FOR UPDATE SKIP LOCKED` and pushes them out by a lease, so each row is worked by one of them.
The only duplicate window left: a crash after the provider accepted a message and before
`finish(sent)` committed; after the lease the row is due again and is sent once more, with the
same Message-ID, UID and SEQUENCE (measured in tests/service/notifier/test_dispatcher.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

from services.notifier import reminders
from services.notifier.channels import Channels
from services.notifier.outcomes import OutcomeStatus, outcome_of
from services.notifier.ports import (
    Delivery,
    NotificationStore,
    OutcomePublisher,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from shared.clock import Clock
from shared.contracts import NotificationOutcomeV1
from shared.kafka import RetryPolicy
from shared.logging import get_logger

log = get_logger("services.notifier.dispatcher")


@dataclass
class Dispatcher:
    """Claims due notifications and delivers each through its channel."""

    store: NotificationStore
    channels: Channels
    outcomes: OutcomePublisher
    clock: Clock
    quiet: reminders.QuietHours = field(default_factory=reminders.QuietHours)
    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(8, 30.0, 3600.0))
    lease: timedelta = timedelta(minutes=5)
    batch: int = 20
    rng: Callable[[], float] = random.random
    _bell: asyncio.Event = field(default_factory=asyncio.Event)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    def start(self, poll_interval: float) -> None:
        """Run the loop in the background until `stop()`."""
        self._stop.clear()
        self._task = asyncio.create_task(self.run(self._stop, poll_interval))

    async def stop(self) -> None:
        """End the background loop after the notification in hand."""
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
        """Work due notifications until `stop` is set; a failing round is logged and retried."""
        while not stop.is_set():
            try:
                worked = await self.run_once()
            except Exception as error:  # the database may be briefly away: keep the loop alive
                log.error("dispatcher.round_failed", error=type(error).__name__)
                worked = 0
            if worked == 0:
                self._bell.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._bell.wait(), poll_interval)

    async def run_once(self) -> int:
        """Claim one batch of due notifications and work each; return how many were claimed."""
        await self.publish_outcomes()  # leftovers from a Kafka outage or a crash
        claimed = await self.store.claim_due(self.clock.now(), limit=self.batch, lease=self.lease)
        for delivery in claimed:
            await self.work(delivery)
        return len(claimed)

    async def work(self, delivery: Delivery) -> None:
        """Check a reminder against current state, then deliver and record the outcome."""
        notice = delivery.notice
        if notice.kind == "reminder" and not await self._reminder_still_due(delivery):
            return
        phone = notice.recipient.phone
        if notice.channel == "sms" and phone and await self.store.sms_opted_out(phone):
            outcome = self._outcome(delivery, "failed", "recipient opted out of SMS")
            await self.store.finish(notice.key, "cancelled", self.clock.now(), outcome=outcome)
            await self.publish_outcomes()
            log.info("sms.opted_out_skipped", **_ids(delivery))
            return
        try:
            detail = await self.channels.deliver(delivery, self.clock.now())
        except PermanentDeliveryError as error:
            await self._fail(delivery, str(error))
        except TransientDeliveryError as error:
            await self._retry_later(delivery, str(error))
        else:
            outcome = self._outcome(delivery, "sent", detail)
            await self.store.finish(
                notice.key, "sent", self.clock.now(), detail=detail, outcome=outcome
            )
            await self.publish_outcomes()
            log.info(f"{notice.kind}.sent", **_ids(delivery), detail=detail)  # e.g. invite.sent

    async def _reminder_still_due(self, delivery: Delivery) -> bool:
        notice, now = delivery.notice, self.clock.now()
        entry = await self.store.entry(notice.recipient_id, notice.session.session_id)
        live = entry.revision if entry is not None and entry.active else None
        starts_at = min(day.starts_at for day in notice.session.days)
        zone = ZoneInfo(notice.session.timezone)
        decision, until = reminders.verdict(
            notice.revision, live, starts_at=starts_at, now=now, zone=zone, quiet=self.quiet
        )
        if decision == "suppress":
            await self.store.finish(notice.key, "superseded", now)
            log.info("reminder.suppressed", **_ids(delivery))
        elif decision == "too_late":
            await self._fail(delivery, "session already started")
        elif decision == "defer" and until is not None:
            outcome = self._outcome(delivery, "deferred", "quiet hours")
            await self.store.defer(notice.key, until, now, attempted=False, outcome=outcome)
            await self.publish_outcomes()
            log.info("reminder.quiet_deferred", **_ids(delivery), until=until.isoformat())
        return decision == "send"

    async def _retry_later(self, delivery: Delivery, error: str) -> None:
        attempt = delivery.attempts + 1
        if attempt >= self.retry.attempts:
            await self._fail(delivery, f"gave up after {attempt} attempts: {error}")
            return
        until = self.clock.now() + timedelta(seconds=self.retry.delay(attempt, self.rng))
        outcome = self._outcome(delivery, "deferred", error)
        now = self.clock.now()
        await self.store.defer(delivery.notice.key, until, now, attempted=True, outcome=outcome)
        await self.publish_outcomes()
        log.warning("notification.deferred", **_ids(delivery), until=until.isoformat(), error=error)

    async def _fail(self, delivery: Delivery, error: str) -> None:
        outcome = self._outcome(delivery, "failed", error)
        now, key = self.clock.now(), delivery.notice.key
        await self.store.finish(key, "failed", now, detail=error[:500], outcome=outcome)
        await self.publish_outcomes()
        # The operator's line: the row stays in the table as `failed` for inspection and replay.
        log.error("notification.dead_lettered", **_ids(delivery), error=error)

    def _outcome(
        self, delivery: Delivery, status: OutcomeStatus, detail: str | None
    ) -> NotificationOutcomeV1:
        attempt = delivery.attempts + 1
        return outcome_of(
            delivery.notice, status, attempt=attempt, now=self.clock.now(), detail=detail
        )

    async def publish_outcomes(self) -> int:
        """Publish the recorded outcomes Kafka has not acknowledged yet; keep them if it is away."""
        published = 0
        for outcome in await self.store.unpublished_outcomes(limit=100):
            try:
                await self.outcomes.publish(outcome)
            except Exception as error:  # stays in the outbox; the next round tries again
                log.warning("outcome.publish_deferred", error=type(error).__name__)
                break
            await self.store.outcome_published(outcome.event_id)
            published += 1
        return published


def _ids(delivery: Delivery) -> dict[str, object]:
    notice = delivery.notice
    return {
        "correlation_id": notice.correlation_id,
        "notification_key": notice.key,
        "session_id": notice.session.session_id,
        "kind": notice.kind,
        "channel": notice.channel,
        "attempt": delivery.attempts + 1,
    }
