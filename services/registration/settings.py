"""Registration service settings (environment names in `.env.example`)."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from shared.settings import ServiceSettings


class RegistrationSettings(ServiceSettings):
    """Where the API listens, its public address, and how long to wait for Kafka."""

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REGISTRATION_DATABASE_URL", "DATABASE_URL")
    )
    publish_timeout_s: float = Field(default=10.0, gt=0)
    retry_after_s: int = Field(default=5, ge=1)
