"""The Kafka cluster id the stack and the cluster format their storage with."""

from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from deploy.local.kafka_cluster_id import cluster_id

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "local" / "kafka_cluster_id.py"


def test_an_id_starting_with_a_dash_is_drawn_again() -> None:
    """One random id in 64 starts with "-", which StorageTool takes for an option."""
    dash_first = base64.urlsafe_b64decode("-" + "A" * 21 + "==")  # bytes whose id starts with "-"
    draws: Iterator[bytes] = iter([dash_first, bytes(range(16))])
    found = cluster_id(lambda _n: next(draws))
    assert found == base64.urlsafe_b64encode(bytes(range(16))).decode().rstrip("=")


def test_the_script_prints_a_22_character_id() -> None:
    out = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, check=True).stdout
    assert len(out.strip()) == 22
    assert not out.startswith("-")
