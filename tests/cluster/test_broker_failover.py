"""SIGKILL the Kafka node leading the busiest branch's partition, under load, and bring it back."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.cluster.cluster import control
from tests.cluster.conftest import HallRun
from tests.cluster.reconcile import branch_records, eventually

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(900)]


async def _leader(partition: int) -> int:
    return int((await control("leader", str(partition))).strip().splitlines()[-1])


async def test_partition_leader_killed_and_back(hall_run: Any) -> None:
    async def disturb(hall: HallRun) -> dict[str, Any]:

        async def branch_partition() -> int | None:
            records = await branch_records(hall.cluster.bootstrap, hall.branch.id)
            return records[0].partition if records else None

        partition = await eventually(branch_partition, within=60, what="the branch's events on Kafka")
        leader = await _leader(partition)
        killed_at = time.monotonic()
        await control("kill", f"kafka-{leader}")

        async def new_leader() -> int | None:
            try:
                found = await _leader(partition)
            except AssertionError:
                return None
            return found if found not in (leader, -1) else None

        successor = await eventually(new_leader, within=120, what="another node leads the partition")
        elected = time.monotonic() - killed_at
        await hall.progress(calls=10)  # calls keep reaching the screens with one node down
        restart = time.monotonic()
        await control("start", f"kafka-{leader}")
        back = time.monotonic() - restart
        await asyncio.sleep(0)
        return {
            "partition": partition,
            "killed_node": leader,
            "new_leader": successor,
            "leader_elected_after_s": round(elected, 2),
            "node_back_after_s": round(back, 2),
        }

    _, report = await hall_run(disturb)
    # A broker's death is invisible to the hall's HTTP clients: ticketing keeps accepting.
    assert report["failures"] == {}, report["failures"]
