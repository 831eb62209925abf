"""The notifier's configuration, read once from the environment."""

from __future__ import annotations

from email.headerregistry import Address
from email.utils import parseaddr
from typing import Literal

from pydantic import Field, SecretStr

from shared.settings import ServiceSettings

TlsMode = Literal["none", "starttls", "tls"]


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
    sms_gateway_url: str = "http://127.0.0.1:8025/messages"
    database_url: str | None = Field(default=None, description="Defaults to data/notifier.sqlite3.")

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
