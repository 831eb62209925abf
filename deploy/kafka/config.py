"""A single-node KRaft broker's identity on disk: its ports, cluster id and server.properties."""

from __future__ import annotations

import base64
import json
import os
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from deploy.ports import free_port

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class BrokerPorts:
    """The client (PLAINTEXT) and controller ports of one broker."""

    port: int
    controller_port: int


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file and a rename."""
    scratch = path.with_name(f".{path.name}.tmp")
    scratch.write_text(text)
    os.replace(scratch, path)


def settle_ports(data_dir: Path, port: int | None, controller_port: int | None) -> BrokerPorts:
    """Explicit ports win, then those saved in data_dir/ports.json, then free ones; save them."""
    saved_file = data_dir / "ports.json"
    saved = json.loads(saved_file.read_text()) if saved_file.is_file() else {}
    ports = BrokerPorts(
        port=port or saved.get("port") or free_port(),
        controller_port=controller_port or saved.get("controller_port") or free_port(),
    )
    if ports.port == ports.controller_port:
        raise ValueError("the client and controller ports must differ")
    write_atomically(saved_file, json.dumps(asdict(ports)) + "\n")
    return ports


def settle_cluster_id(data_dir: Path) -> str:
    """Return the cluster id saved in data_dir/cluster.id, minting one on first use."""
    saved_file = data_dir / "cluster.id"
    if saved_file.is_file():
        return saved_file.read_text().strip()
    cluster_id = "-"
    while cluster_id.startswith("-"):  # a leading dash would read as an option to StorageTool
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
    write_atomically(saved_file, cluster_id + "\n")
    return cluster_id


def is_formatted(data_dir: Path) -> bool:
    """Whether the broker's log folder already holds KRaft storage metadata."""
    return (log_dir(data_dir) / "meta.properties").is_file()


def log_dir(data_dir: Path) -> Path:
    """The broker's log.dirs folder."""
    return data_dir / "logs"


def server_properties(data_dir: Path, ports: BrokerPorts) -> str:
    """Render server.properties for a combined broker+controller on loopback."""
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@{LOOPBACK}:{ports.controller_port}",
            f"listeners=PLAINTEXT://{LOOPBACK}:{ports.port},"
            f"CONTROLLER://{LOOPBACK}:{ports.controller_port}",
            f"advertised.listeners=PLAINTEXT://{LOOPBACK}:{ports.port}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name=PLAINTEXT",
            f"log.dirs={log_dir(data_dir).resolve()}",
            "num.partitions=3",
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=3",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            # After a crash the controller refuses the broker's re-registration until the old
            # session expires (default 9 s): short sessions make kill-then-start fast.
            "broker.heartbeat.interval.ms=500",
            "broker.session.timeout.ms=2000",
            "auto.create.topics.enable=true",
            "",
        ]
    )
