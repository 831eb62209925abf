"""The Mailer over SMTP (aiosmtplib), with RFC 5321's split: 4xx retry later, 5xx fail now."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

from services.notifier.ports import PermanentMailError, TransientMailError
from services.notifier.settings import NotifierSettings, TlsMode
from shared.privacy import redact_text


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to reach the mail server."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: TlsMode = "none"
    timeout: float = 30.0

    @classmethod
    def from_settings(cls, settings: NotifierSettings) -> SmtpConfig:
        """Read the SMTP_* settings."""
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=password,
            tls=settings.smtp_tls,
            timeout=settings.smtp_timeout,
        )


def classify(code: int, what: str, text: str) -> Exception:
    """Turn an SMTP reply into the retryable or the permanent error (never echoing addresses)."""
    detail = f"SMTP {code} {what}: {redact_text(text)[:200]}"
    return TransientMailError(detail) if 400 <= code < 500 else PermanentMailError(detail)


class SmtpMailer:
    """One connection, reused across messages and reopened when it dropped; one send at a time."""

    def __init__(self, config: SmtpConfig) -> None:
        self._config = config
        self._client: aiosmtplib.SMTP | None = None
        self._lock = asyncio.Lock()

    async def send(self, message: EmailMessage) -> None:
        """Deliver `message` to every recipient, or raise Transient/PermanentMailError."""
        async with self._lock:
            try:
                client = await self._connected()
                refused, _ = await client.send_message(message)
            except aiosmtplib.SMTPRecipientsRefused as error:
                self._drop()
                raise _refusal({r.recipient: r.code for r in error.recipients}) from None
            except aiosmtplib.SMTPResponseException as error:
                self._drop()
                raise classify(error.code, "reply", error.message) from None
            except (aiosmtplib.SMTPException, OSError) as error:
                self._drop()  # connection refused, dropped or timed out
                raise TransientMailError(f"SMTP connection: {type(error).__name__}") from None
            if refused:  # some recipients accepted, some not: still a failure to act on
                raise _refusal({addr: reply.code for addr, reply in refused.items()})

    async def close(self) -> None:
        """Say QUIT if connected."""
        async with self._lock:
            if self._client is not None and self._client.is_connected:
                try:
                    await self._client.quit()
                except (aiosmtplib.SMTPException, OSError):
                    self._client.close()
            self._client = None

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            try:
                await self._client.noop()  # servers close idle connections; find out before MAIL
                return self._client
            except (aiosmtplib.SMTPException, OSError):
                self._drop()
        self._client = self._new_client()
        await self._client.connect()
        return self._client

    def _new_client(self) -> aiosmtplib.SMTP:
        config = self._config
        return aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            username=config.username,
            password=config.password,
            use_tls=config.tls == "tls",
            start_tls=config.tls == "starttls",
            timeout=config.timeout,
        )

    def _drop(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None


def _refusal(codes: dict[str, int]) -> Exception:
    """Any 5xx refusal is permanent; refusals that are all 4xx (greylisting, full) are not."""
    worst = max(codes.values())
    return classify(worst, f"refused {len(codes)} recipient(s)", "")
