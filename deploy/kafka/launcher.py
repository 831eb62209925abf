"""Run a real single-node Apache Kafka broker (KRaft) from Maven jars, without Docker."""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import IO

from deploy.kafka.config import (
    LOOPBACK,
    BrokerPorts,
    is_formatted,
    server_properties,
    settle_cluster_id,
    settle_ports,
    write_atomically,
)
from deploy.kafka.jars import (
    KAFKA_VERSION,
    KafkaLaunchError,
    cache_root,
    require_tool,
    resolve_jars,
)
from deploy.lifecycle import StartStop

__all__ = ["KAFKA_VERSION", "KafkaLaunchError", "LocalKafka", "cache_root", "resolve_jars"]

LOG4J_CONFIG = Path(__file__).with_name("log4j2.yaml")
READY_LINE = b"Kafka Server started"
JAVA_HINT = "install a Java 17+ runtime (e.g. `apt-get install openjdk-17-jre-headless`)"
# The JIT's first tier only: C2 spent more CPU compiling than its faster code saves a broker
# this light, on the 2 cores it shares with the services (`make bench`, A/B: the broker's CPU
# per registration 1.7-1.8 -> 0.8-0.9 ms; a 30,000-registration opening day 141 -> 121 s).
JIT = "-XX:TieredStopAtLevel=1"


class LocalKafka(StartStop):
    """One broker+controller process on loopback, its state kept under `data_dir`."""

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        controller_port: int | None = None,
        heap: str = "512m",
    ) -> None:
        self.data_dir = Path(data_dir).resolve()  # the broker runs with it as its cwd
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.heap = heap
        self.ports: BrokerPorts = settle_ports(self.data_dir, port, controller_port)
        self.log_path = self.data_dir / "broker.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        """The address clients connect to."""
        return f"{LOOPBACK}:{self.ports.port}"

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs."""
        running = self._process is not None and self._process.poll() is None
        return self._process.pid if running and self._process else None

    def start(self, timeout: float = 90.0) -> None:
        """Format storage if needed, launch the broker and wait until it accepts clients."""
        if self.pid is not None:
            return
        java = require_tool("java", JAVA_HINT)
        jars = resolve_jars()
        properties = self._write_properties()
        if not is_formatted(self.data_dir):
            self._format_storage(java, jars, properties)
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self._launch(java, jars, properties)
        self._wait_until_ready(offset, time.monotonic() + timeout)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop gracefully (SIGTERM), escalating to SIGKILL after `timeout`; idempotent."""
        if self._process is None:
            return
        self._signal(signal.SIGTERM)
        self._signal(signal.SIGCONT)  # a paused broker must wake up to shut down
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self._process.wait()
        self._forget_process()

    def kill(self) -> None:
        """Kill the broker abruptly (SIGKILL), as a crash would."""
        if self._process is None:
            return
        self._signal(signal.SIGKILL)
        self._process.wait()
        self._forget_process()

    def pause(self) -> None:
        """Freeze the broker (SIGSTOP): it holds its sockets but answers nothing."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused broker run again (SIGCONT)."""
        self._signal(signal.SIGCONT)

    def _write_properties(self) -> Path:
        properties = self.data_dir / "server.properties"
        write_atomically(properties, server_properties(self.data_dir, self.ports))
        return properties

    def _java_command(self, java: str, jars: Path, *args: str) -> list[str]:
        return [
            java,
            f"-Xmx{self.heap}",
            JIT,
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
            "-cp",
            f"{jars}/*",
            *args,
        ]

    def _format_storage(self, java: str, jars: Path, properties: Path) -> None:
        cluster_id = settle_cluster_id(self.data_dir)
        command = self._java_command(
            java,
            jars,
            "kafka.tools.StorageTool",
            "format",
            "--ignore-formatted",
            "-t",
            cluster_id,
            "-c",
            str(properties),
        )
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            output = done.stdout + done.stderr
            raise KafkaLaunchError(f"formatting {self.data_dir} failed:\n{output}")

    def _launch(self, java: str, jars: Path, properties: Path) -> None:
        self._forget_process()  # a broker that died on its own leaves a handle behind
        self._log = self.log_path.open("ab")
        command = self._java_command(java, jars, "kafka.Kafka", str(properties))
        self._process = subprocess.Popen(
            command,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.data_dir,
            start_new_session=True,
        )
        atexit.register(self.stop)

    def _wait_until_ready(self, log_offset: int, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.pid is None:
                self._forget_process()
                raise KafkaLaunchError(f"the broker exited during start-up:\n{self._log_tail()}")
            if self._logged_ready(log_offset) and self._accepts_connections():
                return
            time.sleep(0.1)
        self.kill()
        raise KafkaLaunchError(f"the broker was not ready in time:\n{self._log_tail()}")

    def _logged_ready(self, log_offset: int) -> bool:
        with self.log_path.open("rb") as log:
            log.seek(log_offset)
            return READY_LINE in log.read()

    def _accepts_connections(self) -> bool:
        try:
            with socket.create_connection((LOOPBACK, self.ports.port), timeout=1.0):
                return True
        except OSError:
            return False

    def _log_tail(self, limit: int = 4000) -> str:
        if not self.log_path.exists():
            return "(no broker.log)"
        return self.log_path.read_bytes()[-limit:].decode(errors="replace")

    def _signal(self, signum: signal.Signals) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signum)  # the group: java and anything it spawned

    def _forget_process(self) -> None:
        atexit.unregister(self.stop)
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None
