"""kill -9 of each service in the middle of a stream of registrations, then a restart."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.harness import World, assert_exactly_once, settled, some_progress
from tests.faults.observe import downstream

pytestmark = pytest.mark.faults


async def test_baseline_without_faults(world: World) -> None:
    await world.submit([world.registrant("calm", i) for i in range(8)])
    seen = await settled(world)
    assert_exactly_once(world, seen)


@pytest.mark.parametrize("service", ["scheduler", "notifier", "registration"])
async def test_kill_9_mid_stream_then_restart(world: World, service: str) -> None:
    before = len((await downstream(world.bootstrap)).decision_ids)
    stream = asyncio.create_task(
        world.submit([world.registrant(f"kill-{service}", i) for i in range(24)])
    )
    await some_progress(world, before)
    world.stack.kill(service)
    assert not world.stack.children[service].alive()
    await asyncio.to_thread(world.stack.restart, service)
    await stream
    seen = await settled(world)
    assert_exactly_once(world, seen, crash_window=service == "notifier")
