"""The scheduler's pure rules: assignment, the waitlist, staff changes. No I/O, no clock."""

from services.scheduler.domain.assignment import (
    Decision,
    Offer,
    Request,
    Slot,
    acceptable,
    assign,
    municipality_key,
    ordinal,
    speaks,
)
from services.scheduler.domain.book import (
    HELD,
    Book,
    Change,
    Placement,
    UnknownRegistration,
    WaitlistPolicy,
)

__all__ = [
    "HELD",
    "Book",
    "Change",
    "Decision",
    "Offer",
    "Placement",
    "Request",
    "Slot",
    "UnknownRegistration",
    "WaitlistPolicy",
    "acceptable",
    "assign",
    "municipality_key",
    "ordinal",
    "speaks",
]
