"""`python -m services.notifier`: configure logging and run the notifier until stopped."""

from __future__ import annotations

import uvloop

from services.notifier.main import SERVICE, create_app
from services.notifier.settings import NotifierSettings
from shared.collector import settle_after_start_up
from shared.logging import configure_logging, get_logger


async def run() -> None:
    """Run the notifier with settings from the environment."""
    settings = NotifierSettings()
    configure_logging(
        SERVICE, fmt=settings.log_format, level=settings.log_level, for_the_process=True
    )
    app = create_app(settings)

    @app.after_startup
    async def started() -> None:
        settle_after_start_up()
        get_logger(SERVICE).info(
            "service.started",
            smtp_port=settings.smtp_port,
            smtp_tls=settings.smtp_tls,
            dispatch_only=settings.dispatch_only,
        )

    await app.run()


if __name__ == "__main__":
    uvloop.run(run())
