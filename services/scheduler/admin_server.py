"""Serve the admin API inside the scheduler process, beside the Kafka consumer."""

from __future__ import annotations

import asyncio

import structlog
import uvicorn

from services.scheduler.admin_api import create_admin_api
from services.scheduler.handlers import Deps
from services.scheduler.settings import SchedulerSettings

log = structlog.stdlib.get_logger(__name__)


async def serve_admin_api(deps: Deps, settings: SchedulerSettings) -> None:
    """Listen until cancelled; signals stay with the FastStream app that owns the process."""
    config = uvicorn.Config(
        create_admin_api(deps, settings.staff_tokens()),
        host=settings.admin_http_host,
        port=settings.admin_http_port,
        log_config=None,
        access_log=False,
        lifespan="off",
    )
    config.load()
    server = uvicorn.Server(config)
    server.lifespan = config.lifespan_class(config)
    try:
        await server.startup()  # not serve(): that would take over SIGINT/SIGTERM
    except SystemExit:  # uvicorn exits when the port is taken: keep placing people regardless
        log.error("admin_api.unavailable", port=settings.admin_http_port)
        return
    log.info("admin_api.started", port=settings.admin_http_port)
    try:
        await asyncio.Event().wait()
    finally:
        await server.shutdown()
