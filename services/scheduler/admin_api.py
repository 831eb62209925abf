"""The staff admin API: manage sessions over HTTP. Every route needs a bearer token.

Tokens come from STAFF_API_TOKENS (comma-separated) and are compared in constant time; with no
token configured every request is refused. Each change is one transaction that stores the session,
applies the rules to its people and writes all events to the outbox (see `sessions.py`).
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any
from uuid import uuid4

import structlog
from fastapi import APIRouter, Body, Depends, FastAPI, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, ValidationError

from services.scheduler import sessions
from services.scheduler.handlers import Deps
from services.scheduler.programme_tx import StoredSession
from shared.catalogue import CatalogueError, Session, parse_catalogue

log = structlog.stdlib.get_logger(__name__)
_bearer = HTTPBearer(auto_error=False)


class SessionView(BaseModel):
    """A session as staff see it."""

    model_config = ConfigDict(frozen=True)

    session: dict[str, Any]
    status: str
    revision: int


def _view(stored: StoredSession) -> SessionView:
    return SessionView(
        session=stored.session.model_dump(mode="json"),
        status=stored.status,
        revision=stored.revision,
    )


def token_checker(tokens: list[str]) -> Any:
    """A dependency that lets a request through only with one of `tokens` as its bearer token."""

    async def check(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> str:
        given = credentials.credentials.encode() if credentials else b""
        matches = [hmac.compare_digest(given, token.encode()) for token in tokens]
        if not given or not any(matches):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "a valid staff bearer token is required",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return "staff"

    return check


def create_admin_api(deps: Deps, tokens: list[str]) -> FastAPI:
    """The admin app; `tokens` are the accepted bearer tokens (empty: everything is refused)."""
    # /openapi.json stays public (the shape is no secret, and audits list the routes from it);
    # the interactive /docs pages are off
    app = FastAPI(title="trainingops scheduler admin", version="1", docs_url=None, redoc_url=None)
    app.state.deps = deps
    app.include_router(router, dependencies=[Depends(token_checker(tokens))])
    return app


async def _deps(request: Request) -> Deps:
    deps: Deps = request.app.state.deps
    return deps


Scheduler = Annotated[Deps, Depends(_deps)]
router = APIRouter(prefix="/admin")


@router.get("/programmes/{programme_id}/sessions")
async def list_sessions(programme_id: str, deps: Scheduler) -> list[SessionView]:
    """Every session of a programme, with its status and revision."""
    _known(deps, programme_id)
    async with deps.store.transaction(programme_id) as tx:
        stored = await tx.sessions()
    return [_view(s) for s in stored.values()]


@router.post("/programmes/{programme_id}/sessions", status_code=201)
async def create_session(
    programme_id: str, body: Annotated[dict[str, Any], Body()], deps: Scheduler
) -> SessionView:
    """Add a session; its seats go to fitting waitlisted registrants."""
    _known(deps, programme_id)
    session = _session(programme_id, body)
    added = await sessions.add_sessions(deps, programme_id, [session], correlation_id=_cid())
    if not added:
        raise HTTPException(status.HTTP_409_CONFLICT, f"session {session.id!r} exists")
    return await _current(deps, programme_id, session.id)


@router.patch("/programmes/{programme_id}/sessions/{session_id}")
async def change_session(
    programme_id: str, session_id: str, body: Annotated[dict[str, Any], Body()], deps: Scheduler
) -> SessionView:
    """Reschedule, relocate, relink or resize a session; its people are told."""
    before = await _current(deps, programme_id, session_id)
    session = _session(programme_id, _merge(before.session, body))
    try:
        after = await sessions.change_session(deps, programme_id, session, correlation_id=_cid())
    except ValueError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    return _view(after)


@router.post("/programmes/{programme_id}/sessions/{session_id}/cancel")
async def cancel_session(programme_id: str, session_id: str, deps: Scheduler) -> SessionView:
    """Cancel a session; its people are re-placed or waitlisted."""
    await _current(deps, programme_id, session_id)
    after = await sessions.cancel_session(deps, programme_id, session_id, correlation_id=_cid())
    return _view(after)


@router.post("/catalogue")
async def load_catalogue(request: Request, deps: Scheduler) -> dict[str, Any]:
    """Load programmes from catalogue YAML (the request body, as application/yaml)."""
    try:
        catalogue = parse_catalogue((await request.body()).decode("utf-8"), source="upload")
    except (CatalogueError, UnicodeDecodeError) as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None
    for programme in catalogue.programmes:
        _known(deps, programme.id)
    return {
        programme.id: await sessions.apply_programme(deps, programme, correlation_id=_cid())
        for programme in catalogue.programmes
    }


def _merge(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    merged = {k: v for k, v in current.items() if k != "programme_id"}
    if "dates" in patch:
        merged.pop("days", None)
    if patch.get("mode") == "online":
        merged.pop("venue", None)
    if patch.get("mode") == "in_person":
        merged.pop("online_url", None)
    return merged | patch


def _session(programme_id: str, body: dict[str, Any]) -> Session:
    try:
        return Session.model_validate({**body, "programme_id": programme_id})
    except ValidationError as error:
        problems = error.errors(include_url=False, include_input=False, include_context=False)
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, problems) from None


async def _current(deps: Deps, programme_id: str, session_id: str) -> SessionView:
    _known(deps, programme_id)
    async with deps.store.transaction(programme_id) as tx:
        stored = (await tx.sessions()).get(session_id)
    if stored is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no session {session_id!r}")
    return _view(stored)


def _known(deps: Deps, programme_id: str) -> None:
    if programme_id not in {p.id for p in deps.catalogue.programmes}:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no programme {programme_id!r}")


def _cid() -> str:
    return f"staff-{uuid4().hex}"
