"""Event contracts are frozen, versioned, strict and exported as JSON Schema."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from uuid import uuid4

import pytest
from pydantic import ValidationError

from shared.contracts import ALL_EVENTS, TRUSTED, Registrant, RegistrationSubmittedV1, envelope
from shared.contracts.export import export_schemas

pytestmark = pytest.mark.unit

BELGRADE_SUMMER = timezone(timedelta(hours=2))
REGISTRANT = {"full_name": "Ana Anić", "email": "ana@example.org", "organisation": "Grad Niš"}


def submitted(**overrides: object) -> RegistrationSubmittedV1:
    fields: dict[str, object] = {
        **envelope(
            producer="registration",
            correlation_id="c-1",
            now=datetime(2027, 6, 1, 10, tzinfo=BELGRADE_SUMMER),
        ),
        "registration_id": uuid4(),
        "programme_id": "social-networks-lsg",
        "registrant": Registrant(
            full_name="Ana Anić", email="ana@example.org", organisation="Grad Niš"
        ),
        **overrides,
    }
    return RegistrationSubmittedV1.model_validate(fields)


def test_envelope_is_complete_and_in_utc() -> None:
    event = submitted()
    assert event.event_type == "registration.submitted"
    assert event.event_version == 1
    assert event.occurred_at.utcoffset() == timedelta(0)
    assert event.occurred_at.hour == 8
    assert event.producer == "registration"
    assert event.correlation_id == "c-1"


def test_events_are_frozen() -> None:
    event = submitted()
    with pytest.raises(ValidationError):
        event.programme_id = "other"  # type: ignore[misc]


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match=r"extra_forbidden|Extra inputs"):
        submitted(surprise=True)


def test_naive_times_and_wrong_versions_are_refused() -> None:
    with pytest.raises(ValidationError):
        submitted(occurred_at=datetime(2027, 6, 1, 10))
    with pytest.raises(ValidationError):
        submitted(event_version=2)


@pytest.mark.parametrize("bad", ["Ana\r\nBcc: x@example.org", "Ana\nAnić", "tab\there", ""])
def test_single_line_text_refuses_control_characters(bad: str) -> None:
    with pytest.raises(ValidationError):
        Registrant(full_name=bad, email="ana@example.org", organisation="Grad Niš")


def test_round_trip_through_json() -> None:
    event = submitted()
    assert RegistrationSubmittedV1.model_validate_json(event.model_dump_json()) == event


def test_every_event_exports_a_schema(tmp_path: Path) -> None:
    written = export_schemas(tmp_path)
    assert len(written) == len(ALL_EVENTS)
    names = {p.name for p in written}
    assert "registration.submitted.v1.json" in names
    assert "seat.assigned.v1.json" in names
    schema = json.loads((tmp_path / "registration.submitted.v1.json").read_text())
    assert schema["additionalProperties"] is False
    assert {"event_id", "occurred_at", "correlation_id", "producer"} <= set(schema["required"])


def test_committed_schemas_are_current(tmp_path: Path) -> None:
    committed = Path(__file__).resolve().parents[3] / "docs" / "schemas"
    for path in export_schemas(tmp_path):
        assert (committed / path.name).read_text() == path.read_text(), (
            f"run `make schemas`: {path.name}"
        )


@pytest.mark.parametrize("address", ["ana@opstina.example", "a.b+c@x-y.example", "o'neil@grad.rs"])
def test_an_address_our_services_wrote_is_taken_by_its_shape(address: str) -> None:
    registrant = Registrant.model_validate({**REGISTRANT, "email": address}, context=TRUSTED)
    assert registrant.email == address


@pytest.mark.parametrize(
    "address", ["ana@x.example\r\nBcc: b@c.d", "ana @x.example", "ana", "a@b@c", "ana@", "đ@x.rs"]
)
def test_a_malformed_address_is_refused_even_in_what_our_services_wrote(address: str) -> None:
    with pytest.raises(ValidationError, match="email"):
        Registrant.model_validate({**REGISTRANT, "email": address}, context=TRUSTED)


def test_where_an_address_comes_in_it_is_checked_in_full() -> None:
    Registrant.model_validate({**REGISTRANT, "email": "ana@localhost"}, context=TRUSTED)  # shape
    with pytest.raises(ValidationError, match="email"):
        Registrant.model_validate({**REGISTRANT, "email": "ana@localhost"})  # special-use domain
