"""Event contracts: the only API between services, frozen and versioned."""

from shared.contracts.catalogue import SessionPublishedV1
from shared.contracts.consent import SmsConsentChangedV1
from shared.contracts.envelope import Contract, Event, envelope
from shared.contracts.notification import NotificationOutcomeV1
from shared.contracts.people import TRUSTED, Language, Registrant, Trainer
from shared.contracts.registration import RegistrationSubmittedV1
from shared.contracts.requests import (
    CancellationRequestedV1,
    ErasureRequestedV1,
    OfferAnsweredV1,
    RegistrationStreamEvent,
)
from shared.contracts.scheduling import (
    PlacementEvent,
    RegistrationCancelledV1,
    RegistrationWaitlistedV1,
    SeatAssignedV1,
    SeatOfferedV1,
    SeatReleasedV1,
    SeatUpdatedV1,
    SessionDay,
    SessionSnapshot,
    Venue,
)

ALL_EVENTS: tuple[type[Event], ...] = (
    RegistrationSubmittedV1,
    CancellationRequestedV1,
    OfferAnsweredV1,
    ErasureRequestedV1,
    SeatAssignedV1,
    SeatUpdatedV1,
    SeatReleasedV1,
    SeatOfferedV1,
    RegistrationWaitlistedV1,
    RegistrationCancelledV1,
    SessionPublishedV1,
    SmsConsentChangedV1,
    NotificationOutcomeV1,
)

__all__ = [
    "ALL_EVENTS",
    "TRUSTED",
    "CancellationRequestedV1",
    "Contract",
    "ErasureRequestedV1",
    "Event",
    "Language",
    "NotificationOutcomeV1",
    "OfferAnsweredV1",
    "PlacementEvent",
    "Registrant",
    "RegistrationCancelledV1",
    "RegistrationStreamEvent",
    "RegistrationSubmittedV1",
    "RegistrationWaitlistedV1",
    "SeatAssignedV1",
    "SeatOfferedV1",
    "SeatReleasedV1",
    "SeatUpdatedV1",
    "SessionDay",
    "SessionPublishedV1",
    "SessionSnapshot",
    "SmsConsentChangedV1",
    "Trainer",
    "Venue",
    "envelope",
]
