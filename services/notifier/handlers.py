"""Use cases: each seat gets its invite exactly once in effect.

Kafka delivers at least once; the deterministic notification key makes a redelivery a no-op.
One window remains: a crash after the SMTP server accepted the message but before `sent` was
recorded sends it once more on redelivery. That duplicate is harmless: it carries the same
Message-ID, and its calendar carries the same UID and SEQUENCE, so clients merge it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Literal

from services.notifier.ics import sequence_of
from services.notifier.messages import MailIdentity, compose_invite, message_id
from services.notifier.ports import (
    Mailer,
    NotificationRecord,
    NotificationStore,
    OutcomePublisher,
    PermanentMailError,
    TransientMailError,
)
from shared.clock import Clock
from shared.contracts import NotificationOutcomeV1, PlacementEvent, SeatAssignedV1
from shared.contracts.envelope import envelope
from shared.logging import get_logger

PRODUCER = "notifier"
OUTCOME_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "outcomes.notifier.trainingops")
log = get_logger("services.notifier.handlers")
OutcomeStatus = Literal["sent", "deferred", "failed"]


@dataclass(frozen=True)
class Deps:
    """The ports and settings the use cases need."""

    mailer: Mailer
    store: NotificationStore
    outcomes: OutcomePublisher
    clock: Clock
    identity: MailIdentity


def invite_key(event: SeatAssignedV1) -> str:
    """The deterministic key of an invite: one per registration, session and revision."""
    return f"{event.registration_id}:{event.session.session_id}:invite:{event.revision}"


async def on_placement(event: PlacementEvent, deps: Deps) -> None:
    """Invite a seated registrant; other placement events need no invite yet."""
    if not isinstance(event, SeatAssignedV1):
        log.info(
            "placement.ignored",
            registration_id=str(event.registration_id),
            event_type=event.event_type,
        )
        return
    await send_invite(event, deps)


async def send_invite(event: SeatAssignedV1, deps: Deps) -> None:
    """Send the invite for `event` unless it was sent already (see the module docstring)."""
    fields: dict[str, Any] = {
        "registration_id": str(event.registration_id),
        "session_id": event.session.session_id,
        "sequence": sequence_of(event.revision),
    }
    if not event.attendee.consent_email:
        log.info("invite.skipped_no_consent", **fields)
        return
    key = invite_key(event)
    pending = _pending(event, key, message_id(key, deps.identity.sender.domain))
    state = await deps.store.begin_attempt(pending, deps.clock.now())
    fields.update(message_id=state.message_id, attempt=state.attempts)
    if state.status == "sent":
        log.info("invite.duplicate_skipped", **fields)
        # Publish the outcome again: a crash may have lost it after the record said `sent`.
        await _report(event, state, "sent", deps)
        return
    await _deliver(event, state, deps, fields)


async def _deliver(
    event: SeatAssignedV1, state: NotificationRecord, deps: Deps, fields: dict[str, Any]
) -> None:
    message = compose_invite(
        event, identity=deps.identity, notification_key=state.notification_key, now=deps.clock.now()
    )
    try:
        await deps.mailer.send(message)
    except PermanentMailError as error:
        await deps.store.set_status(state.notification_key, "failed", deps.clock.now())
        await _report(event, state, "failed", deps, detail=str(error))
        log.error("invite.failed", **fields, error=str(error))
        raise  # DeliveryGuard dead-letters it
    except TransientMailError as error:
        await _report(event, state, "deferred", deps, detail=str(error))
        log.warning("invite.deferred", **fields, error=str(error))
        raise  # DeliveryGuard retries with backoff
    await deps.store.set_status(state.notification_key, "sent", deps.clock.now())
    await _report(event, state, "sent", deps)
    log.info("invite.sent", **fields)


def _pending(event: SeatAssignedV1, key: str, mail_id: str) -> NotificationRecord:
    return NotificationRecord(
        notification_key=key,
        registration_id=event.registration_id,
        session_id=event.session.session_id,
        channel="email",
        kind="invite",
        revision=event.revision,
        status="pending",
        message_id=mail_id,
        attempts=0,
    )


async def _report(
    event: SeatAssignedV1,
    state: NotificationRecord,
    status: OutcomeStatus,
    deps: Deps,
    detail: str | None = None,
) -> None:
    """Publish the outcome; its id is deterministic so a republished outcome dedupes."""
    event_id = uuid.uuid5(OUTCOME_NAMESPACE, f"{state.notification_key}:{status}:{state.attempts}")
    outcome = NotificationOutcomeV1(
        **envelope(
            producer=PRODUCER,
            correlation_id=event.correlation_id,
            now=deps.clock.now(),
            event_id=event_id,
        ),
        notification_key=state.notification_key,
        registration_id=event.registration_id,
        session_id=event.session.session_id,
        channel="email",
        kind="invite",
        status=status,
        attempt=state.attempts,
        detail=detail[:500] if detail else None,
    )
    await deps.outcomes.publish(outcome)
