"""The JSON API: submit a registration, read its status."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated
from uuid import UUID

import structlog
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request, Response

from services.registration import handlers
from services.registration.auth import is_staff
from services.registration.schemas import (
    ErrorBody,
    RegistrationAccepted,
    RegistrationRequest,
    RegistrationStatus,
)

CORRELATION_HEADER = "X-Correlation-ID"
VALID_CORRELATION = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

router = APIRouter()


def get_deps(request: Request) -> handlers.Deps:
    """The use-case dependencies the app was wired with."""
    deps: handlers.Deps = request.app.state.deps
    return deps


DepsParam = Annotated[handlers.Deps, Depends(get_deps)]


def correlation_id(request: Request) -> str:
    """The request's correlation id (set by the middleware)."""
    value: str = request.state.correlation_id
    return value


async def correlation_middleware(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Take the caller's correlation id if it is well-formed, else make one; bind it to every log line."""
    supplied = request.headers.get(CORRELATION_HEADER, "")
    request.state.correlation_id = (
        supplied if VALID_CORRELATION.match(supplied) else uuid.uuid4().hex
    )
    with structlog.contextvars.bound_contextvars(correlation_id=request.state.correlation_id):
        response = await call_next(request)
    response.headers[CORRELATION_HEADER] = request.state.correlation_id
    return response


async def limit_address(request: Request, deps: DepsParam) -> None:
    """Count the request against its client address (staff tokens are not limited)."""
    if not is_staff(request):
        await deps.rate_limits.check_address(request.client.host if request.client else "unknown")


IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$"),
]


@router.post(
    "/registrations",
    status_code=202,
    response_model=RegistrationAccepted,
    responses={
        422: {"model": ErrorBody},
        429: {"model": ErrorBody},
        503: {"model": ErrorBody},
    },
    dependencies=[Depends(limit_address)],
    summary="Submit a registration",
)
async def submit_registration(
    body: RegistrationRequest,
    request: Request,
    deps: DepsParam,
    idempotency_key: IdempotencyKey = None,
) -> RegistrationAccepted:
    """Accept a registration once it is durably in Kafka; the same person gets the same id."""
    registration_id = await handlers.submit_with_key(
        body,
        idempotency_key=idempotency_key,
        correlation_id=correlation_id(request),
        deps=deps,
        trusted=is_staff(request),
    )
    base = str(request.base_url).rstrip("/")
    return RegistrationAccepted(
        registration_id=registration_id, status_url=f"{base}/registrations/{registration_id}"
    )


@router.get(
    "/registrations/{registration_id}",
    response_model=RegistrationStatus,
    responses={404: {"model": ErrorBody}},
    summary="Read where a registration stands",
)
async def registration_status(registration_id: UUID, deps: DepsParam) -> RegistrationStatus:
    """Return pending, assigned (with the session) or waitlisted (with the position)."""
    status = await deps.store.status(registration_id)
    if status is None:
        raise HTTPException(status_code=404, detail="unknown registration")
    return status


@router.get("/health", summary="Liveness")
async def health() -> dict[str, str]:
    """Answer while the process is up."""
    return {"status": "ok"}


def install_routes(app: FastAPI) -> None:
    """Mount the routes and the correlation middleware."""
    app.include_router(router)
    app.middleware("http")(correlation_middleware)
