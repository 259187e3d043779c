"""The local cluster of deploy/cluster as the tests see it: addresses and process control.

``make test-cluster`` starts the cluster (``cluster.sh up``) when it is not up;
the tests read its addresses from ``.run-cluster/cluster.env`` and kill, stop
and start its processes through ``cluster.sh`` so that the script the operator
uses is the one under test.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "cluster" / "cluster.sh"
SERVICES = ("ticketing", "display", "metrics")


def run_dir() -> Path:
    """Where the cluster keeps its state (``ANTRIAN_CLUSTER_RUN_DIR`` or ``.run-cluster``)."""
    return Path(os.environ.get("ANTRIAN_CLUSTER_RUN_DIR", ROOT / ".run-cluster"))


@dataclass(frozen=True)
class Cluster:
    """Addresses of a running cluster, from ``cluster.env``."""

    env: dict[str, str]

    @classmethod
    def load(cls) -> Cluster:
        """Read ``cluster.env``; fail with the command to run when the cluster is not up."""
        path = run_dir() / "cluster.env"
        if not path.is_file():
            raise RuntimeError(f"{path} is missing: start the cluster with `make cluster-up`")
        env = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
        return cls(env)

    @property
    def lb(self) -> str:
        """Ticketing through HAProxy."""
        return self.env["ANTRIAN_CLUSTER_LB_URL"]

    @property
    def display_lb(self) -> str:
        """Display through HAProxy (the screens' address)."""
        return self.env["ANTRIAN_CLUSTER_DISPLAY_LB_URL"]

    @property
    def prometheus(self) -> str:
        """The Prometheus scraping every instance."""
        return self.env["ANTRIAN_CLUSTER_PROMETHEUS_URL"]

    @property
    def bootstrap(self) -> str:
        """The three Kafka nodes."""
        return self.env["KAFKA_BOOTSTRAP_SERVERS"]

    @property
    def database_url(self) -> str:
        """PostgreSQL."""
        return self.env["DATABASE_URL"]

    @property
    def admin_password(self) -> str:
        """The admin password the cluster was set up with."""
        return os.environ.get("ANTRIAN_ADMIN_PASSWORD") or (run_dir() / "admin-password").read_text().strip()

    def ports(self, service: str) -> list[int]:
        """The ports of every instance of ``service``."""
        return [int(p) for p in self.env[f"ANTRIAN_CLUSTER_{service.upper()}_PORTS"].split()]

    def instance_url(self, service: str, n: int) -> str:
        """Instance ``n`` (1-based) of ``service``."""
        return f"http://127.0.0.1:{self.ports(service)[n - 1]}"

    def instances(self, service: str) -> list[str]:
        """``service-1``, ``service-2``, ...: the names cluster.sh knows them by."""
        return [f"{service}-{n}" for n in range(1, len(self.ports(service)) + 1)]


async def control(*args: str, limit: float = 240.0) -> str:
    """Run ``cluster.sh ARGS`` (kill, stop, start, restart, leader, status) and return its output."""
    proc = await asyncio.create_subprocess_exec(
        str(SCRIPT), *args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    async with asyncio.timeout(limit):
        out, _ = await proc.communicate()
    text = out.decode(errors="replace")
    assert proc.returncode == 0, f"cluster.sh {' '.join(args)} failed:\n{text}"
    return text


class Stopwatch:
    """Seconds since it was made (monotonic)."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def __call__(self) -> float:
        return time.monotonic() - self.start
