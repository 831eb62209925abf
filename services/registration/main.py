"""Wire the registration service: FastAPI in front, Kafka behind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from services.registration import handlers
from services.registration.api import install_routes
from services.registration.errors import install_error_handlers
from services.registration.settings import RegistrationSettings
from services.registration.store import RegistrationStore
from shared import topics
from shared.catalogue import Catalogue, load_catalogue
from shared.clock import Clock, SystemClock
from shared.contracts import PlacementEvent
from shared.db import create_engine
from shared.kafka import make_broker, subscriber_options
from shared.kafka.admin import ensure_topics

log = structlog.stdlib.get_logger("registration")


def subscribe_placements(broker: KafkaBroker, store: RegistrationStore) -> None:
    """Follow the scheduler's decisions so the status endpoint can answer."""

    @broker.subscriber(topics.PLACEMENTS, **subscriber_options("registration"))
    async def on_placement(event: PlacementEvent) -> None:
        await handlers.on_placement(event, store=store)


def create_app(
    settings: RegistrationSettings,
    *,
    broker: KafkaBroker | None = None,
    clock: Clock | None = None,
    catalogue: Catalogue | None = None,
    provision_topics: bool = True,
) -> FastAPI:
    """Build the app; nothing connects until it starts."""
    broker = broker or make_broker(settings.kafka_bootstrap_servers, client_id="registration")
    engine = create_engine(settings.database_url_for("registration", settings.database_url))
    store = RegistrationStore(engine)
    subscribe_placements(broker, store)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await store.create_tables()
        if provision_topics:
            await ensure_topics(settings.kafka_bootstrap_servers)
        app.state.deps = handlers.Deps(
            broker=broker,
            store=store,
            catalogue=catalogue or load_catalogue(settings.catalogue_path),
            clock=clock or SystemClock(),
            publish_timeout_s=settings.publish_timeout_s,
        )
        await broker.start()
        log.info("service.started", http_port=settings.http_port)
        try:
            yield
        finally:
            await broker.stop()
            await engine.dispose()
            log.info("service.stopped")

    app = FastAPI(
        title="Training registration API",
        version="1.0.0",
        description="Register for the sessions of a public-administration training programme.",
        lifespan=lifespan,
    )
    install_routes(app)
    install_error_handlers(app, retry_after_s=settings.retry_after_s)
    return app
