"""The scheduler's settings, read once from the environment."""

from __future__ import annotations

from pydantic import Field

from shared.settings import ServiceSettings


class SchedulerSettings(ServiceSettings):
    """Service settings plus where the scheduler keeps its placements."""

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL (env DATABASE_URL); default: SQLite under data_dir.",
    )
