"""`python -m services.scheduler`: configure logging and run the scheduler until stopped."""

from __future__ import annotations

import uvloop

from services.scheduler.main import create_app
from services.scheduler.settings import SchedulerSettings
from shared import topics
from shared.collector import settle_after_start_up
from shared.logging import configure_logging, get_logger


def main() -> None:
    """Run the scheduler."""
    settings = SchedulerSettings()
    configure_logging(
        "scheduler", fmt=settings.log_format, level=settings.log_level, for_the_process=True
    )
    app = create_app(settings)

    @app.after_startup
    async def announce() -> None:
        settle_after_start_up()
        log = get_logger("services.scheduler")
        log.info(
            "service.started",
            consumes=topics.REGISTRATIONS,
            produces=[topics.PLACEMENTS, topics.CATALOGUE],
            admin_port=settings.admin_http_port,
        )

    uvloop.run(app.run())


if __name__ == "__main__":
    main()
