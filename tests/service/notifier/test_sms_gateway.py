"""The HTTP SMS gateway adapter against the local sink, and its configurable request shape."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from deploy.local.sms_sink import create_sms_sink_app
from services.notifier.ports import PermanentDeliveryError, TransientDeliveryError
from services.notifier.settings import NotifierSettings
from services.notifier.sms import GatewayConfig, HttpSmsGateway
from services.notifier.sms_text import SmsMessage

pytestmark = pytest.mark.service
SMS = SmsMessage(
    to="+381641234567",
    text="Podsetnik: „Obuka” sreda 09:30",
    reference="r:s:reminder.sms-120m:1",
    encoding="UCS-2",
    segments=1,
)


async def test_the_sink_receives_each_reference_once(tmp_path: Path) -> None:
    sink = httpx.ASGITransport(app=create_sms_sink_app(tmp_path / "sms"))
    gateway = HttpSmsGateway(GatewayConfig(url="http://sink/messages"), sink)
    await gateway.send(SMS)
    await gateway.send(SMS)  # a resend after a crash: the reference makes it one message
    await gateway.close()
    [stored] = [json.loads(p.read_text()) for p in (tmp_path / "sms").glob("*.json")]
    assert (stored["to"], stored["text"], stored["reference"]) == (SMS.to, SMS.text, SMS.reference)


async def test_request_shape_and_credentials_are_configurable() -> None:
    seen: list[httpx.Request] = []

    def provider(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    config = GatewayConfig(
        url="https://sms.example/api/send",
        username="trainingops",
        password="s3cret",
        fields={"to": "msisdn", "text": "message", "reference": "client_ref"},
        extra={"sender": "SKIP"},
        form=True,
    )
    await HttpSmsGateway(config, httpx.MockTransport(provider)).send(SMS)
    [request] = seen
    assert request.headers["authorization"] == httpx.BasicAuth("trainingops", "s3cret")._auth_header
    form = dict(httpx.QueryParams(request.content.decode()))
    assert form == {
        "msisdn": SMS.to,
        "message": SMS.text,
        "client_ref": SMS.reference,
        "sender": "SKIP",
    }


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (200, None),
        (202, None),
        (429, TransientDeliveryError),
        (503, TransientDeliveryError),
        (400, PermanentDeliveryError),
        (401, PermanentDeliveryError),
    ],
)
async def test_provider_answers_map_to_retry_or_failure(
    status: int, error: type[Exception] | None
) -> None:
    seen: list[httpx.Request] = []

    def provider(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status)

    config = GatewayConfig(url="https://sms.example/send", token="t0ken")
    gateway = HttpSmsGateway(config, httpx.MockTransport(provider))
    if error is None:
        await gateway.send(SMS)
    else:
        with pytest.raises(error):
            await gateway.send(SMS)
    assert seen[0].headers["authorization"] == "Bearer t0ken"
    assert json.loads(seen[0].content) == {
        "to": SMS.to,
        "text": SMS.text,
        "reference": SMS.reference,
    }


async def test_an_unreachable_gateway_is_transient() -> None:
    gateway = HttpSmsGateway(GatewayConfig(url="http://127.0.0.1:9/messages", timeout=2))
    with pytest.raises(TransientDeliveryError):
        await gateway.send(SMS)
    await gateway.close()


def test_gateway_settings_configure_url_credentials_and_shape() -> None:
    settings = NotifierSettings(
        sms_gateway_url="https://sms.example/send",
        sms_gateway_username="trainingops",
        sms_gateway_password="s3cret",
        sms_gateway_fields={"to": "msisdn"},
        sms_gateway_extra={"sender": "SKIP"},
        _env_file=None,
    )
    config = GatewayConfig.from_settings(settings)
    assert config is not None
    assert (config.url, config.username, config.password) == (
        "https://sms.example/send",
        "trainingops",
        "s3cret",
    )
    assert config.fields == {"to": "msisdn", "text": "text", "reference": "reference"}
    assert config.extra == {"sender": "SKIP"}
    assert GatewayConfig.from_settings(NotifierSettings(_env_file=None)) is None
