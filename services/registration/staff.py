"""Staff use cases: erase a person, cancel a registration, purge after the retention period."""

from __future__ import annotations

from uuid import UUID

import structlog

from services.registration.domain import (
    cancellation_event_id,
    erasure_event_id,
    past_retention,
    programme_end,
)
from services.registration.handlers import Deps, publish_durably
from services.registration.schemas import RetentionReport
from shared.catalogue import Programme
from shared.contracts import CancellationRequestedV1, ErasureRequestedV1, envelope

log = structlog.stdlib.get_logger("registration")
SERVICE = "registration"


class UnknownRegistration(LookupError):
    """No registration with that id is stored."""


async def _programme_of(registration_id: UUID, deps: Deps) -> str:
    row = await deps.store.row(registration_id)
    if row is None:
        raise UnknownRegistration(str(registration_id))
    return row.programme_id


async def request_erasure(registration_id: UUID, *, correlation_id: str, deps: Deps) -> None:
    """Tell every service to erase the person, then erase them here (publish first: no loss)."""
    programme_id = await _programme_of(registration_id, deps)
    await _publish_erasure(registration_id, programme_id, correlation_id=correlation_id, deps=deps)
    await deps.store.erase(registration_id, deps.clock.now())
    log.info("registration.erased", registration_id=str(registration_id))


async def _publish_erasure(
    registration_id: UUID, programme_id: str, *, correlation_id: str, deps: Deps
) -> None:
    event = ErasureRequestedV1(
        **envelope(
            producer=SERVICE,
            correlation_id=correlation_id,
            now=deps.clock.now(),
            event_id=erasure_event_id(registration_id),
        ),
        registration_id=registration_id,
        programme_id=programme_id,
        requested_by="staff",
    )
    await publish_durably(deps, event, key=programme_id, registration_id=registration_id)


async def request_cancellation(
    registration_id: UUID, *, requested_by: str, correlation_id: str, deps: Deps
) -> str:
    """Relay a cancellation to the scheduler; asking twice is the same request. Returns the programme."""
    programme_id = await _programme_of(registration_id, deps)
    event = CancellationRequestedV1(
        **envelope(
            producer=SERVICE,
            correlation_id=correlation_id,
            now=deps.clock.now(),
            event_id=cancellation_event_id(registration_id),
        ),
        registration_id=registration_id,
        programme_id=programme_id,
        requested_by="staff" if requested_by == "staff" else "participant",
    )
    await publish_durably(deps, event, key=programme_id, registration_id=registration_id)
    log.info("registration.cancellation_requested", registration_id=str(registration_id))
    return programme_id


def expired_programmes(programmes: tuple[Programme, ...], deps: Deps) -> list[str]:
    """The programmes that ended more than the retention period ago."""
    today = deps.clock.now().date()
    return [
        p.id
        for p in programmes
        if past_retention(
            programme_end(
                (ph.ends_on for ph in p.phases), (d for s in p.sessions for d in s.local_dates)
            ),
            today,
            deps.retention_days,
        )
    ]


async def purge_expired(*, correlation_id: str, deps: Deps) -> RetentionReport:
    """Erase everywhere, then delete here, every registration of programmes past retention."""
    expired = expired_programmes(deps.catalogue.programmes, deps)
    purged = 0
    for programme_id in expired:
        ids = await deps.store.ids_of_programme(programme_id)
        for registration_id in ids:
            await _publish_erasure(
                registration_id, programme_id, correlation_id=correlation_id, deps=deps
            )
        await deps.store.purge(ids)
        purged += len(ids)
        log.info("retention.purged", programme_id=programme_id, registrations=len(ids))
    return RetentionReport(retention_days=deps.retention_days, programmes=expired, purged=purged)
