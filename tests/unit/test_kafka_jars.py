"""The broker jar cache and on-disk identity, with Maven replaced by a fake."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.kafka import jars
from deploy.kafka.config import settle_cluster_id, settle_ports

pytestmark = pytest.mark.unit


@pytest.fixture
def maven_calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    calls: list[Path] = []

    def fake_maven(output_dir: Path) -> None:
        calls.append(output_dir)
        (output_dir / "kafka_2.13.jar").write_bytes(b"jar")

    monkeypatch.setenv("TRAININGOPS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(jars, "_run_maven", fake_maven)
    return calls


def test_second_resolve_uses_the_cache(maven_calls: list[Path]) -> None:
    first = jars.resolve_jars()
    second = jars.resolve_jars()

    assert first == second
    assert len(maven_calls) == 1
    assert (first / "kafka_2.13.jar").is_file()


def test_changed_pom_resolves_again(
    maven_calls: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    jars.resolve_jars()
    monkeypatch.setattr(jars, "_pom_digest", lambda: "another-pom")
    jars.resolve_jars()

    assert len(maven_calls) == 2


def test_failed_resolve_leaves_no_half_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_maven(output_dir: Path) -> None:
        (output_dir / "partial.jar").write_bytes(b"")
        raise jars.KafkaLaunchError("network down")

    monkeypatch.setenv("TRAININGOPS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(jars, "_run_maven", broken_maven)
    with pytest.raises(jars.KafkaLaunchError):
        jars.resolve_jars()

    version_dir = tmp_path / "cache" / f"kafka-{jars.KAFKA_VERSION}"
    assert sorted(p.name for p in version_dir.iterdir()) == [".lock"]


def test_ports_and_cluster_id_survive_a_new_launcher(tmp_path: Path) -> None:
    ports = settle_ports(tmp_path, None, None)
    cluster_id = settle_cluster_id(tmp_path)

    assert settle_ports(tmp_path, None, None) == ports
    assert settle_cluster_id(tmp_path) == cluster_id


def test_cluster_ids_never_start_with_a_dash(tmp_path: Path) -> None:
    folders = [tmp_path / str(n) for n in range(300)]
    for folder in folders:
        folder.mkdir()

    ids = [settle_cluster_id(folder) for folder in folders]

    assert not [cluster_id for cluster_id in ids if cluster_id.startswith("-")]
