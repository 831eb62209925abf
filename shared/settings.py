"""The settings every service reads from the environment (see `.env.example`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

LogFormat = Literal["auto", "json", "console"]


class ServiceSettings(BaseSettings):
    """Base settings: the broker, the data folder and logging. Services extend it."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", description="Comma-separated host:port list of Kafka brokers."
    )
    data_dir: Path = Field(default=Path("data"), description="Where local state and captures live.")
    log_format: LogFormat = Field(default="auto", description="json, console, or auto (by tty).")
    log_level: str = "INFO"
    catalogue_path: Path = Field(
        default=Path("deploy/seed/programmes.yaml"), description="The programme catalogue file."
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public address of the registration service: personal links point there.",
    )
    link_signing_secret: SecretStr | None = Field(
        default=None, description="Signs personal links; registration and notifier must share it."
    )

    def link_secret(self) -> str:
        """The link signing secret, or a clear error when it is not configured."""
        if self.link_signing_secret is None:
            raise RuntimeError("LINK_SIGNING_SECRET is not set (see .env.example)")
        return self.link_signing_secret.get_secret_value()

    def database_url_for(self, service: str, explicit: str | None) -> str:
        """Return `explicit`, or the service's own SQLite file under the data folder."""
        if explicit:
            return explicit
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{(self.data_dir / f'{service}.sqlite3').resolve()}"
