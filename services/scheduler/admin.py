"""`python -m services.scheduler.admin`: staff manage sessions through the scheduler's admin API.

Examples:
    admin list social-networks-lsg
    admin reschedule social-networks-lsg sn-training-2 --dates 2027-06-17 2027-06-18 --start 09:30 --end 16:30
    admin relocate social-networks-lsg sn-training-2 --venue "SKIP Center" --city Belgrade --room 2
    admin relink social-networks-lsg sn-mentoring-1 https://meet.jit.si/new-room
    admin capacity social-networks-lsg sn-training-2 20
    admin cancel social-networks-lsg sn-training-5
    admin create social-networks-lsg session.yaml
    admin load deploy/seed/programmes.yaml
The API address and token come from SCHEDULER_ADMIN_URL and STAFF_API_TOKEN (or --url, --token).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import yaml
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class CliSettings(BaseSettings):
    """Where the admin API is, and the staff token to present."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    scheduler_admin_url: str = "http://127.0.0.1:8010"
    staff_api_token: SecretStr | None = None


def parser() -> argparse.ArgumentParser:
    """The command line: one subcommand per staff action."""
    cli = argparse.ArgumentParser(
        prog="python -m services.scheduler.admin",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cli.add_argument("--url", help="admin API base URL (default: $SCHEDULER_ADMIN_URL)")
    cli.add_argument("--token", help="staff bearer token (default: $STAFF_API_TOKEN)")
    sub = cli.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list a programme's sessions").add_argument("programme")
    create = sub.add_parser("create", help="create a session from a YAML or JSON file")
    create.add_argument("programme")
    create.add_argument("file", type=Path)
    sub.add_parser("load", help="load whole programmes from a catalogue YAML file").add_argument(
        "file", type=Path
    )
    _session_commands(sub)
    return cli


def _session_commands(sub: Any) -> None:
    def session_parser(name: str, text: str) -> argparse.ArgumentParser:
        command: argparse.ArgumentParser = sub.add_parser(name, help=text)
        command.add_argument("programme")
        command.add_argument("session")
        return command

    move = session_parser("reschedule", "move a session to other dates and hours")
    move.add_argument("--dates", nargs="+", required=True, help="YYYY-MM-DD, one per day")
    move.add_argument("--start", required=True, help="HH:MM, local time")
    move.add_argument("--end", required=True, help="HH:MM, local time")
    move.add_argument("--deadline", help="new registration deadline, YYYY-MM-DDTHH:MM local")
    venue = session_parser("relocate", "move an in-person session to another venue")
    venue.add_argument("--venue", required=True)
    venue.add_argument("--city", required=True)
    venue.add_argument("--address")
    venue.add_argument("--room")
    session_parser("relink", "change an online session's meeting link").add_argument("url")
    session_parser("capacity", "change a session's capacity").add_argument("capacity", type=int)
    session_parser("cancel", "cancel a session")


def request_for(args: argparse.Namespace) -> tuple[str, str, Any]:
    """The HTTP method, path and JSON body (or YAML text) for a parsed command."""
    base = f"/admin/programmes/{getattr(args, 'programme', '')}/sessions"
    one = f"{base}/{getattr(args, 'session', '')}"
    match args.command:
        case "list":
            return "GET", base, None
        case "create":
            return "POST", base, yaml.safe_load(args.file.read_text(encoding="utf-8"))
        case "load":
            return "POST", "/admin/catalogue", args.file.read_text(encoding="utf-8")
        case "reschedule":
            body = {"dates": args.dates, "start": args.start, "end": args.end}
            return (
                "PATCH",
                one,
                body | ({"registration_deadline": args.deadline} if args.deadline else {}),
            )
        case "relocate":
            venue = {
                "name": args.venue,
                "city": args.city,
                "address": args.address,
                "room": args.room,
            }
            return "PATCH", one, {"mode": "in_person", "venue": venue}
        case "relink":
            return "PATCH", one, {"mode": "online", "online_url": args.url}
        case "capacity":
            return "PATCH", one, {"capacity": args.capacity}
        case "cancel":
            return "POST", f"{one}/cancel", None
    raise SystemExit(f"unknown command {args.command}")


def main(argv: Sequence[str] | None = None, *, transport: httpx.BaseTransport | None = None) -> int:
    """Run one command; print the API's JSON answer; exit 1 on an error answer."""
    args = parser().parse_args(argv)
    settings = CliSettings()
    token = args.token or (
        settings.staff_api_token.get_secret_value() if settings.staff_api_token else ""
    )
    method, path, body = request_for(args)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    content: dict[str, Any] = {}
    if isinstance(body, str):
        content = {
            "content": body.encode(),
            "headers": headers | {"Content-Type": "application/yaml"},
        }
    else:
        content = {"json": body, "headers": headers}
    with httpx.Client(
        base_url=args.url or settings.scheduler_admin_url, transport=transport, timeout=30
    ) as client:
        response = client.request(method, path, **content)
    print(json.dumps(response.json(), indent=2, ensure_ascii=False))
    return 0 if response.is_success else 1


if __name__ == "__main__":
    sys.exit(main())
