"""Work one claimed notification: re-check it, deliver it, and record what happened with its outcome.

Every path ends in one store transaction (`finish` or `defer`) that writes the row's new state
and its outcome event together; the dispatcher publishes the outcomes afterwards.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from services.notifier import reminders
from services.notifier.channels import Channels
from services.notifier.outcomes import OutcomeStatus, outcome_of
from services.notifier.ports import (
    Delivery,
    NotificationStore,
    PermanentDeliveryError,
    Status,
    TransientDeliveryError,
)
from shared.clock import Clock
from shared.contracts import NotificationOutcomeV1
from shared.kafka import RetryPolicy
from shared.logging import get_logger

log = get_logger("services.notifier.dispatcher")


class Recorder(Protocol):
    """Where an attempt's result goes: the store, or a GroupCommit in front of it."""

    async def finish(
        self,
        key: str,
        status: Status,
        now: datetime,
        *,
        detail: str | None = None,
        outcome: NotificationOutcomeV1 | None = None,
    ) -> None: ...

    async def defer(
        self,
        key: str,
        until: datetime,
        now: datetime,
        *,
        attempted: bool,
        outcome: NotificationOutcomeV1 | None = None,
    ) -> None: ...


@dataclass
class Deliverer:
    """Delivers one notification through its channel, with durable backoff on temporary errors."""

    store: NotificationStore
    channels: Channels
    clock: Clock
    quiet: reminders.QuietHours = field(default_factory=reminders.QuietHours)
    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(8, 30.0, 3600.0))
    rng: Callable[[], float] = random.random
    recorder: Recorder | None = None  # where results go; the store itself unless given

    def __post_init__(self) -> None:
        self._record: Recorder = self.recorder or self.store

    async def work(self, delivery: Delivery) -> None:
        """Check a reminder against current state, then deliver and record the outcome."""
        notice = delivery.notice
        if notice.kind == "reminder" and not await self._reminder_still_due(delivery):
            return
        phone = notice.recipient.phone
        if notice.channel == "sms" and phone and await self.store.sms_opted_out(phone):
            outcome = self._outcome(delivery, "failed", "recipient opted out of SMS")
            await self._record.finish(notice.key, "cancelled", self.clock.now(), outcome=outcome)
            log.info("sms.opted_out_skipped", **ids_of(delivery))
            return
        try:
            detail = await self.channels.deliver(delivery, self.clock.now())
        except PermanentDeliveryError as error:
            await self._fail(delivery, str(error))
        except TransientDeliveryError as error:
            await self._retry_later(delivery, str(error))
        else:
            outcome = self._outcome(delivery, "sent", detail)
            await self._record.finish(
                notice.key, "sent", self.clock.now(), detail=detail, outcome=outcome
            )
            log.info(f"{notice.kind}.sent", **ids_of(delivery), detail=detail)  # e.g. invite.sent

    async def _reminder_still_due(self, delivery: Delivery) -> bool:
        notice, now = delivery.notice, self.clock.now()
        session = notice.required_session
        entry = await self.store.entry(notice.recipient_id, session.session_id)
        live = entry.revision if entry is not None and entry.active else None
        starts_at = min(day.starts_at for day in session.days)
        zone = ZoneInfo(session.timezone)
        decision, until = reminders.verdict(
            notice.revision, live, starts_at=starts_at, now=now, zone=zone, quiet=self.quiet
        )
        if decision == "suppress":
            await self._record.finish(notice.key, "superseded", now)
            log.info("reminder.suppressed", **ids_of(delivery))
        elif decision == "too_late":
            await self._fail(delivery, "session already started")
        elif decision == "defer" and until is not None:
            outcome = self._outcome(delivery, "deferred", "quiet hours")
            await self._record.defer(notice.key, until, now, attempted=False, outcome=outcome)
            log.info("reminder.quiet_deferred", **ids_of(delivery), until=until.isoformat())
        return decision == "send"

    async def _retry_later(self, delivery: Delivery, error: str) -> None:
        attempt = delivery.attempts + 1
        if attempt >= self.retry.attempts:
            await self._fail(delivery, f"gave up after {attempt} attempts: {error}")
            return
        until = self.clock.now() + timedelta(seconds=self.retry.delay(attempt, self.rng))
        outcome = self._outcome(delivery, "deferred", error)
        now = self.clock.now()
        await self._record.defer(delivery.notice.key, until, now, attempted=True, outcome=outcome)
        log.warning(
            "notification.deferred", **ids_of(delivery), until=until.isoformat(), error=error
        )

    async def _fail(self, delivery: Delivery, error: str) -> None:
        outcome = self._outcome(delivery, "failed", error)
        now, key = self.clock.now(), delivery.notice.key
        await self._record.finish(key, "failed", now, detail=error[:500], outcome=outcome)
        # The operator's line: the row stays in the table as `failed` for inspection and replay.
        log.error("notification.dead_lettered", **ids_of(delivery), error=error)

    def _outcome(
        self, delivery: Delivery, status: OutcomeStatus, detail: str | None
    ) -> NotificationOutcomeV1:
        attempt = delivery.attempts + 1
        return outcome_of(
            delivery.notice, status, attempt=attempt, now=self.clock.now(), detail=detail
        )


def ids_of(delivery: Delivery) -> dict[str, object]:
    """The ids a log line about a delivery carries (never an address)."""
    notice = delivery.notice
    return {
        "correlation_id": notice.correlation_id,
        "notification_key": notice.key,
        "session_id": notice.session_id or None,
        "kind": notice.kind,
        "channel": notice.channel,
        "attempt": delivery.attempts + 1,
    }
