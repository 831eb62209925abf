"""Resolve the pinned Kafka broker's jars with Maven once, then serve them from a local cache."""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

POM = Path(__file__).with_name("pom.xml")
MARKER = ".pom.sha256"


class KafkaLaunchError(RuntimeError):
    """The local broker could not be resolved, formatted or started."""


def _kafka_version(pom: Path) -> str:
    """Read `<kafka.version>` from the pom."""
    found = re.search(r"<kafka\.version>\s*([^<\s]+)\s*</kafka\.version>", pom.read_text())
    if found is None:
        raise KafkaLaunchError(f"no <kafka.version> in {pom}")
    return found.group(1)


KAFKA_VERSION = _kafka_version(POM)


def cache_root() -> Path:
    """~/.cache/trainingops (or $TRAININGOPS_CACHE)."""
    override = os.environ.get("TRAININGOPS_CACHE")
    return Path(override).expanduser() if override else Path.home() / ".cache" / "trainingops"


def require_tool(name: str, hint: str) -> str:
    """Return the path of executable `name`, or raise with an install hint."""
    path = shutil.which(name)
    if path is None:
        raise KafkaLaunchError(f"`{name}` not found on PATH: {hint}")
    return path


def _pom_digest() -> str:
    return hashlib.sha256(POM.read_bytes()).hexdigest()


def _is_current(folder: Path, digest: str) -> bool:
    marker = folder / MARKER
    return marker.is_file() and marker.read_text().strip() == digest


def _run_maven(output_dir: Path) -> None:
    """Copy the pom's runtime dependencies into `output_dir`."""
    mvn = require_tool(
        "mvn",
        "install Apache Maven (e.g. `apt-get install maven`), "
        "needed once to fetch the broker's jars",
    )
    command = [
        mvn,
        "-q",
        "-B",
        "-f",
        str(POM),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={output_dir}",
        "-DincludeScope=runtime",
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-3000:]
        raise KafkaLaunchError(f"Maven could not resolve the Kafka jars:\n{tail}")


def _replace_folder(fresh: Path, target: Path) -> None:
    """Swap `fresh` into `target`'s place, dropping a stale `target`."""
    if target.exists():
        stale = target.with_name(f".stale-{os.getpid()}-{target.name}")
        target.rename(stale)
        shutil.rmtree(stale, ignore_errors=True)
    fresh.rename(target)


def resolve_jars() -> Path:
    """Return the folder holding the broker's jars, resolving them with Maven on first use."""
    target = cache_root() / f"kafka-{KAFKA_VERSION}" / "jars"
    digest = _pom_digest()
    if _is_current(target, digest):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # One resolver at a time; a waiter finds the cache filled and returns at once.
    with (target.parent / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _is_current(target, digest):
            return target
        fresh = Path(tempfile.mkdtemp(prefix=".jars-", dir=target.parent))
        try:
            _run_maven(fresh)
            (fresh / MARKER).write_text(digest + "\n")
            _replace_folder(fresh, target)
        finally:
            shutil.rmtree(fresh, ignore_errors=True)
    return target
