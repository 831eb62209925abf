"""Error answers that say which field and why, without echoing what was sent."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from services.registration.abuse import RateLimited
from services.registration.handlers import FieldRejected, KafkaUnavailable
from services.registration.schemas import ErrorBody, FieldError

log = structlog.stdlib.get_logger("registration")


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _message(item: dict[str, Any]) -> str:
    if item["type"] == "extra_forbidden":
        return "unknown field"
    if item["type"] == "missing":
        return "field required"
    return str(item["msg"]).removeprefix("Value error, ")


def validation_body(errors: list[dict[str, Any]]) -> ErrorBody:
    """Describe request validation errors field by field."""
    return ErrorBody(
        detail="The request is not valid.",
        errors=[
            FieldError(field=_field_name(tuple(e["loc"])), message=_message(e)) for e in errors
        ],
    )


def install_error_handlers(app: FastAPI, *, retry_after_s: int) -> None:
    """Register the handlers for invalid requests, unknown catalogue entries and Kafka outages."""

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        body = validation_body(list(error.errors()))
        return JSONResponse(status_code=422, content=body.model_dump())

    @app.exception_handler(FieldRejected)
    async def rejected_field(_: Request, error: FieldRejected) -> JSONResponse:
        body = ErrorBody(
            detail="The request is not valid.",
            errors=[FieldError(field=error.field, message=str(error))],
        )
        return JSONResponse(status_code=422, content=body.model_dump())

    @app.exception_handler(KafkaUnavailable)
    async def kafka_unavailable(_: Request, __: KafkaUnavailable) -> JSONResponse:
        body = ErrorBody(detail="Registrations cannot be stored right now; please retry shortly.")
        return JSONResponse(
            status_code=503, content=body.model_dump(), headers={"Retry-After": str(retry_after_s)}
        )

    @app.exception_handler(RateLimited)
    async def rate_limited(_: Request, error: RateLimited) -> JSONResponse:
        log.warning("request.rate_limited", scope=error.scope, retry_after_s=error.retry_after_s)
        body = ErrorBody(detail="Too many requests; please retry later.")
        return JSONResponse(
            status_code=429,
            content=body.model_dump(),
            headers={"Retry-After": str(error.retry_after_s)},
        )
