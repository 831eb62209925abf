"""A generated programme with many sessions, for load: written as the catalogue YAML the services read."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

TRAINER = "trainer@example.org"  # every session's trainer: one invite per session at start

PROGRAMME = "opening-day"
FIRST_DAY = date(2027, 3, 1)


def session(index: int, capacity: int) -> dict[str, Any]:
    """One in-person training session; sessions spread over weekdays of 2027."""
    day = FIRST_DAY + timedelta(days=index // 4)
    return {
        "id": f"od-{index:04d}",
        "phase": "training",
        "title": f"Opening-day training {index + 1}",
        "mode": "in_person",
        "timezone": "Europe/Belgrade",
        "dates": [day.isoformat()],
        "start": "09:30",
        "end": "16:30",
        "venue": {"name": "SKIP Center", "city": "Belgrade"},
        "capacity": capacity,
        "language": "sr-Latn",
        "trainers": [{"full_name": "Bench Trainer", "email": TRAINER}],
    }


def write_catalogue(path: Path, *, sessions: int, capacity: int) -> Path:
    """Write a one-programme catalogue with `sessions` sessions of `capacity` seats each."""
    last = FIRST_DAY + timedelta(days=sessions // 4 + 1)
    document = {
        "programmes": [
            {
                "id": PROGRAMME,
                "title": "Opening day: many sessions, many registrants",
                "mode": "first_come",
                "phases": [
                    {
                        "id": "training",
                        "title": "Trainings",
                        "starts_on": FIRST_DAY.isoformat(),
                        "ends_on": last.isoformat(),
                    }
                ],
                "sessions": [session(i, capacity) for i in range(sessions)],
            }
        ]
    }
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
