"""Use cases for what arrives on Kafka: record what to send, durably, and return at once.

Nothing here talks to a mail server: the dispatcher delivers what these record, so a broken
SMTP server never blocks a partition. Every notice has a deterministic key held by a primary
key, so a redelivered event records nothing new.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from structlog.contextvars import bound_contextvars

from services.notifier import reminders
from services.notifier.messages import message_id
from services.notifier.notices import CALENDAR_KINDS, NO_SESSION, Channel, Kind, Notice, Recipient
from services.notifier.ports import CalendarEntry, NotificationStore
from shared.clock import Clock
from shared.contracts import (
    ErasureRequestedV1,
    PlacementEvent,
    Registrant,
    RegistrationCancelledV1,
    RegistrationWaitlistedV1,
    SeatAssignedV1,
    SeatOfferedV1,
    SeatReleasedV1,
    SeatUpdatedV1,
    SmsConsentChangedV1,
)
from shared.logging import get_logger

log = get_logger("services.notifier.handlers")
ALL_KINDS: tuple[Kind, ...] = (*CALENDAR_KINDS, "reminder", "offer")
WAITLIST_KINDS: tuple[Kind, ...] = ("waitlisted",)
WAITLIST_LINK_VALIDITY = timedelta(days=365)  # as long as a registration is kept
Held = SeatAssignedV1 | SeatUpdatedV1
Queued = tuple[Notice, str, datetime]


@dataclass(frozen=True)
class Intake:
    """What recording a notice needs: the store, the time, the reminder rules, a dispatcher bell."""

    store: NotificationStore
    clock: Clock
    mail_domain: str
    offsets: Callable[[str], dict[Channel, tuple[timedelta, ...]]]
    quiet: reminders.QuietHours
    wake: Callable[[], None]

    def item(self, notice: Notice, due: datetime | None = None) -> Queued:
        """The (notice, Message-ID, due) row to queue; due now unless given."""
        return notice, message_id(notice.key, self.mail_domain), due or self.clock.now()

    async def enqueue(self, notice: Notice, due: datetime | None = None) -> None:
        """Record the notice (a no-op if its key exists) and ring the dispatcher."""
        queued = await self.store.enqueue_many([self.item(notice, due)], now=self.clock.now())
        self.queued(notice.key, queued)

    def queued(self, what: str, count: int) -> None:
        """Log what was newly queued and ring the dispatcher."""
        if count:
            log.info("notification.queued", notification_key=what, queued=count)
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
    elif isinstance(event, RegistrationWaitlistedV1):
        await joined_waitlist([event], intake)
    elif isinstance(event, RegistrationCancelledV1):
        await registration_cancelled(event, intake)
    else:
        ids = {"registration_id": str(event.registration_id), "event_type": event.event_type}
        log.info("placement.ignored", **ids)


async def on_placements(events: Sequence[PlacementEvent], intake: Intake) -> None:
    """A batch in order: runs of held seats and of waitlist entries together, the rest one by one."""
    run: dict[tuple[UUID, str], Held] = {}
    waiting: list[RegistrationWaitlistedV1] = []
    for event in events:
        if isinstance(event, RegistrationWaitlistedV1):
            await seats_held(list(run.values()), intake)
            run = {}
            waiting.append(event)
            continue
        await joined_waitlist(waiting, intake)
        waiting = []
        if isinstance(event, SeatAssignedV1 | SeatUpdatedV1):
            if _entry_key(event) in run:
                await seats_held(list(run.values()), intake)  # a second revision waits
                run = {}
            run[_entry_key(event)] = event
            continue
        await seats_held(list(run.values()), intake)
        run = {}
        with bound_contextvars(correlation_id=event.correlation_id):
            await on_placement(event, intake)
    await joined_waitlist(waiting, intake)
    await seats_held(list(run.values()), intake)


async def seat_held(event: Held, intake: Intake) -> None:
    """Invite (or update) the attendee and plan the reminders of this revision, in one commit."""
    await seats_held([event], intake)


@dataclass(frozen=True)
class HeldSeat:
    """What one held seat writes: its calendar entry and its invite (or update) and reminders."""

    event: Held
    entry: CalendarEntry
    notice: Notice
    items: list[Queued]


def held_seat(event: Held, intake: Intake) -> HeldSeat:
    """The entry, the notice and the rows to queue for a held seat."""
    recipient = recipient_of(event.attendee)
    entry = CalendarEntry(
        event.registration_id, event.session.session_id, event.revision, True, recipient
    )
    kind: Kind = "invite" if isinstance(event, SeatAssignedV1) else "update"
    notice = _notice(event, recipient, kind)
    items = [intake.item(notice)] if recipient.consent_email else []
    items += [intake.item(reminder, due) for reminder, due in plan_reminders(notice, intake)]
    return HeldSeat(event, entry, notice, items)


async def seats_held(events: Sequence[Held], intake: Intake) -> None:
    """Held seats of distinct calendar entries, in one commit: a stale revision writes nothing."""
    if not events:
        return
    seats = [held_seat(event, intake) for event in events]
    now = intake.clock.now()
    async with intake.store.intake() as work:
        fresh = await work.fresh_entries([seat.entry for seat in seats])
        live = [seat for seat in seats if _entry_key(seat.event) in fresh]
        for seat in live:
            await work.close_pending(
                seat.event.registration_id,
                seat.entry.session_id,
                ALL_KINDS,
                seat.event.revision,
                now,
            )
            await work.close_pending(  # a seat ends the wait: its notice, if unsent, is stale
                seat.event.registration_id, NO_SESSION, WAITLIST_KINDS, seat.event.revision, now
            )
        inserted = await work.enqueue_keys([item for seat in live for item in seat.items], now=now)
    for seat in seats:
        with bound_contextvars(correlation_id=seat.event.correlation_id):
            if _entry_key(seat.event) not in fresh:
                log.info("placement.stale_skipped", **_ids(seat.event))
                continue
            queued = sum(1 for notice, _, _ in seat.items if notice.key in inserted)
            intake.queued(seat.notice.key, queued)


def plan_reminders(notice: Notice, intake: Intake) -> list[tuple[Notice, datetime]]:
    """Every reminder still ahead, with its due time, on the channels the recipient allows."""
    session = notice.required_session
    starts_at = min(day.starts_at for day in session.days)
    offsets = intake.offsets(session.programme_id)
    planned = reminders.plan(
        starts_at, ZoneInfo(session.timezone), offsets, intake.quiet, intake.clock.now()
    )
    return [
        (notice.model_copy(update={"kind": "reminder", "channel": channel, "slot": slot}), due)
        for channel, slot, due in planned
        if _allowed(notice.recipient, channel)
    ]


async def seat_released(event: SeatReleasedV1, intake: Intake) -> None:
    """Stop the reminders and cancel the calendar entry (nobody is contacted after erasure)."""
    recipient, session = recipient_of(event.attendee), event.session
    entry = CalendarEntry(
        event.registration_id, session.session_id, event.revision, False, recipient
    )
    cancellation = _notice(event, recipient, "cancellation")
    now, queued = intake.clock.now(), 0
    async with intake.store.intake() as work:
        if not await work.record_entry(entry):
            log.info("placement.stale_skipped", **_ids(event))
            return
        closed = await work.close_pending(
            event.registration_id, session.session_id, ALL_KINDS, event.revision, now
        )
        if event.release_reason == "erased":
            await work.erase(event.registration_id)
        elif recipient.consent_email and await work.has_calendar(
            event.registration_id, session.session_id
        ):
            queued = await work.enqueue_many([intake.item(cancellation)], now=now)
    log.info("reminders.suppressed", **_ids(event), closed=closed)
    intake.queued(cancellation.key, queued)


async def seat_offered(event: SeatOfferedV1, intake: Intake) -> None:
    """Email the offer with its accept and decline links; the invite follows an acceptance."""
    recipient = recipient_of(event.attendee)
    await _close_waitlist_notice(event.registration_id, event.revision, intake)
    if recipient.consent_email:
        notice = _notice(event, recipient, "offer")
        await intake.enqueue(notice.model_copy(update={"expires_at": event.expires_at}))


async def joined_waitlist(events: Sequence[RegistrationWaitlistedV1], intake: Intake) -> None:
    """Tell each person who joined the waitlist their place in it, in one commit."""
    notices = []
    for event in events:
        notice = waitlist_notice(event)
        if notice is None:  # a move up the queue (or no consent) writes to nobody
            log.info("placement.ignored", **_waiting_ids(event))
        else:
            notices.append(notice)
    if not notices:
        return
    now = intake.clock.now()
    async with intake.store.intake() as work:
        for notice in notices:  # a newer entry supersedes an older notice not sent yet
            await work.close_pending(
                notice.recipient_id, NO_SESSION, WAITLIST_KINDS, notice.revision, now
            )
        inserted = await work.enqueue_keys([intake.item(notice) for notice in notices], now=now)
    for notice in notices:
        with bound_contextvars(correlation_id=notice.correlation_id):
            intake.queued(notice.key, int(notice.key in inserted))


def waitlist_notice(event: RegistrationWaitlistedV1) -> Notice | None:
    """The notice for someone who joined the waitlist (none for a move, or without consent)."""
    if not event.joined or event.attendee is None:
        return None
    recipient = recipient_of(event.attendee)
    if not recipient.consent_email:
        return None
    return Notice(
        kind="waitlisted",
        recipient_id=event.registration_id,
        recipient=recipient,
        session=None,
        revision=event.revision,
        correlation_id=event.correlation_id,
        position=event.position,
        programme_title=event.programme_title,
        expires_at=event.occurred_at + WAITLIST_LINK_VALIDITY,  # of the link to leave the list
    )


async def registration_cancelled(event: RegistrationCancelledV1, intake: Intake) -> None:
    """A registration is over: a waitlist notice not sent yet is stale (seats close their own)."""
    closed = await _close_waitlist_notice(event.registration_id, event.revision, intake)
    log.info("placement.cancelled", registration_id=str(event.registration_id), closed=closed)


async def _close_waitlist_notice(registration_id: UUID, revision: int, intake: Intake) -> int:
    return await intake.store.close_pending(
        registration_id, NO_SESSION, WAITLIST_KINDS, revision, intake.clock.now()
    )


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


def _entry_key(event: Held) -> tuple[UUID, str]:
    return event.registration_id, event.session.session_id


def _allowed(recipient: Recipient, channel: Channel) -> bool:
    if channel == "sms":
        return recipient.consent_sms and recipient.phone is not None
    return recipient.consent_email


def _waiting_ids(event: RegistrationWaitlistedV1) -> dict[str, object]:
    return {
        "registration_id": str(event.registration_id),
        "event_type": event.event_type,
        "revision": event.revision,
        "joined": event.joined,
    }


def _ids(event: Held | SeatReleasedV1) -> dict[str, object]:
    return {
        "registration_id": str(event.registration_id),
        "session_id": event.session.session_id,
        "revision": event.revision,
    }
