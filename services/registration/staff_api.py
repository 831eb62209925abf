"""Staff routes: list and export registrations, erasure, cancellation, retention (bearer auth)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response

from services.registration import staff
from services.registration.api import DepsParam, correlation_id
from services.registration.auth import require_staff
from services.registration.export import registrations_csv
from services.registration.schemas import (
    ErrorBody,
    Identifier,
    RequestAccepted,
    RetentionReport,
    StaffRegistration,
)

AUTH_ERRORS: dict[int | str, dict[str, object]] = {401: {"model": ErrorBody}}
router = APIRouter(
    prefix="/staff", tags=["staff"], dependencies=[Depends(require_staff)], responses=AUTH_ERRORS
)


ProgrammeFilter = Annotated[Identifier | None, Query(description="Only this programme.")]


@router.get("/registrations", response_model=list[StaffRegistration], summary="List registrations")
async def list_registrations(
    deps: DepsParam, programme_id: ProgrammeFilter = None
) -> list[StaffRegistration]:
    """Every registration with the person's data, oldest first."""
    return await deps.store.list_people(programme_id)


@router.get(
    "/registrations.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
    summary="Export registrations as CSV",
)
async def export_registrations(deps: DepsParam, programme_id: ProgrammeFilter = None) -> Response:
    """The same list as a CSV file."""
    body = registrations_csv(await deps.store.list_people(programme_id))
    name = f"registrations-{programme_id or 'all'}.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post(
    "/registrations/{registration_id}/erasure",
    status_code=202,
    response_model=RequestAccepted,
    responses={404: {"model": ErrorBody}, 503: {"model": ErrorBody}},
    summary="Erase a person's data in every service",
)
async def erase(registration_id: UUID, request: Request, deps: DepsParam) -> RequestAccepted:
    """Publish the erasure request durably, then remove the data stored here."""
    try:
        await staff.request_erasure(
            registration_id, correlation_id=correlation_id(request), deps=deps
        )
    except staff.UnknownRegistration:
        raise HTTPException(status_code=404, detail="unknown registration") from None
    return RequestAccepted(registration_id=registration_id, request="erasure")


@router.post(
    "/registrations/{registration_id}/cancellation",
    status_code=202,
    response_model=RequestAccepted,
    responses={404: {"model": ErrorBody}, 503: {"model": ErrorBody}},
    summary="Cancel a registration on a participant's behalf",
)
async def cancel(registration_id: UUID, request: Request, deps: DepsParam) -> RequestAccepted:
    """Relay a staff cancellation to the scheduler."""
    try:
        await staff.request_cancellation(
            registration_id, requested_by="staff", correlation_id=correlation_id(request), deps=deps
        )
    except staff.UnknownRegistration:
        raise HTTPException(status_code=404, detail="unknown registration") from None
    return RequestAccepted(registration_id=registration_id, request="cancellation")


@router.post(
    "/retention/purge",
    response_model=RetentionReport,
    responses={503: {"model": ErrorBody}},
    summary="Purge registrations of programmes past the retention period",
)
async def purge(request: Request, deps: DepsParam) -> RetentionReport:
    """Erase everywhere and delete here what is older than RETENTION_DAYS after its programme."""
    return await staff.purge_expired(correlation_id=correlation_id(request), deps=deps)


def install_staff_routes(app: FastAPI, tokens: tuple[str, ...]) -> None:
    """Mount the staff routes with the tokens that open them."""
    app.state.staff_tokens = tokens
    app.include_router(router)
