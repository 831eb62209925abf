"""The catalogue as the registration service sees it: the YAML file, then the scheduler's updates."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from services.registration.session_order import SessionsInOrder
from shared.catalogue import Catalogue, Programme, Session
from shared.contracts import SessionPublishedV1

SNAPSHOT_FIELDS = {"title", "mode", "timezone", "venue", "online_url", "language", "trainers"}


def session_from(
    event: SessionPublishedV1, programme: Programme, current: Session | None
) -> Session:
    """A catalogue session rebuilt from a published snapshot (local days in its own zone).

    It keeps the phase of `current`, the version it replaces, if there is one.
    """
    snap, zone = event.session, ZoneInfo(event.session.timezone)
    days = [
        {
            "date": day.starts_at.astimezone(zone).date(),
            "start": day.starts_at.astimezone(zone).time(),
            "end": day.ends_at.astimezone(zone).time(),
        }
        for day in snap.days
    ]
    if current is not None:
        phase = current.phase
    else:
        phase = _phase_for(programme, snap.days[0].starts_at.astimezone(zone).date())
    return Session.model_validate(
        {
            **snap.model_dump(include=SNAPSHOT_FIELDS),
            "id": snap.session_id,
            "programme_id": programme.id,
            "phase": phase,
            "days": days,
            "capacity": max(1, event.capacity),
            "registration_deadline": event.registration_deadline,
        }
    )


def _phase_for(programme: Programme, first_day: date) -> str:
    """The phase whose dates hold the session's first day, else the last phase."""
    for phase in programme.phases:
        if phase.starts_on and phase.ends_on and phase.starts_on <= first_day <= phase.ends_on:
            return phase.id
    return programme.phases[-1].id


class CatalogueView:
    """Programmes and sessions, kept current from SessionPublishedV1 events (newest revision wins)."""

    def __init__(self, base: Catalogue) -> None:
        self.catalogue = base
        self.revisions: dict[str, int] = {}
        self.cancelled: set[str] = set()
        self.in_order: dict[str, SessionsInOrder] = {}  # by programme: the sessions it last sorted

    @property
    def programmes(self) -> tuple[Programme, ...]:
        """Every programme."""
        return self.catalogue.programmes

    def programme(self, programme_id: str) -> Programme:
        """The programme with that id, or UnknownProgramme."""
        return self.catalogue.programme(programme_id)

    def apply(self, event: SessionPublishedV1) -> bool:
        """Take a session update unless a newer one was applied; False if it changed nothing."""
        session_id = event.session.session_id
        if self.revisions.get(session_id, 0) >= event.revision:
            return False
        programme = self.programme(event.session.programme_id)
        order = self.in_order.get(programme.id)
        if order is None or order.sessions is not programme.sessions:
            order = self.in_order[programme.id] = SessionsInOrder(programme.sessions)
        updated = session_from(event, programme, order.by_id.get(session_id))
        programme = programme.model_copy(update={"sessions": order.put(updated)})
        programmes = tuple(programme if p.id == programme.id else p for p in self.programmes)
        self.catalogue = self.catalogue.model_copy(update={"programmes": programmes})
        self.revisions[session_id] = event.revision
        if event.status == "cancelled":
            self.cancelled.add(session_id)
        else:
            self.cancelled.discard(session_id)
        return True

    def is_open(self, session: Session, now: datetime) -> bool:
        """Whether people can still ask for this session."""
        if session.id in self.cancelled:
            return False
        return session.deadline is None or session.deadline > now
