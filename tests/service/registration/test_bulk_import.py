"""Bulk import for staff: progress, a per-row error report, and no duplicates on a second import."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console
from rich.progress import Progress

from services.registration.bulk_import import TokenRefused, import_file, main
from shared.contracts import RegistrationSubmittedV1
from tests.service.registration.conftest import (
    STAFF,
    STAFF_TOKEN,
    MakeRegistry,
    Registry,
    serving,
)

pytestmark = pytest.mark.service

CSV = """programme_id,full_name,email,phone,organisation,role,language,preferences,unavailable_dates,consent_email,consent_sms
social-networks-lsg,Jelena Primerović,jelena@example.org,064 111 2233,Grad Primer,PR officer,sr-Cyrl,sn-training-2;sn-training-4,2027-06-09,yes,da
social-networks-lsg,Marko Uzorković,marko@,064 111 2244,Opština Uzor,,sr-Latn,sn-training-9,,yes,no
social-networks-lsg,Ana Oglednić,ana@example.org,,Opština Ogled,,en,,,maybe,
social-networks-lsg,Petar Primerić,petar@example.org,+387 61 123 456,Grad Primer,,bs,sn-training-1,,,
"""


async def fake_sleep(_: float) -> None:
    return None


def staff_client(registry: Registry) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=registry.app, client=("203.0.113.7", 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://test", headers=STAFF)


def report_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


async def test_import_reports_row_field_and_reason_and_imports_the_rest(
    registry: Registry, tmp_path: Path
) -> None:
    source = tmp_path / "opstine.csv"
    source.write_text(CSV, encoding="utf-8")
    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    async with staff_client(registry) as client:
        with Progress(console=console) as progress:
            report = await import_file(source, client, progress=progress, sleep=fake_sleep)
    assert (report.rows, report.accepted, report.failed_rows) == (4, 2, 2)
    assert report.report_path == tmp_path / "opstine.errors.csv"
    problems = report_rows(report.report_path)
    assert {(p["row"], p["field"]) for p in problems} == {
        ("3", "email"),
        ("4", "consent_email"),
    }
    assert all(p["reason"] for p in problems)
    assert "marko" not in report.report_path.read_text(encoding="utf-8")
    events = registry.of(RegistrationSubmittedV1)
    assert [e.registrant.email for e in events] == ["jelena@example.org", "petar@example.org"]
    jelena = events[0]
    assert jelena.preferences == ("sn-training-2", "sn-training-4")
    assert (jelena.registrant.consent_sms, jelena.registrant.language) == (True, "sr-Cyrl")
    assert progress.tasks[0].completed == progress.tasks[0].total == 4
    assert "100%" in console.file.getvalue()  # type: ignore[attr-defined]


async def test_importing_the_same_file_twice_makes_no_duplicates(
    registry: Registry, tmp_path: Path
) -> None:
    source = tmp_path / "opstine.csv"
    source.write_text(CSV, encoding="utf-8")
    async with staff_client(registry) as client:
        first = await import_file(source, client, sleep=fake_sleep)
        second = await import_file(source, client, sleep=fake_sleep)
    assert first.accepted == second.accepted == 2
    assert len(registry.of(RegistrationSubmittedV1)) == 2
    listed = (await registry.client.get("/staff/registrations", headers=STAFF)).json()
    assert len(listed) == 2


async def test_semicolon_excel_export_with_bom_and_a_default_programme(
    registry: Registry, tmp_path: Path
) -> None:
    source = tmp_path / "excel.csv"
    source.write_text(
        "\ufefffull_name;email;organisation\nIvana Primer;ivana@example.org;Opština Primer\n",
        encoding="utf-8",
    )
    async with staff_client(registry) as client:
        report = await import_file(
            source, client, programme="social-networks-lsg", sleep=fake_sleep
        )
    assert report.accepted == 1
    [event] = registry.of(RegistrationSubmittedV1)
    assert event.programme_id == "social-networks-lsg"


async def test_staff_import_is_not_held_back_by_the_public_rate_limits(
    make_registry: MakeRegistry, tmp_path: Path
) -> None:
    rows = "\n".join(
        f"social-networks-lsg,Person {n},p{n}@example.org,Opština Primer" for n in range(6)
    )
    source = tmp_path / "many.csv"
    source.write_text(f"programme_id,full_name,email,organisation\n{rows}\n", encoding="utf-8")
    async with make_registry(rate_limit_per_address="2/minute") as registry:
        async with staff_client(registry) as client:
            report = await import_file(source, client, sleep=fake_sleep)
        assert report.accepted == 6


async def test_a_refused_token_stops_the_import_before_any_row(
    registry: Registry, tmp_path: Path
) -> None:
    source = tmp_path / "opstine.csv"
    source.write_text(CSV, encoding="utf-8")
    transport = httpx.ASGITransport(app=registry.app)
    wrong = {"Authorization": "Bearer nope"}
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=wrong) as c:
        with pytest.raises(TokenRefused):
            await import_file(source, c, sleep=fake_sleep)
    assert registry.published == []


async def test_busy_answers_are_waited_out(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "one.csv"
    source.write_text(
        "programme_id,full_name,email,organisation\n"
        "social-networks-lsg,Ivana Primer,ivana@example.org,Opština Primer\n",
        encoding="utf-8",
    )
    real_publish = registry.broker.publish
    failures = iter([True, True])
    waits: list[float] = []

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        if next(failures, False):
            raise ConnectionError("down")
        return await real_publish(*args, **kwargs)

    async def record_wait(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(registry.broker, "publish", flaky)
    async with staff_client(registry) as client:
        report = await import_file(source, client, sleep=record_wait)
    assert report.accepted == 1
    assert waits == [5.0, 5.0]


async def test_command_line_imports_over_http(registry: Registry, tmp_path: Path) -> None:
    source = tmp_path / "opstine.csv"
    source.write_text(CSV, encoding="utf-8")
    async with serving(registry.app) as url:
        args = [str(source), "--api", url, "--token", STAFF_TOKEN]
        code = await asyncio.to_thread(main, args)
        refused = await asyncio.to_thread(main, [str(source), "--api", url, "--token", "x"])
    assert code == 1, "two rows have errors"
    assert len(registry.of(RegistrationSubmittedV1)) == 2
    assert len(report_rows(tmp_path / "opstine.errors.csv")) == 2
    assert refused == 2, "a wrong token stops the import"
