"""The notifier's configuration, read once from the environment."""

from __future__ import annotations

from datetime import time, timedelta
from email.headerregistry import Address
from email.utils import parseaddr
from typing import Literal

from pydantic import Field, SecretStr

from shared.settings import ServiceSettings

TlsMode = Literal["none", "starttls", "tls"]
ReminderOffsets = dict[Literal["email", "sms"], tuple[timedelta, ...]]
DEFAULT_OFFSETS: ReminderOffsets = {
    "email": (timedelta(days=7), timedelta(days=1)),
    "sms": (timedelta(hours=2),),
}


class NotifierSettings(ServiceSettings):
    """SMTP, sender identity and storage of the notifier (env: SMTP_HOST, MAIL_FROM, ...)."""

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_tls: TlsMode = "none"
    smtp_timeout: float = Field(default=30.0, gt=0, description="Seconds per SMTP command.")
    mail_from: str = "Training Office <training@trainingops.example>"
    organizer_email: str | None = Field(
        default=None, description="Defaults to MAIL_FROM's address."
    )
    organizer_name: str | None = Field(default=None, description="Defaults to MAIL_FROM's name.")
    sms_gateway_url: str | None = Field(default=None, description="Unset: no SMS is sent.")
    sms_gateway_token: SecretStr | None = None
    sms_gateway_username: str | None = None
    sms_gateway_password: SecretStr | None = None
    sms_gateway_fields: dict[str, str] = Field(
        default_factory=dict, description='Rename request fields, e.g. {"to": "msisdn"}.'
    )
    sms_gateway_extra: dict[str, str] = Field(default_factory=dict, description="Fixed fields.")
    sms_gateway_form: bool = Field(default=False, description="Form-encoded instead of JSON.")
    sms_default_region: str = "RS"
    sms_transliterate: bool = Field(default=False, description="Send GSM-7 only (no č, Cyrillic).")
    database_url: str | None = Field(default=None, description="Defaults to data/notifier.sqlite3.")
    reminder_offsets: dict[str, ReminderOffsets] = Field(
        default_factory=lambda: {"default": DEFAULT_OFFSETS},
        description='Per programme id (or "default"), per channel: ISO 8601 durations before start.',
    )
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    retry_attempts: int = Field(default=8, ge=1, description="Tries before a notification fails.")
    retry_base_delay: float = Field(
        default=30.0, gt=0, description="Seconds after the 1st failure."
    )
    retry_max_delay: float = Field(default=3600.0, gt=0, description="Cap of the backoff, seconds.")
    dispatch_poll_interval: float = Field(default=1.0, gt=0, description="Seconds between polls.")
    dispatch_lease: float = Field(default=300.0, gt=0, description="Seconds a claim hides a row.")
    # A delivery waits on SMTP round trips and a commit far longer than it uses the CPU: on a busy
    # 2-core machine ~100 ms each, so 8 in flight capped delivery at ~80/s (docs/evidence.md).
    dispatch_concurrency: int = Field(default=32, ge=1, description="Deliveries in flight at once.")
    dispatch_batch: int = Field(default=64, ge=1, description="Most rows claimed and in hand.")
    smtp_pool_size: int = Field(default=32, ge=1, description="SMTP connections kept open.")
    dispatch_only: bool = Field(
        default=False,
        description="Deliver only, taking no events in: a process beside a notifier, same store.",
    )
    dispatch_overdue: float = Field(
        default=0.0, ge=0, description="Claim only rows due this many seconds ago (a helper)."
    )

    def sender(self) -> Address:
        """The From address."""
        name, addr = parseaddr(self.mail_from)
        if "@" not in addr:
            raise ValueError("MAIL_FROM must contain an email address")
        return Address(display_name=name, addr_spec=addr)

    def organizer(self) -> Address:
        """The ORGANIZER of invites: where calendar replies go."""
        sender = self.sender()
        return Address(
            display_name=self.organizer_name or sender.display_name,
            addr_spec=self.organizer_email or sender.addr_spec,
        )

    def offsets_for(self, programme_id: str) -> ReminderOffsets:
        """The reminder offsets of a programme, or the default ones."""
        return self.reminder_offsets.get(programme_id) or self.reminder_offsets.get(
            "default", DEFAULT_OFFSETS
        )
