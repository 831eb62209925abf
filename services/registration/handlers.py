"""Use cases of the registration service."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import structlog
from faststream.kafka import KafkaBroker

from services.registration.abuse import RateLimits, SmsBudget
from services.registration.catalogue_view import CatalogueView
from services.registration.domain import (
    normalise_email,
    region_allowed,
    registration_id_for,
    submission_event_id,
)
from services.registration.idempotency import IdempotencyKeys, KeyReused, fingerprint
from services.registration.link_uses import LinkUses
from services.registration.schemas import RegistrationRequest
from services.registration.store import RegistrationStore
from shared import topics
from shared.catalogue import UnknownProgramme, UnknownSession
from shared.clock import Clock
from shared.contracts import (
    Event,
    Registrant,
    RegistrationSubmittedV1,
    envelope,
)
from shared.kafka import publish_event

log = structlog.stdlib.get_logger("registration")
SERVICE = "registration"


class FieldRejected(ValueError):
    """A field is well-formed but not acceptable here; says which field and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class CatalogueError(FieldRejected):
    """The request names a programme or session that does not exist or is closed."""


class KafkaUnavailable(RuntimeError):
    """The event could not be durably written to Kafka in time."""


@dataclass(frozen=True)
class Deps:
    """What the use cases need from the outside world."""

    broker: KafkaBroker
    store: RegistrationStore
    catalogue: CatalogueView
    clock: Clock
    publish_timeout_s: float
    rate_limits: RateLimits
    sms_budget: SmsBudget
    phone_regions: frozenset[str]
    idempotency: IdempotencyKeys
    link_uses: LinkUses
    retention_days: int = 365


def check_against_catalogue(
    request: RegistrationRequest, catalogue: CatalogueView, now: datetime
) -> None:
    """Refuse an unknown programme, or a session that is unknown, cancelled or past its deadline."""
    try:
        programme = catalogue.programme(request.programme_id)
    except UnknownProgramme as error:
        raise CatalogueError("programme_id", "unknown programme") from error
    for index, session_id in enumerate(request.preferences):
        try:
            session = programme.session(session_id)
        except UnknownSession as error:
            raise CatalogueError(
                f"preferences.{index}", f"unknown session in programme {programme.id}"
            ) from error
        if not catalogue.is_open(session, now):
            raise CatalogueError(f"preferences.{index}", "session closed for registration")


def to_event(
    request: RegistrationRequest, registration_id: UUID, *, correlation_id: str, deps: Deps
) -> RegistrationSubmittedV1:
    """Turn an accepted request into the event the scheduler consumes."""
    fields = request.model_dump(exclude={"programme_id", "preferences", "unavailable_dates"})
    return RegistrationSubmittedV1(
        **envelope(
            producer=SERVICE,
            correlation_id=correlation_id,
            now=deps.clock.now(),
            event_id=submission_event_id(registration_id),
        ),
        registration_id=registration_id,
        programme_id=request.programme_id,
        registrant=Registrant(**fields),
        preferences=tuple(request.preferences),
        unavailable_dates=tuple(request.unavailable_dates),
    )


def check_phone_region(request: RegistrationRequest, allowed: frozenset[str]) -> None:
    """Refuse phone numbers from countries outside the allow-list (SMS pumping)."""
    if request.phone and not region_allowed(request.phone, allowed):
        raise FieldRejected("phone", "phone numbers from this country are not accepted")


async def submit(
    request: RegistrationRequest, *, correlation_id: str, deps: Deps, trusted: bool = False
) -> UUID:
    """Accept a registration once: publish it durably, then remember it. Same person, same id."""
    check_against_catalogue(request, deps.catalogue, deps.clock.now())
    check_phone_region(request, deps.phone_regions)
    if not trusted:  # staff (bulk import) is not rate-limited
        await deps.rate_limits.check_person(normalise_email(request.email), request.phone)
    registration_id = registration_id_for(request.programme_id, request.email)
    if await deps.store.exists(registration_id):
        log.info("registration.duplicate", registration_id=str(registration_id))
        return registration_id  # the same answer as a new one: nobody learns who registered
    if not (request.consent_sms and request.phone):
        await _accept(request, registration_id, correlation_id=correlation_id, deps=deps)
        return registration_id
    async with deps.sms_budget.reserve(deps.clock.now()) as sms_allowed:
        if not sms_allowed:
            log.warning("registration.sms_budget_exhausted", registration_id=str(registration_id))
            request = request.model_copy(update={"consent_sms": False})
        await _accept(request, registration_id, correlation_id=correlation_id, deps=deps)
    return registration_id


async def submit_with_key(
    request: RegistrationRequest,
    *,
    idempotency_key: str | None,
    correlation_id: str,
    deps: Deps,
    trusted: bool = False,
) -> UUID:
    """Submit, honouring an Idempotency-Key: the same key gives the same answer, once."""
    if idempotency_key is None:
        return await submit(request, correlation_id=correlation_id, deps=deps, trusted=trusted)
    digest = fingerprint(request.model_dump_json())
    try:
        known = await deps.idempotency.recall(idempotency_key, digest)
    except KeyReused:
        raise FieldRejected("Idempotency-Key", "already used for a different request") from None
    if known is not None:
        return known
    registration_id = await submit(
        request, correlation_id=correlation_id, deps=deps, trusted=trusted
    )
    await deps.idempotency.remember(idempotency_key, digest, registration_id, deps.clock.now())
    return registration_id


async def _accept(
    request: RegistrationRequest, registration_id: UUID, *, correlation_id: str, deps: Deps
) -> None:
    event = to_event(request, registration_id, correlation_id=correlation_id, deps=deps)
    await publish_durably(deps, event, key=request.programme_id, registration_id=registration_id)
    # A crash here loses only this record: the client's retry republishes the same event id.
    await deps.store.record_submitted(event)
    log.info(
        "registration.accepted",
        registration_id=str(registration_id),
        programme_id=request.programme_id,
        sms=event.registrant.consent_sms,
    )


async def publish_durably(
    deps: Deps,
    event: Event,
    *,
    key: str,
    registration_id: UUID | None = None,
    topic: str = topics.REGISTRATIONS,
) -> None:
    """Publish and wait for acks=all within the timeout, or raise KafkaUnavailable."""
    try:
        async with asyncio.timeout(deps.publish_timeout_s):
            await publish_event(deps.broker, topic, event, key=key)
    except Exception as error:
        log.error(
            "registration.publish_failed",
            registration_id=str(registration_id) if registration_id else None,
            event_id=str(event.event_id),
            event_type=event.event_type,
            error=type(error).__name__,
        )
        raise KafkaUnavailable from error
