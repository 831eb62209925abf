"""Wiring: the broker, the subscribers and the start-up steps. Nothing connects at import time."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from faststream import FastStream
from faststream.kafka import KafkaBroker

from services.scheduler import subscribers
from services.scheduler.handlers import SERVICE, Deps
from services.scheduler.settings import SchedulerSettings
from services.scheduler.store import PlacementStore
from shared.catalogue import load_catalogue
from shared.clock import Clock, SystemClock
from shared.kafka import make_broker
from shared.kafka.admin import ensure_topics


class Runtime:
    """The scheduler's dependencies: built when the app starts, released when it stops."""

    def __init__(self, settings: SchedulerSettings, clock: Clock, broker: KafkaBroker) -> None:
        self.settings, self.clock, self.broker = settings, clock, broker
        self._deps: Deps | None = None

    async def start(self) -> None:
        """Load the catalogue, open the database and create its tables."""
        catalogue = load_catalogue(self.settings.catalogue_path)
        url = self.settings.database_url_for(SERVICE, self.settings.database_url)
        store = PlacementStore(url)
        await store.create_tables()
        self._deps = Deps(catalogue=catalogue, store=store, broker=self.broker, clock=self.clock)

    async def stop(self) -> None:
        """Close the database connections."""
        if self._deps is not None:
            await self._deps.store.dispose()
            self._deps = None

    def deps(self) -> Deps:
        """The dependencies of a started scheduler."""
        if self._deps is None:
            raise RuntimeError("the scheduler has not started")
        return self._deps


def create_app(
    settings: SchedulerSettings,
    *,
    clock: Clock | None = None,
    broker: KafkaBroker | None = None,
    provision_topics: bool = True,
) -> FastStream:
    """Build the scheduler app; pass `provision_topics=False` under a TestKafkaBroker."""
    broker = broker or make_broker(settings.kafka_bootstrap_servers, client_id=SERVICE)
    runtime = Runtime(settings, clock or SystemClock(), broker)
    subscribers.register(broker, runtime.deps)

    async def provision() -> None:
        await ensure_topics(settings.kafka_bootstrap_servers)

    on_startup: list[Callable[[], Awaitable[None]]] = [runtime.start]
    if provision_topics:
        on_startup.insert(0, provision)
    app_logger = logging.getLogger("services.scheduler.app")  # through the JSON pipeline, like ours
    return FastStream(broker, logger=app_logger, on_startup=on_startup, on_shutdown=[runtime.stop])
