"""The scheduler's settings, read once from the environment."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, SecretStr

from services.scheduler.domain import WaitlistPolicy
from shared.settings import ServiceSettings


class SchedulerSettings(ServiceSettings):
    """Service settings plus the database, the waitlist policy, the loops and the admin API."""

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL (env DATABASE_URL); default: SQLite under data_dir.",
    )
    offer_ttl_hours: float = Field(
        default=48, gt=0, description="How long a seat offer stays open."
    )
    offer_cutoff_hours: float = Field(
        default=48, ge=0, description="No seat is offered within this many hours of the start."
    )
    tick_interval_seconds: float = Field(
        default=60, gt=0, description="How often offers are lapsed and at_close programmes closed."
    )
    outbox_interval_seconds: float = Field(
        default=1.0, gt=0, description="How often the outbox relay looks for leftovers."
    )
    admin_http_host: str = "127.0.0.1"
    admin_http_port: int = Field(default=8010, description="The staff admin API (0: disabled).")
    staff_api_tokens: SecretStr | None = Field(
        default=None, description="Comma-separated bearer tokens accepted by the admin API."
    )

    def staff_tokens(self) -> list[str]:
        """The accepted admin bearer tokens (none configured: the admin API refuses everyone)."""
        raw = self.staff_api_tokens.get_secret_value() if self.staff_api_tokens else ""
        return [token.strip() for token in raw.split(",") if token.strip()]

    def waitlist_policy(self) -> WaitlistPolicy:
        """The offer deadline and cut-off as the rules use them."""
        return WaitlistPolicy(
            offer_ttl=timedelta(hours=self.offer_ttl_hours),
            offer_cutoff=timedelta(hours=self.offer_cutoff_hours),
        )
