"""Wiring: the broker, the subscribers, the outbox relay, the tick and the admin API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import structlog
from faststream import FastStream
from faststream.kafka import KafkaBroker

from services.scheduler import handlers, subscribers
from services.scheduler.handlers import SERVICE, Deps
from services.scheduler.outbox import OutboxRelay
from services.scheduler.sessions import seed_catalogue
from services.scheduler.settings import SchedulerSettings
from services.scheduler.store import SchedulerStore
from shared.catalogue import load_catalogue
from shared.clock import Clock, SystemClock
from shared.kafka import make_broker
from shared.kafka.admin import ensure_topics

log = structlog.stdlib.get_logger("services.scheduler")
Loop = Callable[[Deps], Coroutine[Any, Any, None]]


class Runtime:
    """The scheduler's dependencies and background tasks: built at start, released at stop."""

    def __init__(self, settings: SchedulerSettings, clock: Clock, broker: KafkaBroker) -> None:
        self.settings, self.clock, self.broker = settings, clock, broker
        self._deps: Deps | None = None
        self.tasks: list[asyncio.Task[None]] = []
        self.extra_loops: list[Loop] = []

    async def start(self) -> None:
        """Load the catalogue, open the database and create its tables."""
        catalogue = load_catalogue(self.settings.catalogue_path)
        url = self.settings.database_url_for(SERVICE, self.settings.database_url)
        store = SchedulerStore(url, {p.id: p.title for p in catalogue.programmes})
        await store.create_tables()
        relay = OutboxRelay(store, self.broker, self.clock)
        policy = self.settings.waitlist_policy()
        self._deps = Deps(catalogue, store, relay, self.clock, policy)

    async def run_loops(self) -> None:
        """Once the broker is connected: seed the catalogue, then relay and tick in the background."""
        deps = self.deps()
        await seed_catalogue(deps)
        interval = self.settings.outbox_interval_seconds
        self.tasks.append(asyncio.create_task(deps.relay.run(interval)))
        self.tasks.append(asyncio.create_task(_ticking(deps, self.settings.tick_interval_seconds)))
        self.tasks.extend(asyncio.create_task(loop(deps)) for loop in self.extra_loops)

    async def stop(self) -> None:
        """Stop the background tasks and close the database connections."""
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks.clear()
        if self._deps is not None:
            await self._deps.store.dispose()
            self._deps = None

    def deps(self) -> Deps:
        """The dependencies of a started scheduler."""
        if self._deps is None:
            raise RuntimeError("the scheduler has not started")
        return self._deps


async def _ticking(deps: Deps, interval: float) -> None:
    """Lapse offers, close at_close programmes and offer free seats, every `interval` seconds."""
    while True:
        await asyncio.sleep(interval)
        try:
            await handlers.tick(deps)
        except Exception as error:  # the next tick tries again
            log.warning("tick.failed", error=type(error).__name__)


def create_app(
    settings: SchedulerSettings,
    *,
    clock: Clock | None = None,
    broker: KafkaBroker | None = None,
    provision_topics: bool = True,
    admin_api: bool = True,
) -> FastStream:
    """Build the scheduler app; pass `provision_topics=False` under a TestKafkaBroker."""
    app, _ = build_app(
        settings, clock=clock, broker=broker, provision_topics=provision_topics, admin_api=admin_api
    )
    return app


def build_app(
    settings: SchedulerSettings,
    *,
    clock: Clock | None = None,
    broker: KafkaBroker | None = None,
    provision_topics: bool = True,
    admin_api: bool = True,
) -> tuple[FastStream, Runtime]:
    """The app and its runtime (tests reach the dependencies through `runtime.deps()`)."""
    broker = broker or make_broker(settings.kafka_bootstrap_servers, client_id=SERVICE)
    runtime = Runtime(settings, clock or SystemClock(), broker)
    subscribers.register(broker, runtime.deps)
    if admin_api and settings.admin_http_port:
        from services.scheduler.admin_server import serve_admin_api

        runtime.extra_loops.append(lambda deps: serve_admin_api(deps, settings))

    async def provision() -> None:
        await ensure_topics(settings.kafka_bootstrap_servers)

    on_startup: list[Callable[[], Awaitable[None]]] = [runtime.start]
    if provision_topics:
        on_startup.insert(0, provision)
    app_logger = logging.getLogger("services.scheduler.app")  # through the JSON pipeline, like ours
    app = FastStream(broker, logger=app_logger, on_startup=on_startup, on_shutdown=[runtime.stop])
    app.after_startup(runtime.run_loops)
    return app, runtime
