"""Cancellations, offers with an accept-by deadline, lapses, the cut-off and erasure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from services.scheduler.domain.book import MOVED_ON_WAITLIST
from services.scheduler.tables import outbox, registrations
from shared.contracts import (
    PlacementEvent,
    RegistrationCancelledV1,
    RegistrationWaitlistedV1,
    SeatAssignedV1,
    SeatOfferedV1,
    SeatReleasedV1,
)
from tests.service.scheduler.conftest import (
    NOW,
    Scheduler,
    registration,
    small_catalogue,
    start_scheduler,
)

pytestmark = pytest.mark.service


def is_move(event: PlacementEvent) -> bool:
    """A re-announced waitlist position (the queue moved), not a decision."""
    if not isinstance(event, RegistrationWaitlistedV1):
        return False
    assert event.reason.startswith(MOVED_ON_WAITLIST) == (not event.joined)
    return not event.joined


def decisions(events: list[PlacementEvent]) -> list[PlacementEvent]:
    """The decisions among published events, without re-announced waitlist positions."""
    return [e for e in events if not is_move(e)]


async def fill_s1(
    small: Scheduler,
) -> tuple[SeatAssignedV1, RegistrationWaitlistedV1, RegistrationWaitlistedV1]:
    """s1 has one seat: the first registrant takes it, two more wait for it."""
    seated = await small.submit(registration("s1", n=1))
    request = registration("s1", n=2)
    first = await small.submit(request)
    second = await small.submit(registration("s1", n=3))
    assert isinstance(seated, SeatAssignedV1)
    assert isinstance(first, RegistrationWaitlistedV1)
    assert isinstance(second, RegistrationWaitlistedV1)
    assert (first.position, second.position) == (1, 2)
    # whom the notifier tells, and about which programme: they joined, nobody merely moved
    assert (first.joined, first.attendee, first.programme_title) == (
        True,
        request.registrant,
        "Small",
    )
    return seated, first, second


async def test_a_cancelled_seat_is_offered_to_the_first_waiting_then_accepted(
    small: Scheduler,
) -> None:
    seated, first, second = await fill_s1(small)
    events = await small.send(small.cancellation(seated.registration_id))
    released, cancelled, offered, moved = events
    assert is_move(moved), "the second in the queue moved up: their status must say so"
    assert isinstance(moved, RegistrationWaitlistedV1)
    assert (moved.registration_id, moved.position, moved.revision) == (second.registration_id, 1, 2)
    assert isinstance(released, SeatReleasedV1)
    assert released.release_reason == "participant_cancelled"
    assert (released.revision, released.session.session_id) == (2, "s1")
    assert isinstance(cancelled, RegistrationCancelledV1)
    assert cancelled.cancelled_by == "participant"
    assert cancelled.revision == 3
    assert isinstance(offered, SeatOfferedV1)
    assert offered.registration_id == first.registration_id
    assert offered.expires_at == NOW + timedelta(hours=48)
    assert offered.revision == 2
    [accepted] = await small.send(small.answer(offered, accepted=True))
    assert isinstance(accepted, SeatAssignedV1)
    assert (accepted.session.session_id, accepted.revision, accepted.choice_rank) == ("s1", 3, 1)
    assert accepted.reason == "accepted the offer for s1"


async def test_a_declined_offer_cascades_to_the_next_fitting_person(small: Scheduler) -> None:
    seated, first, second = await fill_s1(small)
    *_, offered = decisions(await small.send(small.cancellation(seated.registration_id)))
    back, next_offer = decisions(await small.send(small.answer(offered, accepted=False)))
    assert isinstance(back, RegistrationWaitlistedV1)
    assert back.registration_id == first.registration_id
    assert back.reason == "declined the offer for s1"
    assert isinstance(next_offer, SeatOfferedV1)
    assert next_offer.registration_id == second.registration_id


async def test_a_lapsed_offer_cascades_on_the_tick(small: Scheduler) -> None:
    seated, first, second = await fill_s1(small)
    *_, offered = decisions(await small.send(small.cancellation(seated.registration_id)))
    small.clock.advance(timedelta(hours=47))
    assert await small.tick() == []
    small.clock.advance(timedelta(hours=1))
    lapsed, next_offer = decisions(await small.tick())
    assert isinstance(lapsed, RegistrationWaitlistedV1)
    assert lapsed.registration_id == first.registration_id
    assert lapsed.reason == "the offer for s1 lapsed"
    assert isinstance(next_offer, SeatOfferedV1)
    assert next_offer.registration_id == second.registration_id
    late = await small.send(small.answer(offered, accepted=True))
    assert late == []  # the lapsed offer can no longer be accepted


async def test_an_answer_to_an_old_offer_revision_is_ignored(small: Scheduler) -> None:
    seated, _, _ = await fill_s1(small)
    *_, offered = decisions(await small.send(small.cancellation(seated.registration_id)))
    stale = small.answer(offered, accepted=True).model_copy(update={"offer_revision": 1})
    assert await small.send(stale) == []


async def test_the_waitlist_skips_who_does_not_fit(small: Scheduler) -> None:
    seated = await small.submit(registration("s1", n=1))
    s1_day = datetime(2027, 6, 8).date()
    clash = await small.submit(registration("s1", n=2, unavailable=(s1_day,)))
    english = await small.submit(registration("s1", n=3, language="en"))
    other = await small.submit(registration("s1", n=4))
    assert [type(p) for p in (clash, english)] == [RegistrationWaitlistedV1] * 2
    *_, offered = decisions(await small.send(small.cancellation(seated.registration_id)))
    assert isinstance(offered, SeatOfferedV1)
    assert offered.registration_id == other.registration_id


async def test_no_offer_within_the_cut_off_before_the_start(small: Scheduler) -> None:
    seated, _, _ = await fill_s1(small)
    s1_starts = datetime(2027, 6, 8, 8, 0, tzinfo=UTC)
    small.clock.advance(s1_starts - timedelta(hours=47) - NOW)
    caused = decisions(await small.send(small.cancellation(seated.registration_id)))
    assert [type(e) for e in caused] == [SeatReleasedV1, RegistrationCancelledV1]
    assert await small.tick() == []


async def test_an_offer_expires_no_later_than_the_cut_off(small: Scheduler) -> None:
    seated, _, _ = await fill_s1(small)
    s1_starts = datetime(2027, 6, 8, 8, 0, tzinfo=UTC)
    small.clock.advance(s1_starts - timedelta(hours=60) - NOW)
    *_, offered = decisions(await small.send(small.cancellation(seated.registration_id)))
    assert isinstance(offered, SeatOfferedV1)
    assert offered.expires_at == s1_starts - timedelta(hours=48)


async def test_cancelling_twice_changes_nothing_the_second_time(small: Scheduler) -> None:
    seated, _, _ = await fill_s1(small)
    decisions(await small.send(small.cancellation(seated.registration_id)))
    assert await small.send(small.cancellation(seated.registration_id, by="staff")) == []


async def test_erasure_frees_the_seat_announces_only_a_cancellation_and_forgets_the_person(
    small: Scheduler,
) -> None:
    submitted = registration("s1", n=1)
    await small.submit(submitted)
    first = await small.submit(registration("s1", n=2))
    erased, offered = await small.send(small.erasure(submitted.registration_id))
    assert isinstance(erased, RegistrationCancelledV1)
    assert erased.cancelled_by == "erasure"
    assert isinstance(offered, SeatOfferedV1)
    assert offered.registration_id == first.registration_id
    async with small.deps.store.connection() as conn:
        row = (
            (
                await conn.execute(
                    select(registrations).where(
                        registrations.c.registration_id == submitted.registration_id
                    )
                )
            )
            .mappings()
            .one()
        )
        stored = [r.event_json for r in (await conn.execute(select(outbox.c.event_json))).all()]
    assert row["registrant_json"] is None
    assert "Petra Testić 1" not in str(dict(row))
    assert not any("petra.1@example.org" in text or 'Petra Testić 1"' in text for text in stored)
    assert sum(str(submitted.registration_id) in text for text in stored) == 1  # the cancellation


async def test_municipality_cap_keeps_one_city_from_filling_a_session(tmp_path: Path) -> None:
    async for sched in start_scheduler(tmp_path, small_catalogue(3, 3, cap=2), "small"):
        placed = [
            await sched.submit(registration("s1", "s2", n=n, organisation="Grad  Beograd"))
            for n in range(3)
        ]
        sessions = [p.session.session_id for p in placed if isinstance(p, SeatAssignedV1)]
        assert sessions == ["s1", "s1", "s2"]
        assert placed[2].reason == "2nd choice: 1st choice municipality cap reached"
        other_city = await sched.submit(registration("s1", n=9, organisation="Opština Bor"))
        assert isinstance(other_city, SeatAssignedV1)
        assert other_city.session.session_id == "s1"


async def test_at_close_collects_silently_then_places_everyone_at_the_deadline(
    tmp_path: Path,
) -> None:
    catalogue = small_catalogue(1, 1, mode="at_close")
    async for sched in start_scheduler(tmp_path, catalogue, "small"):
        flexible = registration("s1", "s2", n=1)
        picky = registration("s1", n=2)
        late = registration("s1", n=3)
        for submitted in (flexible, picky, late):
            assert await sched.send(submitted) == []
        assert await sched.tick() == []  # before the deadline nothing is decided
        sched.clock.advance(datetime(2027, 5, 11, 22, 0, tzinfo=UTC) - NOW)  # s1 closes 23:59 local
        decided = {p.registration_id: p for p in await sched.tick()}
        assert set(decided) == {
            flexible.registration_id,
            picky.registration_id,
            late.registration_id,
        }
        moved, first, waiting = (decided[r.registration_id] for r in (flexible, picky, late))
        assert isinstance(moved, SeatAssignedV1)
        assert (moved.session.session_id, moved.choice_rank) == ("s2", 2)
        assert isinstance(first, SeatAssignedV1)
        assert first.session.session_id == "s1"
        assert isinstance(waiting, RegistrationWaitlistedV1)
        assert await sched.tick() == []
