"""Registrations as CSV for staff spreadsheets."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from services.registration.schemas import StaffRegistration

COLUMNS = tuple(StaffRegistration.model_fields)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """Render one value; text a spreadsheet would run as a formula is quoted with a leading '."""
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) and not _is_phone(text) else text


def _is_phone(text: str) -> bool:
    return text.startswith("+") and text[1:].isdigit()


def registrations_csv(registrations: Sequence[StaffRegistration]) -> str:
    """A CSV with a header row and one row per registration."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for registration in registrations:
        data = registration.model_dump()
        writer.writerow([cell(data[name]) for name in COLUMNS])
    return buffer.getvalue()
