"""Single-statement upserts (registration rows, idempotency keys) for SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from services.registration.schemas import RegistrationStatus
from services.registration.tables import RegistrationRow
from shared.contracts import RegistrationSubmittedV1

TABLE: Table = RegistrationRow.__table__  # type: ignore[assignment]
PERSON_COLUMNS = (
    "full_name",
    "email",
    "phone",
    "organisation",
    "role",
    "language",
    "consent_email",
    "consent_sms",
    "preferences",
    "unavailable_dates",
    "erased_at",
)
STATUS_COLUMNS = (
    "status",
    "session_id",
    "waitlist_position",
    "reason",
    "offer_expires_at",
    "revision",
    "updated_at",
)


def _insert(dialect_name: str, table: Table = TABLE) -> sqlite.Insert | postgresql.Insert:
    if dialect_name == "sqlite":
        return sqlite.insert(table)
    if dialect_name == "postgresql":
        return postgresql.insert(table)
    raise NotImplementedError(f"no upsert for {dialect_name}")


def insert_ignoring_duplicates(dialect_name: str, table: Table) -> Insert:
    """An INSERT for many rows that leaves rows already present (by primary key) as they are."""
    return _insert(dialect_name, table).on_conflict_do_nothing()


def submitted_upsert(dialect_name: str) -> Insert:
    """Insert a submission; if the row exists (a placement came first, a resubmission) set the person only."""
    insert = _insert(dialect_name)
    return insert.on_conflict_do_update(
        index_elements=[TABLE.c.registration_id],
        set_={name: insert.excluded[name] for name in PERSON_COLUMNS},
    )


def status_upsert(dialect_name: str) -> Insert:
    """Insert or update a decision, unless the stored one has a newer revision (redelivery)."""
    insert = _insert(dialect_name)
    return insert.on_conflict_do_update(
        index_elements=[TABLE.c.registration_id],
        set_={name: insert.excluded[name] for name in STATUS_COLUMNS},
        where=TABLE.c.revision <= insert.excluded.revision,
    )


def submitted_values(event: RegistrationSubmittedV1) -> dict[str, Any]:
    """The row of an accepted registration, with its personal data."""
    person = event.registrant
    return {
        "registration_id": event.registration_id,
        "programme_id": event.programme_id,
        "status": "pending",
        "revision": 0,
        "submitted_at": event.occurred_at,
        "updated_at": event.occurred_at,
        "full_name": person.full_name,
        "email": person.email,
        "phone": person.phone,
        "organisation": person.organisation,
        "role": person.role,
        "language": person.language,
        "consent_email": person.consent_email,
        "consent_sms": person.consent_sms,
        "preferences": list(event.preferences),
        "unavailable_dates": [d.isoformat() for d in event.unavailable_dates],
        "erased_at": None,
    }


def status_values(status: RegistrationStatus) -> dict[str, Any]:
    """The row of a decision (a placement may arrive before the submission's row)."""
    return {
        "registration_id": status.registration_id,
        "programme_id": status.programme_id,
        "submitted_at": status.updated_at,
        **{name: getattr(status, name) for name in STATUS_COLUMNS},
    }
