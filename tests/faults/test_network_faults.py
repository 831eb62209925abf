"""A TCP proxy between every client and the broker: connections reset, black-holed and delayed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.kafka.config import LOOPBACK, server_properties, write_atomically
from deploy.kafka.launcher import LocalKafka
from deploy.ports import free_port
from tests.faults.harness import World, assert_exactly_once, running_world, settled, some_progress
from tests.faults.observe import downstream
from tests.faults.proxy import Mode, TcpProxy

pytestmark = pytest.mark.faults
FAULT_S = 8.0


class ProxiedKafka(LocalKafka):
    """A broker that advertises the proxy's port, so every client connection goes through it."""

    def __init__(self, data_dir: Path, proxy: TcpProxy) -> None:
        super().__init__(data_dir)
        self.proxy = proxy
        proxy.upstream_port = self.ports.port

    @property
    def bootstrap_servers(self) -> str:
        """Clients start at the proxy too."""
        return f"{LOOPBACK}:{self.proxy.port}"

    def _write_properties(self) -> Path:
        direct = f"advertised.listeners=PLAINTEXT://{LOOPBACK}:{self.ports.port}"
        proxied = f"advertised.listeners=PLAINTEXT://{LOOPBACK}:{self.proxy.port}"
        text = server_properties(self.data_dir, self.ports)
        assert direct in text
        properties = self.data_dir / "server.properties"
        write_atomically(properties, text.replace(direct, proxied))
        return properties


@pytest.fixture(scope="module")
def proxy() -> Iterator[TcpProxy]:
    """The proxy, passing traffic until a test says otherwise."""
    running = TcpProxy(free_port())
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, repo_root: Path, proxy: TcpProxy
) -> Iterator[World]:
    """The whole system, every Kafka connection through the proxy."""
    tmp = tmp_path_factory.mktemp("network-faults")
    with running_world(tmp, repo_root, ProxiedKafka(tmp / "kafka", proxy)) as running:
        yield running


@pytest.fixture(autouse=True)
def healed(proxy: TcpProxy) -> Iterator[None]:
    """Every test leaves the network as it found it."""
    yield
    proxy.set_mode("pass")
    proxy.delay_s = 0.0


@pytest.mark.parametrize("mode", ["reset", "blackhole"])
async def test_connections_dropped_mid_stream(world: World, proxy: TcpProxy, mode: Mode) -> None:
    before = len((await downstream(world.bootstrap)).decision_ids)
    stream = asyncio.create_task(
        world.submit([world.registrant(f"net-{mode}", i) for i in range(16)])
    )
    await some_progress(world, before)
    assert proxy.connections > 0, "the clients must reach the broker through the proxy"
    proxy.set_mode(mode)
    await asyncio.sleep(FAULT_S)  # the fault's duration, not a wait for a result
    proxy.set_mode("pass")
    assert (proxy.aborted if mode == "reset" else proxy.held) > 0, "the fault hit live traffic"
    await stream
    seen = await settled(world, within_s=120)
    assert_exactly_once(world, seen)
    assert all(child.alive() for child in world.stack.children.values())


async def test_slow_network(world: World, proxy: TcpProxy) -> None:
    proxy.delay_s = 0.05  # 50 ms on every chunk, each way
    await world.submit([world.registrant("net-slow", i) for i in range(10)])
    seen = await settled(world, within_s=120)
    assert_exactly_once(world, seen)
