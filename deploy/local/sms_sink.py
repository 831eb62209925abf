"""A local stand-in for an SMS gateway: accepts messages over HTTP and keeps them as JSON files."""

from __future__ import annotations

import argparse
import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, status
from pydantic import BaseModel, ConfigDict, Field

from shared.logging import configure_logging, get_logger

log = get_logger(__name__)

E164 = r"^\+[1-9]\d{6,14}$"


class SmsRequest(BaseModel):
    """One SMS to send; `reference` is the caller's idempotency key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    to: str = Field(pattern=E164, description="The recipient in E.164 form, e.g. +381641234567.")
    text: str = Field(min_length=1, max_length=1600)
    reference: str | None = Field(default=None, min_length=1, max_length=200)


class SmsAccepted(BaseModel):
    """The gateway's receipt."""

    id: str


class SmsFolder:
    """Stored messages, one JSON file each, with an index from reference to id."""

    def __init__(self, sms_dir: Path) -> None:
        self.sms_dir = sms_dir
        self.sms_dir.mkdir(parents=True, exist_ok=True)
        self.ids_by_reference = {
            stored["reference"]: stored["id"] for stored in self.all() if stored.get("reference")
        }

    def all(self) -> list[dict[str, Any]]:
        """Every stored message, oldest first."""
        stored = [json.loads(path.read_text()) for path in self.sms_dir.glob("*.json")]
        return sorted(stored, key=lambda message: (message["received_at"], message["id"]))

    def save(self, request: SmsRequest) -> str:
        """Write the message atomically and return its new id."""
        sms_id = f"sms-{uuid.uuid4().hex}"
        record = {
            **request.model_dump(),
            "id": sms_id,
            "received_at": datetime.now(UTC).isoformat(),
        }
        scratch = self.sms_dir / f".{sms_id}.tmp"
        scratch.write_text(json.dumps(record, ensure_ascii=False, indent=2))
        os.replace(scratch, self.sms_dir / f"{sms_id}.json")
        if request.reference:
            self.ids_by_reference[request.reference] = sms_id
        return sms_id


def create_sms_sink_app(sms_dir: Path) -> FastAPI:
    """Build the sink's HTTP API over a message folder."""
    folder = SmsFolder(Path(sms_dir))
    app = FastAPI(title="Local SMS sink")

    # Handlers are async and never await, so check-then-store cannot interleave.
    @app.post("/messages", status_code=status.HTTP_202_ACCEPTED)
    async def accept(request: SmsRequest) -> SmsAccepted:
        known = folder.ids_by_reference.get(request.reference) if request.reference else None
        if known is not None:
            return SmsAccepted(id=known)
        sms_id = folder.save(request)
        log.info("sms.captured", id=sms_id, reference=request.reference, length=len(request.text))
        return SmsAccepted(id=sms_id)

    @app.get("/messages")
    async def list_messages() -> list[dict[str, Any]]:
        return folder.all()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main(argv: list[str] | None = None) -> None:
    """CLI: serve the sink on --host/--port, storing into --dir."""
    parser = argparse.ArgumentParser(prog="python -m deploy.local.sms_sink")
    parser.add_argument("--dir", type=Path, required=True, help="where message files are written")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8030)
    args = parser.parse_args(argv)
    configure_logging("sms-sink")
    app = create_sms_sink_app(args.dir)
    uvicorn.run(app, host=args.host, port=args.port, log_config=None)


if __name__ == "__main__":
    main()
