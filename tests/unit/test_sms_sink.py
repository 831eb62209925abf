"""The local SMS sink: stores each message once, deduplicates on reference, rejects bad input."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from deploy.local.sms_sink import create_sms_sink_app
from shared.logging import configure_logging

pytestmark = pytest.mark.unit

PHONE = "+381641234567"


@pytest.fixture
def sms_dir(tmp_path: Path) -> Path:
    return tmp_path / "sms"


def stored_files(sms_dir: Path) -> list[Path]:
    return sorted(sms_dir.glob("*.json"))


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sms-sink")


@pytest.fixture
async def client(sms_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(create_sms_sink_app(sms_dir)) as http:
        yield http


async def test_accepts_and_stores_a_message(client: httpx.AsyncClient, sms_dir: Path) -> None:
    response = await client.post("/messages", json={"to": PHONE, "text": "Obuka počinje u 9h."})

    assert response.status_code == 202
    sms_id = response.json()["id"]
    stored = json.loads((sms_dir / f"{sms_id}.json").read_text())
    assert stored["to"] == PHONE
    assert stored["text"] == "Obuka počinje u 9h."
    listed = (await client.get("/messages")).json()
    assert [m["id"] for m in listed] == [sms_id]


async def test_repeated_reference_returns_first_id_and_stores_nothing(
    client: httpx.AsyncClient, sms_dir: Path
) -> None:
    body = {"to": PHONE, "text": "Podsetnik", "reference": "reminder:r-1"}
    first = (await client.post("/messages", json=body)).json()["id"]
    second = (await client.post("/messages", json=body)).json()["id"]

    assert second == first
    assert len(stored_files(sms_dir)) == 1


async def test_reference_survives_a_restart(sms_dir: Path) -> None:
    body = {"to": PHONE, "text": "Podsetnik", "reference": "reminder:r-2"}
    async with client_for(create_sms_sink_app(sms_dir)) as before:
        first = (await before.post("/messages", json=body)).json()["id"]
    async with client_for(create_sms_sink_app(sms_dir)) as after:
        again = (await after.post("/messages", json=body)).json()["id"]

    assert again == first


@pytest.mark.parametrize(
    "body",
    [
        {"to": "0641234567", "text": "no plus"},
        {"to": "+38164abc", "text": "letters"},
        {"to": PHONE, "text": ""},
        {"to": PHONE},
        {"to": PHONE, "text": "x", "unexpected": 1},
    ],
)
async def test_rejects_bad_input(
    client: httpx.AsyncClient, sms_dir: Path, body: dict[str, object]
) -> None:
    assert (await client.post("/messages", json=body)).status_code == 422
    assert not stored_files(sms_dir)


async def test_log_line_has_no_phone_number(client: httpx.AsyncClient) -> None:
    stream = io.StringIO()
    configure_logging("sms-sink-test", fmt="json", stream=stream)

    await client.post("/messages", json={"to": PHONE, "text": "Zdravo", "reference": "ref-7"})

    [line] = [json.loads(x) for x in stream.getvalue().splitlines() if "sms.captured" in x]
    assert line["reference"] == "ref-7"
    assert line["length"] == len("Zdravo")
    assert "641234567" not in stream.getvalue()


async def test_health(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
