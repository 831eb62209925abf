"""The SmsSender over an HTTP gateway (the local sink speaks the default request shape)."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from services.notifier.ports import PermanentDeliveryError, TransientDeliveryError
from services.notifier.settings import NotifierSettings
from services.notifier.sms_text import SmsMessage

DEFAULT_FIELDS = {"to": "to", "text": "text", "reference": "reference"}


@dataclass(frozen=True)
class GatewayConfig:
    """Where the gateway listens, how to authenticate, and how it names the request's fields."""

    url: str
    token: str | None = None
    username: str | None = None
    password: str | None = None
    fields: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_FIELDS))
    extra: dict[str, str] = field(default_factory=dict)
    form: bool = False
    timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: NotifierSettings) -> GatewayConfig | None:
        """Read the SMS_GATEWAY_* settings; None when no gateway is configured."""
        if not settings.sms_gateway_url:
            return None
        token, password = settings.sms_gateway_token, settings.sms_gateway_password
        return cls(
            url=settings.sms_gateway_url,
            token=token.get_secret_value() if token else None,
            username=settings.sms_gateway_username,
            password=password.get_secret_value() if password else None,
            fields=DEFAULT_FIELDS | settings.sms_gateway_fields,
            extra=settings.sms_gateway_extra,
            form=settings.sms_gateway_form,
        )


class HttpSmsGateway:
    """POSTs one message per request: 2xx sent, 408/429/5xx and network errors retry, 4xx fail."""

    def __init__(
        self, config: GatewayConfig, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._config = config
        auth = httpx.BasicAuth(config.username, config.password or "") if config.username else None
        headers = {"Authorization": f"Bearer {config.token}"} if config.token else {}
        self._client = httpx.AsyncClient(
            timeout=config.timeout, auth=auth, headers=headers, transport=transport
        )

    async def send(self, message: SmsMessage) -> None:
        """Deliver the message, or raise a Transient/PermanentDeliveryError."""
        values = {"to": message.to, "text": message.text, "reference": message.reference}
        body = {self._config.fields.get(k, k): v for k, v in values.items()} | self._config.extra
        try:
            if self._config.form:
                response = await self._client.post(self._config.url, data=body)
            else:
                response = await self._client.post(self._config.url, json=body)
        except httpx.HTTPError as error:
            raise TransientDeliveryError(f"SMS gateway: {type(error).__name__}") from None
        code = response.status_code
        if code in (408, 429) or code >= 500:
            raise TransientDeliveryError(f"SMS gateway answered {code}")
        if code >= 400:
            raise PermanentDeliveryError(f"SMS gateway refused the message: {code}")

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self._client.aclose()
