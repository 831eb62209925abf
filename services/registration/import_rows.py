"""Turn rows of a participants' CSV (as municipalities send them) into registration requests."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LIST_FIELDS = ("preferences", "unavailable_dates")
BOOL_FIELDS = ("consent_email", "consent_sms")
TEXT_FIELDS = ("programme_id", "full_name", "email", "phone", "organisation", "role", "language")
YES = frozenset({"yes", "y", "true", "1", "da", "x"})
NO = frozenset({"no", "n", "false", "0", "ne"})


class RowError(ValueError):
    """A cell that cannot be read, before anything is sent."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field, self.reason = field, reason


@dataclass(frozen=True)
class RowProblem:
    """One line of the error report."""

    row: int
    field: str
    reason: str


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(spreadsheet row number, cells) for every data row; `,`, `;` or tab separated, BOM tolerated."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        sample = handle.readline()
        handle.seek(0)
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample else csv.excel
        for index, row in enumerate(csv.DictReader(handle, dialect=dialect), start=2):
            cells = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k}
            if any(cells.values()):
                yield index, cells


def _boolean(field: str, value: str) -> bool | None:
    if not value:
        return None
    if value.lower() in YES:
        return True
    if value.lower() in NO:
        return False
    raise RowError(field, "write yes or no")


def payload(cells: dict[str, str], default_programme: str | None) -> dict[str, Any]:
    """The JSON body for POST /registrations; unknown columns are sent so the API names them."""
    body: dict[str, Any] = {
        k: v for k, v in cells.items() if v and k not in (*LIST_FIELDS, *BOOL_FIELDS)
    }
    if default_programme and not body.get("programme_id"):
        body["programme_id"] = default_programme
    for field in LIST_FIELDS:
        body[field] = cells.get(field, "").replace(";", " ").replace(",", " ").split()
    for field in BOOL_FIELDS:
        value = _boolean(field, cells.get(field, ""))
        if value is not None:
            body[field] = value
    return body


def idempotency_key(body: dict[str, Any]) -> str:
    """The same row imported again sends the same key."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False)
    return "import-" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


def write_report(path: Path, problems: list[RowProblem]) -> None:
    """Write row, field and reason of every problem as CSV."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "field", "reason"])
        writer.writerows([p.row, p.field, p.reason] for p in problems)
