"""The whole system on one machine: Kafka, SMTP capture, SMS sink and the three services."""

from __future__ import annotations

import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from deploy.kafka.launcher import LocalKafka
from deploy.local.processes import Child

SERVICES = ("registration", "scheduler", "notifier")
NOTIFIER_DISPATCH = "notifier-dispatch"


class StackSettings(BaseSettings):
    """What `make run` reads: anything left unset is started locally."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    kafka_bootstrap_servers: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 1025
    sms_gateway_url: str | None = None
    http_port: int = 8000
    data_dir: Path = Path("data")
    kafka_port: int = 9092
    sms_sink_port: int = 8030
    catalogue_path: Path = Path("deploy/seed/programmes.yaml")
    link_signing_secret: str | None = None
    staff_api_tokens: str | None = None
    admin_http_port: int = 8010
    notifier_dispatchers: int = Field(
        default=1,
        ge=0,
        description="Delivery-only notifier processes beside the notifier (DISPATCH_ONLY).",
    )
    notifier_dispatch_overdue: float = Field(
        default=5.0, ge=0, description="Seconds of backlog before they join in (DISPATCH_OVERDUE)."
    )


@dataclass
class LocalStack:
    """Start and stop everything `make run` needs, in order, and nothing twice."""

    settings: StackSettings
    echo: bool = False
    kafka: LocalKafka | None = None
    children: dict[str, Child] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    """More environment for the services (e.g. rate limits for a benchmark); it wins over the rest."""

    @property
    def data_dir(self) -> Path:
        """The stack's data folder (absolute)."""
        return self.settings.data_dir.resolve()

    @property
    def dispatchers(self) -> tuple[str, ...]:
        """The notifier's delivery-only processes, by name."""
        count = self.settings.notifier_dispatchers
        return tuple(f"{NOTIFIER_DISPATCH}-{number}" for number in range(1, count + 1))

    @property
    def services(self) -> tuple[str, ...]:
        """Every process of the services: the three, then the notifier's delivery-only ones."""
        return SERVICES + self.dispatchers

    @property
    def admin_url(self) -> str:
        """Where the scheduler's staff admin API listens."""
        return f"http://127.0.0.1:{self.settings.admin_http_port}"

    @property
    def api_url(self) -> str:
        """Where the registration API listens."""
        return f"http://127.0.0.1:{self.settings.http_port}"

    def start(self, timeout: float = 120.0) -> None:
        """Start every part, then wait until the services report that they are up."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        bootstrap = self.settings.kafka_bootstrap_servers or self._start_kafka()
        smtp_host, smtp_port = self._smtp()
        self.env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "SMTP_HOST": smtp_host,
            "SMTP_PORT": str(smtp_port),
            "SMS_GATEWAY_URL": self._sms_gateway(),
            "HTTP_PORT": str(self.settings.http_port),
            "DATA_DIR": str(self.data_dir),
            "CATALOGUE_PATH": str(self.settings.catalogue_path.resolve()),
            "PUBLIC_BASE_URL": self.api_url,
            "LINK_SIGNING_SECRET": self._link_secret(),
            "STAFF_API_TOKENS": self.settings.staff_api_tokens
            or self._kept_secret("staff-api-token"),
            "ADMIN_HTTP_PORT": str(self.settings.admin_http_port),
            "LOG_FORMAT": "json",
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }
        for service in SERVICES:
            self._spawn(service, [sys.executable, "-m", f"services.{service}"])
        overdue = str(self.settings.notifier_dispatch_overdue)
        helper = {**self.env, "DISPATCH_ONLY": "true", "DISPATCH_OVERDUE": overdue}
        for name in self.dispatchers:
            self._spawn(name, [sys.executable, "-m", "services.notifier"], env=helper)
        self._wait_until_ready(timeout)

    def _link_secret(self) -> str:
        """The configured secret, or one generated once and kept in the data folder."""
        return self.settings.link_signing_secret or self._kept_secret("link-signing-secret")

    def _kept_secret(self, name: str) -> str:
        """A secret generated on first use and kept (owner-only) in the data folder."""
        path = self.data_dir / name
        if not path.exists():
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip()

    def _start_kafka(self) -> str:
        self.kafka = LocalKafka(self.data_dir / "kafka", port=self.settings.kafka_port)
        self.kafka.start()
        return self.kafka.bootstrap_servers

    def _smtp(self) -> tuple[str, int]:
        if self.settings.smtp_host:
            return self.settings.smtp_host, self.settings.smtp_port
        argv = ["--dir", str(self.data_dir / "mail"), "--port", str(self.settings.smtp_port)]
        self._spawn("smtp-capture", [sys.executable, "-m", "deploy.local.smtp_capture", *argv])
        return "127.0.0.1", self.settings.smtp_port

    def _sms_gateway(self) -> str:
        if self.settings.sms_gateway_url:
            return self.settings.sms_gateway_url
        argv = ["--dir", str(self.data_dir / "sms"), "--port", str(self.settings.sms_sink_port)]
        self._spawn("sms-sink", [sys.executable, "-m", "deploy.local.sms_sink", *argv])
        return f"http://127.0.0.1:{self.settings.sms_sink_port}/messages"

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        env = env or self.env or {**os.environ, "LOG_FORMAT": "json", "PYTHONUNBUFFERED": "1"}
        child = Child(name, argv, env=env, log_path=self.log_path(name), echo=self.echo)
        child.start()
        self.children[name] = child

    def log_path(self, name: str) -> Path:
        """Where a part's output is kept."""
        return self.data_dir / "logs" / f"{name}.log"

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = set(self.services)
        while pending:
            for name, child in self.children.items():
                if not child.alive():
                    raise RuntimeError(f"{name} exited early; see {self.log_path(name)}")
            pending = {s for s in pending if not self._started(s)}
            if time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout:.0f}s: {sorted(pending)}")
            time.sleep(0.2)
        httpx.get(f"{self.api_url}/health", timeout=5).raise_for_status()

    def _started(self, service: str, log_offset: int = 0) -> bool:
        path = self.log_path(service)
        if not path.exists():
            return False
        with path.open("rb") as log:
            log.seek(log_offset)
            return b'"service.started"' in log.read()

    def kill(self, name: str) -> None:
        """Kill one part abruptly (SIGKILL), as a crash would; `restart` brings it back."""
        self.children[name].kill()

    def restart(self, name: str, timeout: float = 60.0) -> None:
        """Start a stopped or killed service again with the same settings; wait until it is up."""
        child = self.children[name]
        if child.alive():
            child.stop()
        path = self.log_path(name)
        offset = path.stat().st_size if path.exists() else 0
        child.start()
        deadline = time.monotonic() + timeout
        while not self._started(name, offset):
            if not child.alive():
                raise RuntimeError(f"{name} exited early; see {path}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} not ready after {timeout:.0f}s")
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop the services first, then the sinks, then Kafka; leave no process behind."""
        for name in [*self.dispatchers, *SERVICES, "smtp-capture", "sms-sink"]:
            if name in self.children:
                self.children[name].stop()
        if self.kafka is not None:
            self.kafka.stop()

    def __enter__(self) -> LocalStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
