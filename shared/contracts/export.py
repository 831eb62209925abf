"""Export the JSON Schema of every event into a folder: `python -m shared.contracts.export docs/schemas`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from shared.contracts import ALL_EVENTS


def schema_file_name(event: type) -> str:
    """Name the schema file of an event class, e.g. `seat.assigned.v1.json`."""
    fields = event.model_fields  # type: ignore[attr-defined]
    return f"{fields['event_type'].default}.v{fields['event_version'].default}.json"


def export_schemas(target: Path) -> list[Path]:
    """Write one JSON Schema file per event into `target` and return their paths."""
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for event in ALL_EVENTS:
        path = target / schema_file_name(event)
        schema = event.model_json_schema(mode="serialization")
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
        written.append(path)
    return written


def main() -> None:
    """Command-line entry point."""
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas")
    for path in export_schemas(target):
        print(path)


if __name__ == "__main__":
    main()
