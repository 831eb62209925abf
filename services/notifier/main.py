"""Wire the notifier once, lazily: nothing connects before the app starts."""

from __future__ import annotations

from faststream import FastStream
from faststream.kafka import KafkaBroker

from services.notifier.handlers import Deps
from services.notifier.messages import MailIdentity
from services.notifier.outcomes import KafkaOutcomePublisher
from services.notifier.ports import Mailer
from services.notifier.settings import NotifierSettings
from services.notifier.smtp import SmtpConfig, SmtpMailer
from services.notifier.store import SqlNotificationStore
from services.notifier.subscribers import build_router
from shared.clock import Clock, SystemClock
from shared.kafka import make_broker
from shared.kafka.admin import ensure_topics

SERVICE = "notifier"


def create_app(
    settings: NotifierSettings,
    *,
    mailer: Mailer | None = None,
    clock: Clock | None = None,
    broker: KafkaBroker | None = None,
    provision_topics: bool = True,
) -> FastStream:
    """Build the notifier app; on start it provisions topics (optional) and creates its tables."""
    broker = broker or make_broker(settings.kafka_bootstrap_servers, client_id=SERVICE)
    store = SqlNotificationStore(settings.database_url_for(SERVICE, settings.database_url))
    smtp: SmtpMailer | None = None
    if mailer is None:
        mailer = smtp = SmtpMailer(SmtpConfig.from_settings(settings))
    deps = Deps(
        mailer=mailer,
        store=store,
        outcomes=KafkaOutcomePublisher(broker),
        clock=clock or SystemClock(),
        identity=MailIdentity(sender=settings.sender(), organizer=settings.organizer()),
    )
    broker.include_router(build_router(deps))

    async def start() -> None:
        if provision_topics:
            await ensure_topics(settings.kafka_bootstrap_servers)
        await store.create_tables()

    async def stop() -> None:
        if smtp is not None:
            await smtp.close()
        await store.dispose()

    return FastStream(broker, on_startup=[start], after_shutdown=[stop], logger=None)
