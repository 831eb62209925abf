"""The broker restarted (cleanly and by kill -9) and frozen (SIGSTOP) under a stream of registrations."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.harness import World, assert_exactly_once, settled, some_progress
from tests.faults.observe import downstream

pytestmark = pytest.mark.faults
PAUSE_S = 8.0  # the broker answers nothing for this long: clients must ride it out


async def start_stream(world: World, tag: str, count: int = 20) -> asyncio.Task[None]:
    """Submit `count` registrants in the background once the system is deciding."""
    before = len((await downstream(world.bootstrap)).decision_ids)
    stream = asyncio.create_task(world.submit([world.registrant(tag, i) for i in range(count)]))
    await some_progress(world, before)
    return stream


@pytest.mark.parametrize("how", ["stop", "kill"])
async def test_broker_restart_mid_stream(world: World, how: str) -> None:
    stream = await start_stream(world, f"broker-{how}")
    await asyncio.to_thread(world.kafka.stop if how == "stop" else world.kafka.kill)
    await asyncio.to_thread(world.kafka.start)
    await stream
    seen = await settled(world, within_s=120)
    assert_exactly_once(world, seen)
    assert all(child.alive() for child in world.stack.children.values())


async def test_broker_paused_then_resumed(world: World) -> None:
    stream = await start_stream(world, "broker-pause")
    world.kafka.pause()
    try:
        await asyncio.sleep(PAUSE_S)  # the fault's duration, not a wait for a result
    finally:
        world.kafka.resume()
    await stream
    seen = await settled(world, within_s=120)
    assert_exactly_once(world, seen)
    assert all(child.alive() for child in world.stack.children.values())
