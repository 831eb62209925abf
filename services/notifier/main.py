"""Wire the notifier once, lazily: nothing connects before the app starts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from faststream import FastStream
from faststream.kafka import KafkaBroker

from services.notifier.channels import Channels
from services.notifier.dispatcher import Dispatcher
from services.notifier.handlers import Intake
from services.notifier.messages import MailIdentity
from services.notifier.outcomes import KafkaOutcomePublisher
from services.notifier.personal_links import LinkMaker
from services.notifier.ports import Mailer, SmsSender
from services.notifier.reminders import QuietHours
from services.notifier.settings import NotifierSettings
from services.notifier.sms import GatewayConfig, HttpSmsGateway
from services.notifier.smtp import SmtpConfig, SmtpMailer
from services.notifier.store import SqlNotificationStore
from services.notifier.subscribers import build_router
from shared.clock import Clock, SystemClock
from shared.kafka import RetryPolicy, make_broker
from shared.kafka.admin import ensure_topics
from shared.links import LinkSigner

SERVICE = "notifier"


def build_dispatcher(
    settings: NotifierSettings,
    store: SqlNotificationStore,
    broker: KafkaBroker,
    *,
    mailer: Mailer,
    sms: SmsSender | None,
    clock: Clock,
) -> Dispatcher:
    """The dispatcher with its channels, retry policy and quiet hours from the settings."""
    identity = MailIdentity(sender=settings.sender(), organizer=settings.organizer())
    links = LinkMaker(LinkSigner(settings.link_secret()), settings.public_base_url)
    channels = Channels(
        mailer, identity, links, sms, settings.sms_transliterate, settings.sms_default_region
    )
    retry = RetryPolicy(
        settings.retry_attempts, settings.retry_base_delay, settings.retry_max_delay, 0.25
    )
    return Dispatcher(
        store=store,
        channels=channels,
        outcomes=KafkaOutcomePublisher(broker),
        clock=clock,
        quiet=QuietHours(settings.quiet_start, settings.quiet_end),
        retry=retry,
        lease=timedelta(seconds=settings.dispatch_lease),
        batch=settings.dispatch_batch,
        concurrency=settings.dispatch_concurrency,
        overdue=timedelta(seconds=settings.dispatch_overdue),
    )


def gateway_of(settings: NotifierSettings) -> HttpSmsGateway | None:
    """The HTTP SMS gateway, when SMS_GATEWAY_URL is set."""
    config = GatewayConfig.from_settings(settings)
    return HttpSmsGateway(config) if config else None


def smtp_of(smtp: SmtpMailer | None) -> Mailer:
    """The SMTP mailer that `create_app` made when no mailer was given."""
    assert smtp is not None
    return smtp


@dataclass(frozen=True)
class Notifier:
    """The running parts: the FastStream app, its dispatcher and its store."""

    app: FastStream
    dispatcher: Dispatcher
    store: SqlNotificationStore


def create_app(settings: NotifierSettings, **options: Any) -> FastStream:
    """Build the notifier app (see `create_notifier` for the options)."""
    return create_notifier(settings, **options).app


def create_notifier(
    settings: NotifierSettings,
    *,
    mailer: Mailer | None = None,
    sms: SmsSender | None = None,
    clock: Clock | None = None,
    broker: KafkaBroker | None = None,
    provision_topics: bool = True,
    run_dispatcher: bool = True,
) -> Notifier:
    """Build the notifier: Kafka intake plus the dispatcher loop over the same store."""
    broker = broker or make_broker(settings.kafka_bootstrap_servers, client_id=SERVICE)
    clock = clock or SystemClock()
    store = SqlNotificationStore(settings.database_url_for(SERVICE, settings.database_url))
    config = SmtpConfig.from_settings(settings)
    smtp = SmtpMailer(config, pool_size=settings.smtp_pool_size) if mailer is None else None
    gateway = gateway_of(settings) if sms is None else None
    mail = mailer or smtp_of(smtp)
    dispatcher = build_dispatcher(
        settings, store, broker, mailer=mail, sms=sms or gateway, clock=clock
    )
    intake = Intake(
        store=store,
        clock=clock,
        mail_domain=settings.sender().domain,
        offsets=settings.offsets_for,
        quiet=dispatcher.quiet,
        wake=dispatcher.wake,
    )
    if not settings.dispatch_only:
        broker.include_router(build_router(intake))
    app = FastStream(broker, logger=None)
    closers = [c for c in (smtp, gateway) if c is not None]
    _lifecycle(app, settings, dispatcher, store, closers, provision_topics, run_dispatcher)
    return Notifier(app, dispatcher, store)


def _lifecycle(
    app: FastStream,
    settings: NotifierSettings,
    dispatcher: Dispatcher,
    store: SqlNotificationStore,
    closers: list[SmtpMailer | HttpSmsGateway],
    provision_topics: bool,
    run_dispatcher: bool,
) -> None:
    """Start: topics, tables, the dispatcher loop. Stop: the loop, then every connection."""

    @app.on_startup
    async def start() -> None:
        if provision_topics:
            await ensure_topics(settings.kafka_bootstrap_servers)
        await store.create_tables()

    @app.after_startup
    async def dispatch() -> None:
        if run_dispatcher:
            dispatcher.start(settings.dispatch_poll_interval)

    @app.on_shutdown
    async def halt() -> None:
        await dispatcher.stop()

    @app.after_shutdown
    async def close() -> None:
        for closer in closers:
            await closer.close()
        await store.dispose()
