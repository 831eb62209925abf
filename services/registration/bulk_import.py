"""Import a CSV of participants through the API: `python -m services.registration.bulk_import FILE.csv --api URL --token T`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from services.registration.import_rows import (
    RowError,
    RowProblem,
    idempotency_key,
    payload,
    read_rows,
    write_report,
)

RETRIES = 5
MAX_WAIT_S = 30.0


@dataclass
class ImportReport:
    """How an import went."""

    rows: int = 0
    accepted: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    report_path: Path | None = None

    @property
    def failed_rows(self) -> int:
        """How many rows were not accepted."""
        return len({p.row for p in self.problems})


async def post_row(client: httpx.AsyncClient, body: dict[str, Any], sleep: Any) -> httpx.Response:
    """POST one registration, waiting out 429 and 503 answers (Retry-After, bounded)."""
    headers = {"Idempotency-Key": idempotency_key(body)}
    for _ in range(RETRIES):
        response = await client.post("/registrations", json=body, headers=headers)
        if response.status_code not in (429, 503):
            return response
        await sleep(min(MAX_WAIT_S, float(response.headers.get("Retry-After", "1"))))
    return response


class TokenRefused(RuntimeError):
    """The API refused the staff token: nothing can be imported."""


async def check_token(client: httpx.AsyncClient) -> None:
    """Make sure the token is a staff token before sending anything (else TokenRefused)."""
    response = await client.get("/staff/registrations", params={"programme_id": "-"})
    if response.status_code != 200:
        raise TokenRefused("the staff token was refused")


def problems_of(row: int, response: httpx.Response) -> list[RowProblem]:
    """The API's per-field errors as report lines."""
    if response.status_code in (401, 403):
        raise TokenRefused("the staff token was refused")
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code == 422 and body.get("errors"):
        return [RowProblem(row, e["field"], e["message"]) for e in body["errors"]]
    return [RowProblem(row, "", f"HTTP {response.status_code}: {body.get('detail', '')}")]


async def import_file(
    path: Path,
    client: httpx.AsyncClient,
    *,
    programme: str | None = None,
    progress: Progress | None = None,
    sleep: Any = asyncio.sleep,
) -> ImportReport:
    """Send every row; write `<file>.errors.csv` (row, field, reason) next to the input."""
    await check_token(client)
    rows = list(read_rows(path))
    report = ImportReport(rows=len(rows))
    task = progress.add_task("importing", total=len(rows)) if progress else None
    for number, cells in rows:
        try:
            response = await post_row(client, payload(cells, programme), sleep)
        except RowError as error:
            report.problems.append(RowProblem(number, error.field, error.reason))
        else:
            if response.status_code == 202:
                report.accepted += 1
            else:
                report.problems.extend(problems_of(number, response))
        if progress is not None and task is not None:
            progress.advance(task)
    report.report_path = path.with_suffix(".errors.csv")
    write_report(report.report_path, report.problems)
    return report


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description="Import participants from a CSV file.")
    parser.add_argument("file", type=Path, help="CSV with a header row (see docs/registration.md)")
    parser.add_argument(
        "--api", required=True, help="registration service URL, e.g. http://127.0.0.1:8000"
    )
    parser.add_argument("--token", required=True, help="a staff token from STAFF_API_TOKENS")
    parser.add_argument("--programme", help="programme id for rows without a programme_id column")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace, console: Console) -> ImportReport:
    """Import with a progress bar on the console."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    auth = {"Authorization": f"Bearer {args.token}"}
    async with httpx.AsyncClient(base_url=args.api, headers=auth, timeout=30) as client:
        with Progress(*columns, console=console) as progress:
            return await import_file(args.file, client, programme=args.programme, progress=progress)


def main(argv: list[str] | None = None) -> int:
    """Run the import; exit 0 when every row was accepted, 1 when some failed, 2 if refused."""
    args = parse_args(argv)
    console = Console(stderr=True)
    try:
        report = asyncio.run(run(args, console))
    except TokenRefused as error:
        console.print(f"[red]{error}[/red]")
        return 2
    console.print(
        f"{report.accepted} of {report.rows} rows accepted; {report.failed_rows} with errors."
    )
    if report.problems:
        console.print(f"Per-row errors: {report.report_path}")
    return 0 if not report.problems else 1


if __name__ == "__main__":
    sys.exit(main())
