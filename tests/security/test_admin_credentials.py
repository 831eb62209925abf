"""Every staff and admin route, found in the OpenAPI documents, refuses requests without credentials."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from deploy.local.stack import LocalStack

pytestmark = pytest.mark.security
METHODS = ("get", "post", "put", "patch", "delete")
REFUSED = (401, 403)


def protected_operations(spec: dict[str, Any], *, all_routes: bool) -> list[tuple[str, str]]:
    """(method, path) of every operation that declares security, or sits under /staff or /admin."""
    found = []
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None or path in ("/health", "/healthz"):
                continue
            declared = bool(operation.get("security") or spec.get("security"))
            if all_routes or declared or path.startswith(("/staff", "/admin")):
                found.append((method, path))
    return found


def concrete(path: str) -> str:
    """Fill every path parameter with a plausible value."""
    parts = [str(uuid.uuid4()) if p.startswith("{") else p for p in path.split("/")]
    return "/".join(parts)


def refusals(
    base_url: str, operations: list[tuple[str, str]], headers: dict[str, str]
) -> dict[str, int]:
    """Call each operation; return those that were not refused, with their status."""
    leaks = {}
    with httpx.Client(base_url=base_url, timeout=10) as client:
        for method, path in operations:
            body = {} if method in ("post", "put", "patch") else None
            response = client.request(method.upper(), concrete(path), json=body, headers=headers)
            if response.status_code not in REFUSED:
                leaks[f"{method.upper()} {path}"] = response.status_code
    return leaks


def openapi(base_url: str) -> dict[str, Any] | None:
    """The app's OpenAPI document, or None when nothing answers there."""
    try:
        response = httpx.get(f"{base_url}/openapi.json", timeout=5)
    except httpx.TransportError:
        return None
    return response.json() if response.status_code == 200 else None


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-staff-token"}])
def test_registration_staff_routes_refuse_without_credentials(
    stack: LocalStack, headers: dict[str, str]
) -> None:
    spec = openapi(stack.api_url)
    assert spec is not None, "the registration service publishes its OpenAPI document"
    operations = protected_operations(spec, all_routes=False)
    if not operations:
        pytest.skip("the registration service has no staff routes yet")
    assert refusals(stack.api_url, operations, headers) == {}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-staff-token"}])
def test_scheduler_admin_routes_refuse_without_credentials(
    stack: LocalStack, admin_port: int, headers: dict[str, str]
) -> None:
    base_url = f"http://127.0.0.1:{admin_port}"
    spec = openapi(base_url)
    if spec is None:
        pytest.skip("the scheduler has no admin API listening (yet)")
    operations = protected_operations(spec, all_routes=True)
    assert operations, "an admin API with no routes"
    assert refusals(base_url, operations, headers) == {}
