"""The local SMS sink: stores each message once, deduplicates on reference, rejects bad input."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from deploy.local.sms_sink import create_sms_sink_app
from shared.logging import configure_logging

pytestmark = pytest.mark.unit

PHONE = "+381641234567"


@pytest.fixture
def sms_dir(tmp_path: Path) -> Path:
    return tmp_path / "sms"


@pytest.fixture
def client(sms_dir: Path) -> TestClient:
    return TestClient(create_sms_sink_app(sms_dir))


def test_accepts_and_stores_a_message(client: TestClient, sms_dir: Path) -> None:
    response = client.post("/messages", json={"to": PHONE, "text": "Obuka počinje u 9h."})

    assert response.status_code == 202
    sms_id = response.json()["id"]
    stored = json.loads((sms_dir / f"{sms_id}.json").read_text())
    assert stored["to"] == PHONE
    assert stored["text"] == "Obuka počinje u 9h."
    assert [m["id"] for m in client.get("/messages").json()] == [sms_id]


def test_repeated_reference_returns_first_id_and_stores_nothing(
    client: TestClient, sms_dir: Path
) -> None:
    body = {"to": PHONE, "text": "Podsetnik", "reference": "reminder:r-1"}
    first = client.post("/messages", json=body).json()["id"]
    second = client.post("/messages", json=body).json()["id"]

    assert second == first
    assert len(list(sms_dir.glob("*.json"))) == 1


def test_reference_survives_a_restart(sms_dir: Path) -> None:
    body = {"to": PHONE, "text": "Podsetnik", "reference": "reminder:r-2"}
    first = TestClient(create_sms_sink_app(sms_dir)).post("/messages", json=body).json()["id"]
    again = TestClient(create_sms_sink_app(sms_dir)).post("/messages", json=body).json()["id"]

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
def test_rejects_bad_input(client: TestClient, sms_dir: Path, body: dict[str, object]) -> None:
    assert client.post("/messages", json=body).status_code == 422
    assert not list(sms_dir.glob("*.json"))


def test_log_line_has_no_phone_number(client: TestClient) -> None:
    stream = io.StringIO()
    configure_logging("sms-sink-test", fmt="json", stream=stream)

    client.post("/messages", json={"to": PHONE, "text": "Zdravo", "reference": "ref-7"})

    [line] = [json.loads(x) for x in stream.getvalue().splitlines() if "sms.captured" in x]
    assert line["reference"] == "ref-7"
    assert line["length"] == len("Zdravo")
    assert "641234567" not in stream.getvalue()


def test_health(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
