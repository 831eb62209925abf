"""CLI: `python -m deploy.kafka resolve` | `python -m deploy.kafka run --data-dir DIR [--port N]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deploy.kafka.launcher import KafkaLaunchError, LocalKafka, resolve_jars
from deploy.signals import wait_for_stop_signal


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m deploy.kafka", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("resolve", help="fetch the broker's jars (once) and print their folder")
    run = commands.add_parser("run", help="run a local broker until SIGINT or SIGTERM")
    run.add_argument("--data-dir", type=Path, required=True, help="the broker's state folder")
    run.add_argument("--port", type=int, default=None, help="client port (default: saved or free)")
    run.add_argument("--controller-port", type=int, default=None, help="KRaft controller port")
    run.add_argument("--heap", default="512m", help="JVM max heap, e.g. 512m or 1g")
    return parser


def _run(args: argparse.Namespace) -> None:
    kafka = LocalKafka(
        args.data_dir, port=args.port, controller_port=args.controller_port, heap=args.heap
    )
    kafka.start()
    try:
        print(kafka.bootstrap_servers, flush=True)
        wait_for_stop_signal()
    finally:
        kafka.stop()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the process exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "resolve":
            print(resolve_jars())
        else:
            _run(args)
    except KafkaLaunchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
