"""Restart PostgreSQL under load: 503 with Retry-After (never a 500 or a hang), then all recovers."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.cluster.cluster import control
from tests.cluster.conftest import HallRun

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(900)]


async def test_postgres_restarted_under_load(hall_run: Any) -> None:
    async def disturb(hall: HallRun) -> dict[str, Any]:
        start = time.monotonic()
        await control("restart", "postgres")
        restarted = time.monotonic() - start
        failures_before = len(hall.load.failures)
        await hall.progress(calls=10)
        return {
            "postgres_restart_s": round(restarted, 1),
            "recovered_after_s": round(time.monotonic() - start, 1),
            "failures_during": failures_before,
        }

    _, report = await hall_run(disturb)
    bad = {k: v for k, v in report["failures"].items() if not k.endswith(":503:retry-after")}
    assert not bad, f"answers other than 503 with Retry-After: {report['failures']}"
