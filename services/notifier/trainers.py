"""Trainers and mentors get invites for their sessions too, from the catalogue's session events."""

from __future__ import annotations

from dataclasses import replace

from services.notifier.handlers import ALL_KINDS, Intake
from services.notifier.notices import Kind, Notice, trainer_id, trainer_recipient
from services.notifier.ports import CalendarEntry
from shared.contracts import SessionPublishedV1
from shared.logging import get_logger

log = get_logger("services.notifier.trainers")


async def on_session_published(event: SessionPublishedV1, intake: Intake) -> None:
    """REQUEST to each trainer on create or change; CANCEL on cancellation or removal."""
    session = event.session
    previous = {e.recipient_id: e for e in await intake.store.trainer_entries(session.session_id)}
    current = set()
    for trainer in session.trainers:
        recipient = trainer_recipient(trainer, session.language)
        entry = CalendarEntry(
            trainer_id(trainer.email), session.session_id, event.revision, True, recipient
        )
        current.add(entry.recipient_id)
        known = previous.get(entry.recipient_id)
        if event.status == "cancelled" or (known and known.revision >= event.revision):
            continue  # a redelivery, or older than what this calendar already holds
        await _notify(event, entry, "update" if known and known.active else "invite", intake)
    for entry in previous.values():
        dropped = event.status == "cancelled" or entry.recipient_id not in current
        if entry.active and dropped and entry.revision < event.revision:
            gone = replace(entry, revision=event.revision, active=False)
            await _notify(event, gone, "cancellation", intake)
    log.info("session.trainers_notified", session_id=session.session_id, revision=event.revision)


async def _notify(
    event: SessionPublishedV1, entry: CalendarEntry, kind: Kind, intake: Intake
) -> None:
    # Queue and remember the revision in one commit: a redelivery finds both or neither.
    notice = Notice(
        kind=kind,
        recipient_id=entry.recipient_id,
        recipient=entry.recipient,
        session=event.session,
        revision=event.revision,
        correlation_id=event.correlation_id,
    )
    now = intake.clock.now()
    async with intake.store.intake() as work:
        await work.close_pending(
            entry.recipient_id, entry.session_id, ALL_KINDS, event.revision, now
        )
        queued = await work.enqueue_many([intake.item(notice)], now=now)
        await work.record_entry(entry)
    intake.queued(notice.key, queued)
