"""A throwaway PostgreSQL server from Debian's packages, for tests and local multi-instance runs."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from deploy.lifecycle import StartStop
from deploy.ports import free_port

SERVER_USER = "postgres"  # PostgreSQL refuses to run as root; Debian's package creates this user


class PostgresLaunchError(RuntimeError):
    """The server could not be found, initialised or started."""


def find_bin_dir() -> Path:
    """The newest installed PostgreSQL server's bin folder."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
    )
    if candidates:
        return Path(candidates[-1])
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise PostgresLaunchError(
        "PostgreSQL is not installed: run `make setup` (apt-get install postgresql)"
    )


class LocalPostgres(StartStop):
    """One PostgreSQL cluster in a private temporary folder, on a loopback port, trust auth."""

    def __init__(self, *, port: int | None = None) -> None:
        self.port = port or free_port()
        self.bin_dir = find_bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="trainingops-pg-"))
        self.data_dir = self.root / "data"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def admin_url(self) -> str:
        """SQLAlchemy URL of the maintenance database."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def url_for(self, database: str) -> str:
        """SQLAlchemy URL of `database` on this server."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def _as_server_user(self, argv: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return argv
        return ["runuser", "-u", SERVER_USER, "--", *argv]

    def start(self, timeout: float = 60.0) -> None:
        """Initialise the cluster and start the server; return once it accepts connections."""
        if os.geteuid() == 0:
            entry = pwd.getpwnam(SERVER_USER)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        initdb = [
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            "postgres",
            "-A",
            "trust",
        ]
        subprocess.run(
            self._as_server_user([*initdb, "-E", "UTF8", "--no-sync"]),
            check=True,
            capture_output=True,
        )
        server = [
            str(self.bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port),
            "-k", str(self.root), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
            "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200",
        ]  # fmt: skip
        log = (self.root / "server.log").open("ab")
        self.process = subprocess.Popen(
            self._as_server_user(server),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_until_ready(timeout)

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        ready = [str(self.bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"]
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                tail = (self.root / "server.log").read_text(errors="replace")[-2000:]
                raise PostgresLaunchError(f"PostgreSQL exited early:\n{tail}")
            if subprocess.run(ready, check=False).returncode == 0:
                return
            time.sleep(0.1)
        raise PostgresLaunchError(f"PostgreSQL not ready after {timeout:.0f}s")

    def stop(self) -> None:
        """Fast shutdown, then remove the cluster's folder."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        shutil.rmtree(self.root, ignore_errors=True)
