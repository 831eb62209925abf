"""Run the registration service: `python -m services.registration`."""

from __future__ import annotations

import uvicorn

from services.registration.main import create_app
from services.registration.settings import RegistrationSettings
from shared.collector import settle_after_start_up
from shared.logging import configure_logging


def main() -> None:
    """Read settings, configure logging, serve HTTP until interrupted."""
    settings = RegistrationSettings()
    configure_logging(
        "registration", fmt=settings.log_format, level=settings.log_level, for_the_process=True
    )
    app = create_app(settings)
    settle_after_start_up()  # the app and every module are built: freeze them
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        loop="uvloop",
        http="httptools",
    )


if __name__ == "__main__":
    main()
