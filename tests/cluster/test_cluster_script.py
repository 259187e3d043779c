"""cluster.sh's bookkeeping, without a cluster: a recorded pid counts only while it is ours.

These run in plain ``make test`` (no ``cluster`` mark): each uses an empty
run folder of its own, so nothing of a running cluster is touched.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.cluster.cluster import ROOT, SCRIPT
from tests.cluster.reconcile import eventually

NAMES = [
    "postgres", "kafka-1", "kafka-2", "kafka-3",
    "ticketing-1", "ticketing-2", "display-1", "display-2", "metrics-1", "metrics-2",
    "haproxy", "prometheus",
]  # fmt: skip


def script(run: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ANTRIAN_CLUSTER_RUN_DIR": str(run)}
    return subprocess.run(
        [str(SCRIPT), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_status_names_every_process_of_the_cluster(tmp_path: Path) -> None:
    done = script(tmp_path, "status")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"{name}: stopped" for name in NAMES]


def test_a_pid_file_naming_another_program_is_neither_ours_nor_signalled(tmp_path: Path) -> None:
    (tmp_path / "pids").mkdir()
    stranger = subprocess.Popen(["sleep", "60"])
    try:
        for name in ("ticketing-1", "kafka-2", "haproxy"):
            (tmp_path / "pids" / f"{name}.pid").write_text(f"{stranger.pid}\n")
        status = script(tmp_path, "status")
        assert "ticketing-1: stopped" in status.stdout
        assert "kafka-2: stopped" in status.stdout
        assert script(tmp_path, "kill", "ticketing-1").returncode != 0
        down = script(tmp_path, "down")
        assert down.returncode == 0, down.stderr
        assert stranger.poll() is None, "cluster.sh down signalled a process it did not start"
    finally:
        stranger.kill()
        stranger.wait()


def test_every_port_moves_with_its_variable(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "ANTRIAN_CLUSTER_RUN_DIR": str(tmp_path),
        "ANTRIAN_CLUSTER_KAFKA_PORTS": "7001 7003 7005",
        "ANTRIAN_CLUSTER_PG_PORT": "7010",
        "ANTRIAN_CLUSTER_LB_PORT": "7020",
        "ANTRIAN_CLUSTER_DISPLAY_LB_PORT": "7021",
        "ANTRIAN_CLUSTER_PROMETHEUS_PORT": "7030",
        "ANTRIAN_CLUSTER_TICKETING_PORTS": "7040 7041",
    }
    done = subprocess.run(
        [str(SCRIPT), "env"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    values = dict(line.split("=", 1) for line in done.stdout.splitlines())
    assert values["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:7001,127.0.0.1:7003,127.0.0.1:7005"
    assert values["DATABASE_URL"].endswith("@127.0.0.1:7010/antrian")
    assert values["ANTRIAN_CLUSTER_LB_URL"] == "http://127.0.0.1:7020"
    assert values["ANTRIAN_CLUSTER_DISPLAY_LB_URL"] == "http://127.0.0.1:7021"
    assert values["ANTRIAN_CLUSTER_PROMETHEUS_URL"] == "http://127.0.0.1:7030"
    assert values["ANTRIAN_CLUSTER_TICKETING_PORTS"] == "7040 7041"


async def test_eventually_returns_a_found_zero() -> None:
    """Partition 0 and node 0 are findings: only None and False mean "not yet".

    The broker failover test failed whenever its random branch hashed to
    partition 0, because the wait took 0 for "nothing found".
    """
    answers = iter([None, False, 0])

    async def check() -> object:
        return next(answers)

    assert await eventually(check, within=3, what="a zero") == 0
