"""The Mailer over SMTP (aiosmtplib), with RFC 5321's split: 4xx retry later, 5xx fail now."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiosmtplib

from services.notifier import smtp_wire
from services.notifier.ports import OutgoingMail, PermanentMailError, TransientMailError
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


@dataclass
class _Slot:
    """One pooled connection: None until first use, and again after a drop."""

    client: aiosmtplib.SMTP | None = None
    answered_at: float = float("-inf")  # when the server last answered on it (monotonic)


class SmtpMailer:
    """A small pool of connections, each reused across messages, one message at a time each.

    aiosmtplib cannot interleave two transactions on one connection, so `pool_size` bounds how
    many messages are in flight. A connection idle for `probe_after` seconds or more is probed
    (NOOP) before reuse, since servers close idle ones; one that answered just now is not: under
    load that saves a round trip per message. Messages go as composed, already in wire form:
    aiosmtplib is given C-speed equivalents of its regex passes over them (`smtp_wire`).
    """

    def __init__(
        self,
        config: SmtpConfig,
        *,
        pool_size: int = 1,
        probe_after: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._probe_after, self._monotonic = probe_after, monotonic
        self._idle: asyncio.LifoQueue[_Slot] = asyncio.LifoQueue()  # the warmest one first
        for _ in range(pool_size):
            self._idle.put_nowait(_Slot())
        self._size = pool_size
        smtp_wire.install()

    async def send(self, mail: OutgoingMail) -> None:
        """Deliver `mail` to every recipient, or raise Transient/PermanentMailError."""
        slot = await self._idle.get()
        try:
            await self._send_on(slot, mail)
        finally:
            self._idle.put_nowait(slot)

    async def close(self) -> None:
        """Say QUIT on every connection (waiting for messages in flight to finish)."""
        for _ in range(self._size):
            slot = await self._idle.get()
            await _quit(slot.client)
            slot.client = None
        for _ in range(self._size):
            self._idle.put_nowait(_Slot())

    async def _send_on(self, slot: _Slot, mail: OutgoingMail) -> None:
        try:
            client = await self._connected(slot)
            # One deadline for the whole transaction rather than a timer per command and reply.
            async with asyncio.timeout(self._config.timeout):
                refused, _ = await client.sendmail(
                    mail.sender, mail.recipients, mail.data, timeout=None
                )
        except aiosmtplib.SMTPRecipientsRefused as error:
            _drop(slot)
            raise _refusal({r.recipient: r.code for r in error.recipients}) from None
        except aiosmtplib.SMTPResponseException as error:
            _drop(slot)
            raise classify(error.code, "reply", error.message) from None
        except (aiosmtplib.SMTPException, OSError) as error:  # TimeoutError is an OSError
            _drop(slot)  # connection refused, dropped or timed out
            raise TransientMailError(f"SMTP connection: {type(error).__name__}") from None
        slot.answered_at = self._monotonic()
        if refused:  # some recipients accepted, some not: still a failure to act on
            raise _refusal({addr: reply.code for addr, reply in refused.items()})

    async def _connected(self, slot: _Slot) -> aiosmtplib.SMTP:
        client = slot.client
        if client is not None and client.is_connected:
            if self._monotonic() - slot.answered_at < self._probe_after:
                return client
            try:
                await client.noop()  # servers close idle connections; find out before MAIL
                return client
            except (aiosmtplib.SMTPException, OSError):
                _drop(slot)
        slot.client = self._new_client()
        await slot.client.connect()
        return slot.client

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


def _drop(slot: _Slot) -> None:
    if slot.client is not None:
        slot.client.close()
    slot.client = None


async def _quit(client: aiosmtplib.SMTP | None) -> None:
    if client is not None and client.is_connected:
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError):
            client.close()


def _refusal(codes: dict[str, int]) -> Exception:
    """Any 5xx refusal is permanent; refusals that are all 4xx (greylisting, full) are not."""
    worst = max(codes.values())
    return classify(worst, f"refused {len(codes)} recipient(s)", "")
