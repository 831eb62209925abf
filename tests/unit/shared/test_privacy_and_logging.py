"""Logs are JSON lines with the service and correlation id, and never carry personal data."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog

from shared.logging import configure_logging, get_logger
from shared.privacy import redact_text

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to ana.anic@grad-nis.rs now", "write to [email] now"),
        ("call +381 64 123 4567", "call [phone]"),
        ("call 064/123-4567 please", "call [phone] please"),
        (
            "registration 3f2c9a1e-0d4b-4c55-9a0e-2b8f6f0e1c11",
            "registration 3f2c9a1e-0d4b-4c55-9a0e-2b8f6f0e1c11",
        ),
        ("offset 1234567", "offset 1234567"),
        ("+387 61 123 456 and +1 202 555 0143", "[phone] and [phone]"),
        ("at 2027-06-08T07:30:00Z", "at 2027-06-08T07:30:00Z"),
        ("running on http://127.0.0.1:8000", "running on http://127.0.0.1:8000"),
        (
            "6f1c9b7e-2f4a-4c1e-9a43-0d8e5b1f2a10:ppz-bg-06:reminder.email-1440m:2",
            "6f1c9b7e-2f4a-4c1e-9a43-0d8e5b1f2a10:ppz-bg-06:reminder.email-1440m:2",
        ),
        (
            "6f1c9b7e-2f4a-4c1e-9a43-0d8e5b1f2a10:+381641234567",
            "6f1c9b7e-2f4a-4c1e-9a43-0d8e5b1f2a10:[phone]",
        ),
        ("landline 011 2345-67-89", "landline [phone]"),
        ("2027-06-08 call 064/123-4567", "2027-06-08 call [phone]"),
    ],
)
def test_redact_text(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def capture(service: str = "scheduler") -> io.StringIO:
    stream = io.StringIO()
    configure_logging(service, fmt="json", stream=stream)
    return stream


def test_json_line_with_service_event_and_correlation_id() -> None:
    stream = capture()
    with structlog.contextvars.bound_contextvars(correlation_id="abc-123"):
        get_logger("t").info("placement.assigned", registration_id="r-1")
    record = json.loads(stream.getvalue().strip())
    assert record["event"] == "placement.assigned"
    assert record["service"] == "scheduler"
    assert record["correlation_id"] == "abc-123"
    assert record["level"] == "info"
    assert record["timestamp"].endswith("Z")


def test_a_service_binds_each_logger_once_and_every_line_stays_redacted_and_correlated() -> None:
    stream = io.StringIO()
    configure_logging("notifier", fmt="json", stream=stream, for_the_process=True)
    try:
        log = get_logger("tests.bound_once")
        with structlog.contextvars.bound_contextvars(correlation_id="c-1"):
            log.info("invite.sent", note="to ana@example.org")
        log.info("invite.sent", registration_id="r-2")
        assert "bind" in vars(log)  # the proxy keeps the logger it bound first
    finally:
        capture()  # configured again as the other tests are: nothing cached from here on
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [r.get("correlation_id") for r in records] == ["c-1", None]
    assert [r["service"] for r in records] == ["notifier", "notifier"]
    assert records[0]["note"] == "to [email]"


def test_personal_fields_and_values_are_redacted_in_structlog_and_stdlib() -> None:
    stream = capture()
    get_logger("t").info(
        "oops", email="ana@example.org", full_name="Ana Anić", note="mail ana@example.org"
    )
    logging.getLogger("third.party").warning("failed for ana@example.org at +381641234567")
    output = stream.getvalue()
    assert "ana@example.org" not in output
    assert "Ana Anić" not in output
    assert "+381641234567" not in output
    assert output.count("\n") == 2
    assert all(json.loads(line)["service"] == "scheduler" for line in output.splitlines())


@pytest.mark.parametrize(
    "identifier",
    [
        "a4e9af87-a64b-4afb-9ab5-381601234567",  # its last group reads like a Serbian number
        "a4e9af87a64b4afb9ab5381601234567",
        "2026-11-23T18:51:39.123456Z",
        "2027-03-01",
    ],
)
def test_whole_identifiers_and_timestamps_are_never_mangled(identifier: str) -> None:
    assert redact_text(identifier) == identifier
    assert redact_text(f"call {identifier} at +381 60 1234567") == f"call {identifier} at [phone]"
