"""Event contracts: the only API between services, frozen and versioned."""

from shared.contracts.envelope import Contract, Event, envelope
from shared.contracts.notification import NotificationOutcomeV1
from shared.contracts.people import Language, Registrant, Trainer
from shared.contracts.registration import RegistrationSubmittedV1
from shared.contracts.scheduling import (
    PlacementEvent,
    RegistrationWaitlistedV1,
    SeatAssignedV1,
    SessionDay,
    SessionSnapshot,
    Venue,
)

ALL_EVENTS: tuple[type[Event], ...] = (
    RegistrationSubmittedV1,
    SeatAssignedV1,
    RegistrationWaitlistedV1,
    NotificationOutcomeV1,
)

__all__ = [
    "ALL_EVENTS",
    "Contract",
    "Event",
    "Language",
    "NotificationOutcomeV1",
    "PlacementEvent",
    "Registrant",
    "RegistrationSubmittedV1",
    "RegistrationWaitlistedV1",
    "SeatAssignedV1",
    "SessionDay",
    "SessionSnapshot",
    "Trainer",
    "Venue",
    "envelope",
]
