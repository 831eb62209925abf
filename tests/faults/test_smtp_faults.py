"""The mail server down and back, then answering 4xx (retry later) and 5xx (fail now, report)."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.harness import World, assert_exactly_once, poll, settled

pytestmark = pytest.mark.faults
OUTAGE_S = 10.0  # a short outage of the mail server; retries must outlast it


async def test_smtp_down_then_back(world: World) -> None:
    world.smtp.stop()
    try:
        await world.submit([world.registrant("smtp-down", i) for i in range(8)])
        await asyncio.sleep(OUTAGE_S)  # the fault's duration, not a wait for a result
    finally:
        world.smtp.start()
    seen = await settled(world, within_s=90)
    assert_exactly_once(world, seen)


async def test_smtp_4xx_is_retried_until_accepted(world: World) -> None:
    """A greylisting server: three 4xx answers (fewer than the retry budget), then acceptance."""
    world.smtp.mode = "tempfail"
    refused_before = world.smtp.refused
    try:
        await world.submit([world.registrant("smtp-4xx", i) for i in range(6)])

        async def refused_some() -> str | None:
            refused = world.smtp.refused - refused_before
            return None if refused >= 3 else f"{refused} refused so far"

        await poll(refused_some, within_s=30)
    finally:
        world.smtp.mode = "accept"
    seen = await settled(world, within_s=90)
    assert_exactly_once(world, seen)
    assert not seen.outcomes_with("failed", world.accepted)


async def test_smtp_5xx_fails_and_is_reported_never_resent(world: World) -> None:
    world.smtp.mode = "permfail"
    batch = [world.registrant("smtp-5xx", i) for i in range(4)]
    world.refused_invites.update(body["email"].lower() for body in batch)
    try:
        await world.submit(batch)
        seen = await settled(world, within_s=60)
    finally:
        world.smtp.mode = "accept"
    refused = {r for r, email in world.accepted.items() if email in world.refused_invites}
    assert refused <= set(seen.seats), "the 5xx batch must have been seated"
    assert all(seen.outcomes[(r, "failed")] for r in refused), "every refusal is reported"
    await world.submit([world.registrant("after-5xx", i) for i in range(3)])
    assert_exactly_once(world, await settled(world))
