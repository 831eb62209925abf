"""The scheduler takes the registrations stream in batches: same decisions, nothing lost or doubled."""

from __future__ import annotations

from collections import Counter
from uuid import uuid4

import pytest
from structlog.testing import capture_logs

from services.scheduler import handlers
from shared import topics
from shared.contracts import Event, RegistrationWaitlistedV1, SeatAssignedV1
from shared.kafka import PermanentError
from tests.service.scheduler.conftest import Scheduler, registration

pytestmark = pytest.mark.service


async def send_batch(scheduler: Scheduler, *events: Event) -> None:
    """Publish several requests as one batch, as the consumer fetches them from Kafka."""
    await scheduler.broker.publish_batch(*events, topic=topics.REGISTRATIONS)


def first_decisions(scheduler: Scheduler) -> Counter[object]:
    """How many times each registration was first announced (assigned or waitlisted)."""
    kinds = (SeatAssignedV1, RegistrationWaitlistedV1)
    return Counter(p.registration_id for p, _ in scheduler.placed if isinstance(p, kinds))


async def test_a_batch_is_decided_in_arrival_order_and_a_repeat_inside_it_changes_nothing(
    small: Scheduler,
) -> None:
    submitted = [registration(n=n, organisation=f"Opština {n}") for n in range(5)]
    await send_batch(small, *submitted, submitted[0])  # a redelivery inside the same batch
    assert first_decisions(small) == Counter({s.registration_id: 1 for s in submitted})
    seated = [p.registration_id for p, _ in small.placed if isinstance(p, SeatAssignedV1)]
    assert seated == [s.registration_id for s in submitted[:3]]  # s1 has 1 seat, s2 has 2
    waiting = [p for p, _ in small.placed if isinstance(p, RegistrationWaitlistedV1)]
    assert [(w.registration_id, w.position) for w in waiting] == [
        (submitted[3].registration_id, 1),
        (submitted[4].registration_id, 2),
    ]


async def test_one_failing_request_is_dead_lettered_and_the_rest_of_its_batch_is_placed_once(
    small: Scheduler,
) -> None:
    first, second = registration(n=1), registration(n=2)
    unknown = small.cancellation(uuid4())  # cannot succeed: nobody registered under this id
    await send_batch(small, first, unknown, second)
    assert first_decisions(small) == Counter({first.registration_id: 1, second.registration_id: 1})
    assert len(small.dead) == 1
    assert small.dead[0].headers["x-dead-letter-reason"].startswith("unknown registration")


async def test_a_failing_batch_commits_none_of_its_requests(small: Scheduler) -> None:
    placed = registration(n=1)
    with pytest.raises(PermanentError):
        await handlers.handle_batch([placed, small.cancellation(uuid4())], small.deps)
    async with small.deps.store.transaction("small") as tx:
        book = await tx.load_book(small.deps.policy, cached=False)
    assert placed.registration_id not in book.placements
    assert await small.deps.relay.pending() == 0
    await handlers.place_registration(placed, small.deps)  # the one-by-one retry still works
    assert first_decisions(small) == Counter({placed.registration_id: 1})


async def test_a_registration_and_its_cancellation_in_one_batch_seat_the_next_in_line(
    small: Scheduler,
) -> None:
    submitted = [registration("s1", n=n, organisation=f"Opština {n}") for n in range(2)]
    with capture_logs() as logs:
        await send_batch(small, *submitted, small.cancellation(submitted[0].registration_id))
    assert "batch.fallback" not in [entry["event"] for entry in logs]  # one transaction did it
    async with small.deps.store.transaction("small") as tx:
        book = await tx.load_book(small.deps.policy, cached=False)  # what was written
    first, second = (book.placements[s.registration_id] for s in submitted)
    assert (first.status, second.status, second.session_id) == ("cancelled", "offered", "s1")
    assert await small.deps.relay.pending() == 0  # and every change was announced
    kinds = [(type(p).__name__, p.registration_id) for p, _ in small.placed]
    assert kinds[:2] == [
        ("SeatAssignedV1", first.registration_id),
        ("RegistrationWaitlistedV1", second.registration_id),
    ]
