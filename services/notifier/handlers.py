"""Use cases for what arrives on Kafka: record what to send, durably, and return at once.

Nothing here talks to a mail server: the dispatcher delivers what these record, so a broken
SMTP server never blocks a partition. Every notice has a deterministic key held by a primary
key, so a redelivered event records nothing new.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.notifier import reminders
from services.notifier.messages import message_id
from services.notifier.notices import CALENDAR_KINDS, Channel, Kind, Notice, Recipient
from services.notifier.ports import CalendarEntry, NotificationStore
from shared.clock import Clock
from shared.contracts import (
    ErasureRequestedV1,
    PlacementEvent,
    Registrant,
    SeatAssignedV1,
    SeatOfferedV1,
    SeatReleasedV1,
    SeatUpdatedV1,
    SmsConsentChangedV1,
)
from shared.logging import get_logger

log = get_logger("services.notifier.handlers")
ALL_KINDS: tuple[Kind, ...] = (*CALENDAR_KINDS, "reminder", "offer")
Held = SeatAssignedV1 | SeatUpdatedV1


@dataclass(frozen=True)
class Intake:
    """What recording a notice needs: the store, the time, the reminder rules, a dispatcher bell."""

    store: NotificationStore
    clock: Clock
    mail_domain: str
    offsets: Callable[[str], dict[Channel, tuple[timedelta, ...]]]
    quiet: reminders.QuietHours
    wake: Callable[[], None]

    async def enqueue(self, notice: Notice, due: datetime | None = None) -> None:
        """Record the notice (a no-op if its key exists) and ring the dispatcher."""
        now = self.clock.now()
        when = due or now
        mail_id = message_id(notice.key, self.mail_domain)
        if await self.store.enqueue(notice, message_id=mail_id, due=when, now=now):
            log.info("notification.queued", notification_key=notice.key, due=when.isoformat())
        self.wake()


def recipient_of(attendee: Registrant) -> Recipient:
    """A registrant as a recipient."""
    return Recipient.model_validate(attendee.model_dump(exclude={"organisation", "role"}))


async def on_placement(event: PlacementEvent, intake: Intake) -> None:
    """Route a placement: seats held, released, offered; the rest needs no message."""
    if isinstance(event, SeatAssignedV1 | SeatUpdatedV1):
        await seat_held(event, intake)
    elif isinstance(event, SeatReleasedV1):
        await seat_released(event, intake)
    elif isinstance(event, SeatOfferedV1):
        await seat_offered(event, intake)
    else:
        ids = {"registration_id": str(event.registration_id), "event_type": event.event_type}
        log.info("placement.ignored", **ids)


async def seat_held(event: Held, intake: Intake) -> None:
    """Invite (or update) the attendee and plan the reminders of this revision."""
    recipient = recipient_of(event.attendee)
    session, ids = event.session, _ids(event)
    entry = CalendarEntry(
        event.registration_id, session.session_id, event.revision, True, recipient
    )
    if not await intake.store.record_entry(entry):
        log.info("placement.stale_skipped", **ids)
        return
    now = intake.clock.now()
    await intake.store.close_pending(
        event.registration_id, session.session_id, ALL_KINDS, event.revision, now
    )
    kind: Kind = "invite" if isinstance(event, SeatAssignedV1) else "update"
    notice = _notice(event, recipient, kind)
    if recipient.consent_email:
        await intake.enqueue(notice)
    await plan_reminders(notice, intake)


async def plan_reminders(notice: Notice, intake: Intake) -> None:
    """Queue every reminder still ahead, on the channels the recipient allows."""
    session = notice.session
    starts_at = min(day.starts_at for day in session.days)
    offsets = intake.offsets(session.programme_id)
    planned = reminders.plan(
        starts_at, ZoneInfo(session.timezone), offsets, intake.quiet, intake.clock.now()
    )
    for channel, slot, due in planned:
        if _allowed(notice.recipient, channel):
            reminder = notice.model_copy(
                update={"kind": "reminder", "channel": channel, "slot": slot}
            )
            await intake.enqueue(reminder, due)


async def seat_released(event: SeatReleasedV1, intake: Intake) -> None:
    """Stop the reminders and cancel the calendar entry (nobody is contacted after erasure)."""
    recipient, session = recipient_of(event.attendee), event.session
    entry = CalendarEntry(
        event.registration_id, session.session_id, event.revision, False, recipient
    )
    if not await intake.store.record_entry(entry):
        log.info("placement.stale_skipped", **_ids(event))
        return
    closed = await intake.store.close_pending(
        event.registration_id, session.session_id, ALL_KINDS, event.revision, intake.clock.now()
    )
    log.info("reminders.suppressed", **_ids(event), closed=closed)
    if event.release_reason == "erased":
        await intake.store.erase(event.registration_id)
        return
    if recipient.consent_email and await intake.store.has_calendar(
        event.registration_id, session.session_id
    ):
        await intake.enqueue(_notice(event, recipient, "cancellation"))


async def seat_offered(event: SeatOfferedV1, intake: Intake) -> None:
    """Email the offer with its accept and decline links; the invite follows an acceptance."""
    recipient = recipient_of(event.attendee)
    if recipient.consent_email:
        notice = _notice(event, recipient, "offer")
        await intake.enqueue(notice.model_copy(update={"expires_at": event.expires_at}))


async def on_erasure(event: ErasureRequestedV1, intake: Intake) -> None:
    """Forget the person: their notifications (pending reminders too) and calendar entries."""
    removed = await intake.store.erase(event.registration_id)
    log.info("registration.erased", registration_id=str(event.registration_id), removed=removed)


async def on_sms_consent(event: SmsConsentChangedV1, intake: Intake) -> None:
    """Honour a STOP or START reply from now on (checked again before every SMS)."""
    await intake.store.set_sms_consent(event.phone, event.opted_in, intake.clock.now())
    log.info("sms.consent_changed", opted_in=event.opted_in, source=event.source)


def _notice(
    event: Held | SeatReleasedV1 | SeatOfferedV1, recipient: Recipient, kind: Kind
) -> Notice:
    return Notice(
        kind=kind,
        recipient_id=event.registration_id,
        recipient=recipient,
        session=event.session,
        revision=event.revision,
        correlation_id=event.correlation_id,
    )


def _allowed(recipient: Recipient, channel: Channel) -> bool:
    if channel == "sms":
        return recipient.consent_sms and recipient.phone is not None
    return recipient.consent_email


def _ids(event: Held | SeatReleasedV1) -> dict[str, object]:
    return {
        "registration_id": str(event.registration_id),
        "session_id": event.session.session_id,
        "revision": event.revision,
    }
