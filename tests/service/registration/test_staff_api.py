"""Staff routes: authentication on every route, list and export, erasure, cancellation, retention."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError

from shared.contracts import CancellationRequestedV1, ErasureRequestedV1
from tests.service.registration.conftest import FORM, STAFF, MakeRegistry, Registry

pytestmark = pytest.mark.service

BIH_FORM = {
    **FORM,
    "programme_id": "social-media-bih",
    "email": "amra@example.ba",
    "full_name": "Amra Primjerić",
    "phone": "+387 61 123 456",
    "preferences": ["sm-bih-training"],
}
SAMPLE_ID = "7d9e3c1e-0000-4000-8000-000000000000"


def staff_routes(registry: Registry) -> list[tuple[str, str]]:
    """Every (method, path) under /staff, read from the OpenAPI document so none is forgotten."""
    paths: dict[str, dict[str, Any]] = registry.app.openapi()["paths"]
    return [
        (method.upper(), path.replace("{registration_id}", SAMPLE_ID))
        for path, operations in paths.items()
        if path.startswith("/staff")
        for method in operations
    ]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": "Basic c3RhZmY6c3RhZmY="},
        {"Authorization": "Bearer "},
        {"Authorization": STAFF["Authorization"][:-1]},
    ],
)
async def test_every_staff_route_refuses_requests_without_valid_credentials(
    registry: Registry, headers: dict[str, str]
) -> None:
    routes = staff_routes(registry)
    assert len(routes) >= 5
    for method, path in routes:
        response = await registry.client.request(method, path, headers=headers)
        assert response.status_code == 401, (method, path)
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert registry.published == []


async def test_no_configured_tokens_means_no_staff_access(make_registry: MakeRegistry) -> None:
    async with make_registry(staff_api_tokens="") as registry:
        response = await registry.client.get(
            "/staff/registrations", headers={"Authorization": "Bearer "}
        )
        assert response.status_code == 401


async def register(registry: Registry, form: dict[str, Any]) -> str:
    response = await registry.client.post("/registrations", json=form)
    assert response.status_code == 202, response.text
    registration_id: str = response.json()["registration_id"]
    return registration_id


async def test_staff_list_registrations_with_personal_data_by_programme(registry: Registry) -> None:
    serbian = await register(registry, FORM)
    bosnian = await register(registry, BIH_FORM)
    everyone = (await registry.client.get("/staff/registrations", headers=STAFF)).json()
    assert [r["registration_id"] for r in everyone] == [serbian, bosnian]
    assert everyone[0] | {"submitted_at": None, "updated_at": None} == {
        "registration_id": serbian,
        "programme_id": "social-networks-lsg",
        "status": "pending",
        "session_id": None,
        "waitlist_position": None,
        "full_name": "Milica Primerović",
        "email": "Milica.Primerovic@example.org",
        "phone": "+381641234567",
        "organisation": "Opština Primer",
        "role": None,
        "language": "sr-Latn",
        "consent_email": True,
        "consent_sms": False,
        "preferences": ["sn-training-2", "sn-training-3"],
        "unavailable_dates": [],
        "submitted_at": None,
        "updated_at": None,
    }
    bih = await registry.client.get(
        "/staff/registrations", params={"programme_id": "social-media-bih"}, headers=STAFF
    )
    assert [r["registration_id"] for r in bih.json()] == [bosnian]


async def test_staff_export_csv_quotes_spreadsheet_formulas(registry: Registry) -> None:
    await register(registry, {**FORM, "organisation": '=HYPERLINK("http://x")'})
    response = await registry.client.get("/staff/registrations.csv", headers=STAFF)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 1
    assert rows[0]["full_name"] == "Milica Primerović"
    assert rows[0]["phone"] == "+381641234567"
    assert rows[0]["organisation"] == '\'=HYPERLINK("http://x")'
    assert rows[0]["preferences"] == "sn-training-2 sn-training-3"
    assert rows[0]["consent_email"] == "yes"


async def test_erasure_publishes_the_request_and_removes_the_person_here(
    registry: Registry,
) -> None:
    registration_id = await register(registry, FORM)
    for _ in range(2):  # asking twice is the same request
        response = await registry.client.post(
            f"/staff/registrations/{registration_id}/erasure", headers=STAFF
        )
        assert response.status_code == 202
    erasures = registry.of(ErasureRequestedV1)
    assert {str(e.registration_id) for e in erasures} == {registration_id}
    assert len({e.event_id for e in erasures}) == 1
    assert erasures[0].programme_id == "social-networks-lsg"
    assert erasures[0].requested_by == "staff"
    listed = (await registry.client.get("/staff/registrations", headers=STAFF)).json()
    assert listed == []
    exported = (await registry.client.get("/staff/registrations.csv", headers=STAFF)).text
    assert "Milica" not in exported
    assert "example.org" not in exported
    status = await registry.client.get(f"/registrations/{registration_id}")
    assert status.json()["status"] == "pending", "ids and status outlive the personal data"


async def test_erasure_of_an_unknown_registration_is_404(registry: Registry) -> None:
    response = await registry.client.post(
        f"/staff/registrations/{SAMPLE_ID}/erasure", headers=STAFF
    )
    assert response.status_code == 404
    assert registry.of(ErasureRequestedV1) == []


async def test_erasure_while_kafka_is_down_is_503_and_keeps_the_data(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    registration_id = await register(registry, FORM)

    async def refuse(*_: Any, **__: Any) -> None:
        raise KafkaConnectionError("broker down")

    monkeypatch.setattr(registry.broker, "publish", refuse)
    response = await registry.client.post(
        f"/staff/registrations/{registration_id}/erasure", headers=STAFF
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    monkeypatch.undo()
    listed = (await registry.client.get("/staff/registrations", headers=STAFF)).json()
    assert [r["registration_id"] for r in listed] == [registration_id]


async def test_staff_cancellation_is_relayed_to_the_scheduler(registry: Registry) -> None:
    registration_id = await register(registry, FORM)
    response = await registry.client.post(
        f"/staff/registrations/{registration_id}/cancellation", headers=STAFF
    )
    assert response.status_code == 202
    [cancellation] = registry.of(CancellationRequestedV1)
    assert str(cancellation.registration_id) == registration_id
    assert cancellation.requested_by == "staff"


async def test_retention_purges_only_programmes_ended_long_enough_ago(
    make_registry: MakeRegistry,
) -> None:
    async with make_registry(retention_days=30) as registry:
        serbian = await register(registry, FORM)
        bosnian = await register(registry, BIH_FORM)
        early = await registry.client.post("/staff/retention/purge", headers=STAFF)
        assert early.json() == {"retention_days": 30, "programmes": [], "purged": 0}
        registry.clock.advance(timedelta(days=123))  # 2027-09-01: BiH ended 2027-07-21
        report = await registry.client.post("/staff/retention/purge", headers=STAFF)
        assert report.json() == {
            "retention_days": 30,
            "programmes": ["social-media-bih"],
            "purged": 1,
        }
        assert [str(e.registration_id) for e in registry.of(ErasureRequestedV1)] == [bosnian]
        listed = (await registry.client.get("/staff/registrations", headers=STAFF)).json()
        assert [r["registration_id"] for r in listed] == [serbian]
        assert (await registry.client.get(f"/registrations/{bosnian}")).status_code == 404


async def test_export_refuses_a_programme_id_that_could_break_the_file_name_header(
    registry: Registry,
) -> None:
    for bad in ('x"; filename="evil.exe', "програм", "a\r\nX-Injected: 1"):
        response = await registry.client.get(
            "/staff/registrations.csv", params={"programme_id": bad}, headers=STAFF
        )
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["field"] == "programme_id"
