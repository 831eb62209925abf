"""Bulk intake of held seats: their calendar entries and pending reminders, as the intake writes them.

For loading a store at scale (restoring, migrating, the reminder-scale benchmark). Each seat gets
the calendar entry and the reminders `handlers.seat_held` would record, planned by the intake's
own `plan_reminders` and keyed by its `Intake.item` (same notices, keys, Message-IDs, due times);
the invite is not queued (it went out when the seat was taken). Seats are written in chunks
through the store's bulk methods: entries, then reminders, insert-if-absent, so a load that
stopped half-way can simply be run again. Stale revisions are not filtered here: a reminder whose
revision is not the calendar's live one is suppressed by the dispatcher's re-check at send time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from services.notifier.handlers import Held, Intake, plan_reminders, recipient_of
from services.notifier.notices import Notice
from services.notifier.ports import CalendarEntry


@dataclass(frozen=True)
class Loaded:
    """What a bulk load wrote."""

    seats: int
    planned: int
    inserted: int


def seat_notice(event: Held) -> Notice:
    """The notice `seat_held` derives the reminders from (an invite, or an update)."""
    return Notice(
        kind="update" if event.event_type == "seat.updated" else "invite",
        recipient_id=event.registration_id,
        recipient=recipient_of(event.attendee),
        session=event.session,
        revision=event.revision,
        correlation_id=event.correlation_id,
    )


def entry_of(notice: Notice) -> CalendarEntry:
    """The live calendar entry of a held seat (reminders are re-checked against it)."""
    session_id = notice.required_session.session_id
    return CalendarEntry(notice.recipient_id, session_id, notice.revision, True, notice.recipient)


async def load_seats(intake: Intake, events: Iterable[Held], *, chunk: int = 5000) -> Loaded:
    """Record each seat's calendar entry and queue its reminders, `chunk` seats per write."""
    seats = planned = inserted = 0
    for batch in _chunks(events, chunk):
        notices = [seat_notice(event) for event in batch]
        rows = [
            intake.item(reminder, due)
            for notice in notices
            for reminder, due in plan_reminders(notice, intake)
        ]
        await intake.store.record_entries([entry_of(notice) for notice in notices])
        inserted += await intake.store.enqueue_many(rows, now=intake.clock.now())
        seats, planned = seats + len(batch), planned + len(rows)
    return Loaded(seats=seats, planned=planned, inserted=inserted)


def _chunks(events: Iterable[Held], size: int) -> Iterator[list[Held]]:
    iterator = iter(events)
    while batch := list(islice(iterator, size)):
        yield batch
