"""`make run`: the whole system locally until Ctrl-C."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType

from deploy.local.stack import LocalStack, StackSettings


def banner(stack: LocalStack) -> str:
    """What the operator needs to know once everything is up."""
    data = stack.data_dir
    smtp = (
        f"captured as .eml files in {data / 'mail'}"
        if "smtp-capture" in stack.children
        else f"sent to {stack.env['SMTP_HOST']}:{stack.env['SMTP_PORT']}"
    )
    return "\n".join(
        [
            "",
            "  Training logistics is running.",
            f"  Registration API : {stack.api_url}  (OpenAPI docs: {stack.api_url}/docs)",
            f"  Kafka            : {stack.env['KAFKA_BOOTSTRAP_SERVERS']}",
            f"  Email            : {smtp}",
            f"  SMS              : {stack.env['SMS_GATEWAY_URL']} (sink keeps them in {data / 'sms'})",
            f"  Logs             : {data / 'logs'}",
            f"  Staff            : admin API {stack.admin_url}, registration API {stack.api_url}/staff",
            "                     token: "
            + (
                "one of STAFF_API_TOKENS"
                if stack.settings.staff_api_tokens
                else f"export STAFF_API_TOKEN=$(cat {data / 'staff-api-token'})"
            ),
            "  Try it:",
            f"    curl -s -X POST {stack.api_url}/registrations -H 'Content-Type: application/json' \\",
            "      -d @deploy/seed/sample-registration.json",
            "  Press Ctrl-C to stop everything.",
            "",
        ]
    )


def main() -> None:
    """Start the stack, print where things are, and stop it all on Ctrl-C or SIGTERM."""
    stop = threading.Event()

    def request_stop(_: int, __: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    stack = LocalStack(StackSettings(), echo=True)
    try:
        stack.start()
        print(banner(stack), flush=True)
        while not stop.is_set():
            if dead := [n for n, c in stack.children.items() if not c.alive()]:
                print(
                    f"stopping: {', '.join(dead)} exited; see {stack.data_dir / 'logs'}",
                    file=sys.stderr,
                )
                break
            stop.wait(1.0)
    finally:
        print("stopping everything...", flush=True)
        stack.stop()
        print("stopped.", flush=True)


if __name__ == "__main__":
    main()
