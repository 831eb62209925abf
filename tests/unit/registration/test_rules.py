"""Pure rules of the registration service: ids, retention, phone countries, CSV cells and rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.registration.auth import token_matches
from services.registration.domain import (
    erasure_event_id,
    offer_answer_event_id,
    past_retention,
    programme_end,
    region_allowed,
    registration_id_for,
)
from services.registration.export import cell
from services.registration.form import message_key
from services.registration.import_rows import RowError, idempotency_key, payload, read_rows
from services.registration.settings import RegistrationSettings

pytestmark = pytest.mark.unit


def test_registration_id_is_stable_per_normalised_email_and_programme() -> None:
    same = registration_id_for("p", " Ana@Example.ORG ")
    assert same == registration_id_for("p", "ana@example.org")
    assert same != registration_id_for("q", "ana@example.org")


def test_request_event_ids_are_deterministic_and_distinct() -> None:
    rid = registration_id_for("p", "ana@example.org")
    assert erasure_event_id(rid) == erasure_event_id(rid)
    assert offer_answer_event_id(rid, 1) != offer_answer_event_id(rid, 2)


def test_programme_end_is_the_latest_phase_or_session_day() -> None:
    assert programme_end([date(2027, 5, 1), None], [date(2027, 6, 9)]) == date(2027, 6, 9)
    assert programme_end([date(2027, 12, 15)], [date(2027, 6, 9)]) == date(2027, 12, 15)
    assert programme_end([None], []) is None


@pytest.mark.parametrize(
    ("today", "expired"),
    [(date(2027, 8, 20), False), (date(2027, 8, 21), False), (date(2027, 8, 22), True)],
)
def test_retention_counts_whole_days_after_the_end(today: date, expired: bool) -> None:
    assert past_retention(date(2027, 7, 22), today, 30) is expired
    assert past_retention(None, today, 0) is False


def test_default_phone_countries_are_the_western_balkans() -> None:
    allowed = RegistrationSettings().allowed_phone_regions()
    assert allowed == {"RS", "BA", "ME", "MK", "HR", "AL", "XK"}
    assert region_allowed("+38970123456", allowed)  # North Macedonia
    assert region_allowed("+355691234567", allowed)  # Albania
    assert not region_allowed("+4915123456789", allowed)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("=1+2", "'=1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-5", "'-5"),
        ("+381641234567", "+381641234567"),
        ("+cmd", "'+cmd"),
        (True, "yes"),
        (["a", "b"], "a b"),
        (None, ""),
    ],
)
def test_csv_cells_never_run_as_formulas(value: object, shown: str) -> None:
    assert cell(value) == shown


@given(st.text(min_size=1, max_size=40))
def test_only_a_configured_token_matches(presented: str) -> None:
    tokens = ("staff-token-0123456789abcdef",)
    assert token_matches(presented, tokens) is (presented == tokens[0])
    assert token_matches(presented, ()) is False


def test_form_messages_per_problem() -> None:
    assert message_key("email", "value_error", "not an email") == "error.email"
    assert message_key("full_name", "missing", "") == "error.required"
    assert message_key("phone", "rejected", "from this country") == "error.phone_country"
    assert message_key("preferences.1", "rejected", "unknown session") == "error.unknown_session"
    assert message_key("role", "string_pattern_mismatch", "") == "error.invalid_chars"


def test_import_rows_lists_booleans_and_bad_values(tmp_path: Path) -> None:
    source = tmp_path / "rows.csv"
    source.write_text(
        "Full_Name;Email;Preferences;Consent_SMS\nAna;ana@example.org;a, b;DA\n;;;\n",
        encoding="utf-8",
    )
    [(number, cells)] = list(read_rows(source))
    assert number == 2
    body = payload(cells, "social-networks-lsg")
    assert body == {
        "full_name": "Ana",
        "email": "ana@example.org",
        "programme_id": "social-networks-lsg",
        "preferences": ["a", "b"],
        "unavailable_dates": [],
        "consent_sms": True,
    }
    assert idempotency_key(body) == idempotency_key(dict(reversed(body.items())))
    with pytest.raises(RowError) as error:
        payload({**cells, "consent_sms": "maybe"}, None)
    assert error.value.field == "consent_sms"
