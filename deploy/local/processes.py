"""Child processes with their output pumped to a log file (and optionally the terminal)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO


def pretty(line: str) -> str:
    """Render one JSON log line compactly for a terminal; other lines pass through."""
    try:
        record = json.loads(line)
    except ValueError:
        return line
    if not isinstance(record, dict):
        return line
    head = [str(record.pop(k, "")) for k in ("timestamp", "service", "level", "event")]
    record.pop("logger", None)
    rest = " ".join(f"{k}={v}" for k, v in record.items())
    return f"{head[0][11:23]} {head[1]:<13} {head[2]:<7} {head[3]} {rest}".rstrip()


class Child:
    """A named child process in its own process group, its output kept in `log_path`."""

    def __init__(
        self, name: str, argv: Sequence[str], *, env: Mapping[str, str], log_path: Path, echo: bool
    ) -> None:
        self.name, self.argv, self.env, self.log_path, self.echo = (
            name,
            list(argv),
            dict(env),
            log_path,
            echo,
        )
        self.process: subprocess.Popen[str] | None = None
        self._pump: threading.Thread | None = None

    def start(self) -> None:
        """Launch the process; its output goes straight to the log file, or through a pump to echo."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if not self.echo:  # no Python thread in between: the file is written by the child itself
            with self.log_path.open("a", encoding="utf-8") as log_file:
                self.process = self._popen(log_file)
            return
        self.process = self._popen(subprocess.PIPE)
        self._pump = threading.Thread(target=self._copy, args=(self.process.stdout,), daemon=True)
        self._pump.start()

    def _popen(self, stdout: IO[str] | int) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.argv,
            env=self.env,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
        )

    def _copy(self, stream: IO[str] | None) -> None:
        assert stream is not None
        with self.log_path.open("a", encoding="utf-8") as log_file:
            for line in stream:
                log_file.write(line)
                log_file.flush()
                sys.stdout.write(pretty(line.rstrip("\n")) + "\n")
                sys.stdout.flush()

    def alive(self) -> bool:
        """Tell whether the process is still running."""
        return self.process is not None and self.process.poll() is None

    def signal(self, signum: int) -> None:
        """Send a signal to the child's whole process group."""
        if self.alive():
            assert self.process is not None
            os.killpg(self.process.pid, signum)

    def kill(self) -> None:
        """Kill the process group abruptly (SIGKILL), as a crash would, and reap it."""
        if self.process is None:
            return
        self.signal(signal.SIGKILL)
        self.process.wait(5)
        if self._pump is not None:
            self._pump.join(5)

    def stop(self, timeout: float = 15.0) -> None:
        """Ask the process to stop (SIGTERM), then kill it if it will not."""
        if self.process is None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.process.wait(5)
        if self._pump is not None:
            self._pump.join(5)
