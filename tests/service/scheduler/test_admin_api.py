"""Staff changes through the authenticated admin API, and what they do to the people placed."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import yaml
from structlog.testing import capture_logs

from deploy.ports import free_port
from services.scheduler import admin
from services.scheduler.admin_api import create_admin_api
from shared.contracts import (
    RegistrationWaitlistedV1,
    SeatAssignedV1,
    SeatOfferedV1,
    SeatReleasedV1,
    SeatUpdatedV1,
)
from tests.service.scheduler.conftest import (
    Scheduler,
    registration,
    small_catalogue,
    start_scheduler,
)

pytestmark = pytest.mark.service
TOKEN = "staff-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def client(small: Scheduler) -> AsyncIterator[httpx.AsyncClient]:
    app = create_admin_api(small.deps, [TOKEN, "second-token"])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://admin") as http:
        yield http


async def test_every_admin_route_refuses_requests_without_a_valid_token(
    small: Scheduler, client: httpx.AsyncClient
) -> None:
    paths = create_admin_api(small.deps, [TOKEN]).openapi()["paths"]
    routes = [(method, path) for path, item in paths.items() for method in item]
    assert len(routes) == 5
    for method, template in routes:
        path = template.format(programme_id="small", session_id="s1")
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic eDp5"}):
            answer = await client.request(method, path, headers=headers, json={})
            assert answer.status_code == 401, (method, path, headers)
            assert answer.headers["www-authenticate"] == "Bearer"
    assert small.placed == []


async def test_no_configured_token_refuses_everyone(small: Scheduler) -> None:
    transport = httpx.ASGITransport(app=create_admin_api(small.deps, []))
    async with httpx.AsyncClient(transport=transport, base_url="http://admin") as http:
        answer = await http.get(
            "/admin/programmes/small/sessions", headers={"Authorization": "Bearer "}
        )
    assert answer.status_code == 401


async def test_reschedule_tells_every_assignee_what_changed(
    small: Scheduler, client: httpx.AsyncClient
) -> None:
    seated = [await small.submit(registration("s2", n=n)) for n in range(2)]
    before = len(small.sessions)
    body = {"dates": ["2027-06-22"], "start": "11:00", "end": "17:00"}
    answer = await client.patch("/admin/programmes/small/sessions/s2", json=body, headers=AUTH)
    assert answer.status_code == 200, answer.text
    assert answer.json()["revision"] == 2
    updates = [p for p, _ in small.placed if isinstance(p, SeatUpdatedV1)]
    assert sorted(u.registration_id for u in updates) == sorted(s.registration_id for s in seated)
    assert {(u.changes, u.revision) for u in updates} == {(("time",), 2)}
    assert updates[0].session.days[0].starts_at == datetime(2027, 6, 22, 9, 0, tzinfo=UTC)
    [published] = small.sessions[before:]
    assert (published.revision, published.session.session_id) == (2, "s2")


async def test_a_seat_taken_after_a_reschedule_carries_the_new_time(
    small: Scheduler, client: httpx.AsyncClient
) -> None:
    await small.submit(registration("s2", n=1))  # the session as first stored is in use
    body = {"dates": ["2027-06-22"], "start": "11:00", "end": "17:00"}
    answer = await client.patch("/admin/programmes/small/sessions/s2", json=body, headers=AUTH)
    assert answer.status_code == 200, answer.text
    later = await small.submit(registration("s2", n=2))
    assert isinstance(later, SeatAssignedV1)
    assert later.session.days[0].starts_at == datetime(2027, 6, 22, 9, 0, tzinfo=UTC)


async def test_relocation_is_a_venue_change(small: Scheduler, client: httpx.AsyncClient) -> None:
    await small.submit(registration("s1", n=1))
    venue = {"name": "Palata Srbija", "city": "Belgrade", "room": "Sala 2"}
    answer = await client.patch(
        "/admin/programmes/small/sessions/s1", json={"venue": venue}, headers=AUTH
    )
    assert answer.status_code == 200, answer.text
    [update] = [p for p, _ in small.placed if isinstance(p, SeatUpdatedV1)]
    assert update.changes == ("venue",)
    assert update.session.venue is not None
    assert update.session.venue.room == "Sala 2"


async def test_lowering_capacity_moves_the_latest_assignee_back_to_the_waitlist(
    small: Scheduler, client: httpx.AsyncClient
) -> None:
    earlier, latest = [await small.submit(registration("s2", n=n)) for n in range(2)]
    answer = await client.patch(
        "/admin/programmes/small/sessions/s2", json={"capacity": 1}, headers=AUTH
    )
    assert answer.status_code == 200, answer.text
    released, waiting = [p for p, _ in small.placed[2:]]
    assert isinstance(released, SeatReleasedV1)
    assert released.release_reason == "capacity_reduced"
    assert released.registration_id == latest.registration_id
    assert isinstance(waiting, RegistrationWaitlistedV1)
    assert (waiting.position, waiting.joined) == (1, True)  # told: back on the waitlist
    assert waiting.attendee is not None
    assert earlier.registration_id not in {p.registration_id for p, _ in small.placed[2:]}


async def test_a_cancelled_session_re_places_its_people_by_their_other_preferences(
    small: Scheduler, client: httpx.AsyncClient
) -> None:
    movable = await small.submit(registration("s1", "s2", n=1))
    answer = await client.post("/admin/programmes/small/sessions/s1/cancel", headers=AUTH)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "cancelled"
    released, moved = [p for p, _ in small.placed[1:]]
    assert isinstance(released, SeatReleasedV1)
    assert released.release_reason == "session_cancelled"
    assert isinstance(moved, SeatAssignedV1)
    assert moved.session.session_id == "s2"
    assert moved.registration_id == movable.registration_id
    assert moved.reason == "session s1 cancelled; 2nd choice: 1st choice not offered"
    assert small.sessions[-1].status == "cancelled"
    again = await client.patch(
        "/admin/programmes/small/sessions/s1", json={"capacity": 5}, headers=AUTH
    )
    assert again.status_code == 409


async def test_a_new_session_offers_its_seats_to_the_waitlist(
    small: Scheduler, client: httpx.AsyncClient
) -> None:
    for n in range(3):
        await small.submit(registration(n=n))  # no preferences: any training
    waiting = await small.submit(registration(n=9))
    assert isinstance(waiting, RegistrationWaitlistedV1)
    session = small_catalogue(4)["programmes"][0]["sessions"][0] | {
        "id": "s9",
        "dates": ["2027-07-20"],
    }
    answer = await client.post("/admin/programmes/small/sessions", json=session, headers=AUTH)
    assert answer.status_code == 201, answer.text
    offered = small.latest(waiting.registration_id)
    assert isinstance(offered, SeatOfferedV1)
    assert offered.session.session_id == "s9"
    duplicate = await client.post("/admin/programmes/small/sessions", json=session, headers=AUTH)
    assert duplicate.status_code == 409


async def test_invalid_changes_get_clear_errors(client: httpx.AsyncClient) -> None:
    bad = await client.patch(
        "/admin/programmes/small/sessions/s1", json={"capacity": 0}, headers=AUTH
    )
    assert bad.status_code == 422
    unknown = await client.patch("/admin/programmes/small/sessions/nope", json={}, headers=AUTH)
    assert unknown.status_code == 404


async def test_loading_a_programme_file_adds_and_changes_sessions(
    small: Scheduler, client: httpx.AsyncClient
) -> None:
    catalogue = small_catalogue(1, 5, 3)  # s2 grows to 5 seats, s3 is new
    answer = await client.post(
        "/admin/catalogue",
        content=yaml.safe_dump(catalogue).encode(),
        headers=AUTH | {"Content-Type": "application/yaml"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"small": {"added": 1, "changed": 1, "unchanged": 1}}
    listed = await client.get("/admin/programmes/small/sessions", headers=AUTH)
    assert {s["session"]["id"]: s["session"]["capacity"] for s in listed.json()} == {
        "s1": 1,
        "s2": 5,
        "s3": 3,
    }


async def test_the_command_line_tool_drives_the_running_admin_api(tmp_path: Path) -> None:
    port = free_port()
    settings = {"admin_http_port": port, "staff_api_tokens": f"other,{TOKEN}"}
    async for sched in start_scheduler(
        tmp_path, small_catalogue(1, 2), "small", admin_api=True, **settings
    ):
        seated = await sched.submit(registration("s2", n=1))
        url = f"http://127.0.0.1:{port}"
        await _until_listening(port)
        argv = ["--url", url, "--token", TOKEN, "capacity", "small", "s2", "1"]
        assert await asyncio.to_thread(admin.main, argv) == 0
        argv = [
            "--url",
            url,
            "--token",
            TOKEN,
            "relocate",
            "small",
            "s2",
            "--venue",
            "Hotel M",
            "--city",
            "Belgrade",
        ]
        assert await asyncio.to_thread(admin.main, argv) == 0
        [update] = [p for p, _ in sched.placed if isinstance(p, SeatUpdatedV1)]
        assert update.registration_id == seated.registration_id
        assert (
            await asyncio.to_thread(admin.main, ["--url", url, "--token", "bad", "list", "small"])
            == 1
        )


async def _until_listening(port: int) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while loop.time() < deadline:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return
    raise AssertionError("the admin API did not start listening")


async def test_a_busy_admin_port_does_not_stop_the_scheduler(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = {"admin_http_port": port, "staff_api_tokens": TOKEN}
        catalogue = small_catalogue(1)
        with capture_logs() as logs:
            async for sched in start_scheduler(
                tmp_path, catalogue, "small", admin_api=True, **settings
            ):
                await _until_logged(logs, "admin_api.unavailable")
                placed = await sched.submit(registration("s1", n=1))
                assert isinstance(placed, SeatAssignedV1)


async def _until_logged(logs: list[dict[str, object]], event: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while loop.time() < deadline:
        if any(entry["event"] == event for entry in logs):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{event} was not logged")


async def test_the_openapi_document_is_public_and_declares_the_bearer_scheme(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    operations = [op for item in spec["paths"].values() for op in item.values()]
    assert len(operations) == 5
    assert all(op.get("security") == [{"HTTPBearer": []}] for op in operations)
    assert (await client.get("/docs")).status_code == 404
