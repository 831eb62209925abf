"""The JSON API: submit a registration, read its status."""

from __future__ import annotations

import re
import uuid
from typing import Annotated
from uuid import UUID

import structlog
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


async def get_deps(request: Request) -> handlers.Deps:
    """The use-case dependencies the app was wired with (async: no thread pool hop per request)."""
    deps: handlers.Deps = request.app.state.deps
    return deps


DepsParam = Annotated[handlers.Deps, Depends(get_deps)]


def correlation_id(request: Request) -> str:
    """The request's correlation id (set by the middleware)."""
    value: str = request.state.correlation_id
    return value


class CorrelationMiddleware:
    """Take the caller's correlation id if it is well-formed, else make one; bind it to every log line.

    A pure ASGI middleware: Starlette's `app.middleware("http")` costs a task group and
    stream wrappers per request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request with its correlation id in state, logs and the response headers."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        supplied = Headers(scope=scope).get(CORRELATION_HEADER, "")
        value = supplied if VALID_CORRELATION.match(supplied) else uuid.uuid4().hex
        scope.setdefault("state", {})["correlation_id"] = value

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[CORRELATION_HEADER] = value
            await send(message)

        # bind and reset by token: `bound_contextvars` copies and scans the whole context first
        tokens = structlog.contextvars.bind_contextvars(correlation_id=value)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            structlog.contextvars.reset_contextvars(**tokens)


async def limit_address(request: Request) -> None:
    """Count the request against its client address (staff tokens are not limited)."""
    if not is_staff(request):
        deps = await get_deps(request)  # called, not injected: FastAPI solves each one per request
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
    app.add_middleware(CorrelationMiddleware)
