"""Wire the registration service: FastAPI in front, Kafka behind."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncEngine

from services.registration import handlers, placements
from services.registration.abuse import RateLimits, SmsBudget
from services.registration.api import install_routes
from services.registration.catalogue_store import PublishedSessions, on_session_published
from services.registration.catalogue_view import CatalogueView
from services.registration.errors import install_error_handlers
from services.registration.form_api import router as form_router
from services.registration.idempotency import IdempotencyKeys
from services.registration.link_uses import LinkUses
from services.registration.links_api import router as links_router
from services.registration.settings import RegistrationSettings
from services.registration.sms_webhook import router as sms_router
from services.registration.staff_api import install_staff_routes
from services.registration.store import RegistrationStore
from shared import topics
from shared.catalogue import Catalogue, load_catalogue
from shared.clock import Clock, SystemClock
from shared.contracts import PlacementEvent, SessionPublishedV1
from shared.db import create_engine
from shared.kafka import batch_subscriber_options, consume_batch, make_broker, subscriber_options
from shared.kafka.admin import ensure_topics
from shared.links import LinkSigner

log = structlog.stdlib.get_logger("registration")
PLACEMENT_EVENTS: TypeAdapter[PlacementEvent] = TypeAdapter(PlacementEvent)


def subscribe(
    broker: KafkaBroker, store: RegistrationStore, view: CatalogueView, sessions: PublishedSessions
) -> None:
    """Follow the scheduler's decisions (for the status endpoint) and session changes."""

    @broker.subscriber(topics.PLACEMENTS, **batch_subscriber_options("registration"))
    async def on_placements(_: list[bytes], message: KafkaMessage) -> None:
        await consume_batch(
            message.raw_message,
            PLACEMENT_EVENTS,
            handle_many=functools.partial(placements.on_placements, store=store),
            handle_one=functools.partial(placements.on_placement, store=store),
        )

    @broker.subscriber(topics.CATALOGUE, **subscriber_options("registration"))
    async def on_session(event: SessionPublishedV1) -> None:
        await on_session_published(event, view=view, store=sessions)


def build_deps(
    settings: RegistrationSettings,
    engine: AsyncEngine,
    *,
    broker: KafkaBroker,
    store: RegistrationStore,
    view: CatalogueView,
    clock: Clock,
) -> handlers.Deps:
    """The use cases' dependencies, from the settings."""
    return handlers.Deps(
        broker=broker,
        store=store,
        catalogue=view,
        clock=clock,
        publish_timeout_s=settings.publish_timeout_s,
        retention_days=settings.retention_days,
        rate_limits=RateLimits(
            settings.rate_limit_per_address,
            settings.rate_limit_per_person,
            settings.rate_limit_per_phone_prefix,
        ),
        sms_budget=SmsBudget(settings.sms_daily_budget, store),
        phone_regions=settings.allowed_phone_regions(),
        idempotency=IdempotencyKeys(engine),
        link_uses=LinkUses(engine),
    )


def install_everything(app: FastAPI, settings: RegistrationSettings) -> None:
    """Mount the JSON API, staff routes, HTML pages, webhook and error handlers."""
    install_routes(app)
    install_staff_routes(app, settings.staff_tokens())
    for router in (form_router, links_router, sms_router):
        app.include_router(router)
    secret = settings.sms_webhook_secret
    app.state.sms_webhook_secret = secret.get_secret_value() if secret else None
    app.state.link_signer = (
        LinkSigner(settings.link_secret()) if settings.link_signing_secret else None
    )
    app.state.retry_after_s = settings.retry_after_s
    install_error_handlers(app, retry_after_s=settings.retry_after_s)


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
    store, published = RegistrationStore(engine), PublishedSessions(engine)
    # The YAML file first; the scheduler's SessionPublishedV1 updates are replayed at start.
    view = CatalogueView(catalogue or load_catalogue(settings.catalogue_path))
    subscribe(broker, store, view, published)
    deps = build_deps(
        settings, engine, broker=broker, store=store, view=view, clock=clock or SystemClock()
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await store.create_tables()
        await published.replay(view)
        if provision_topics:
            await ensure_topics(settings.kafka_bootstrap_servers)
        app.state.deps = deps
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
    install_everything(app, settings)
    return app
