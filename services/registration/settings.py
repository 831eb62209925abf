"""Registration service settings (environment names in `.env.example`)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr

from shared.settings import ServiceSettings

WESTERN_BALKANS = "RS,BA,ME,MK,HR,AL,XK"


class RegistrationSettings(ServiceSettings):
    """Where the API listens, how long to wait for Kafka, who is staff, and the abuse limits."""

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REGISTRATION_DATABASE_URL", "DATABASE_URL")
    )
    publish_timeout_s: float = Field(default=10.0, gt=0)
    retry_after_s: int = Field(default=5, ge=1)
    staff_api_tokens: SecretStr = Field(
        default=SecretStr(""),
        description="Comma-separated bearer tokens of staff; empty: no staff.",
    )
    retention_days: int = Field(default=365, ge=0, description="Days kept after a programme ends.")
    rate_limit_per_address: str = Field(default="20/minute", description="`limits` notation.")
    rate_limit_per_person: str = Field(
        default="5/hour", description="Per email and per phone number."
    )
    rate_limit_per_phone_prefix: str = Field(
        default="20/hour", description="Per block of 1,000 phone numbers (SMS pumping)."
    )
    sms_daily_budget: int = Field(default=200, ge=0, description="New SMS consents per UTC day.")
    phone_countries: str = Field(
        default=WESTERN_BALKANS, description="Comma-separated ISO regions phones may come from."
    )
    sms_webhook_secret: SecretStr | None = Field(
        default=None, description="Shared secret the SMS gateway sends in X-Webhook-Secret."
    )

    def staff_tokens(self) -> tuple[str, ...]:
        """The configured staff bearer tokens."""
        raw = self.staff_api_tokens.get_secret_value()
        return tuple(token.strip() for token in raw.split(",") if token.strip())

    def allowed_phone_regions(self) -> frozenset[str]:
        """The ISO regions phone numbers may belong to."""
        return frozenset(r.strip().upper() for r in self.phone_countries.split(",") if r.strip())
