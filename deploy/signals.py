"""Block a command-line tool until the operator or the supervisor asks it to stop."""

from __future__ import annotations

import signal
import threading
from types import FrameType


def wait_for_stop_signal() -> None:
    """Block the main thread until SIGINT or SIGTERM arrives."""
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    stop.wait()
