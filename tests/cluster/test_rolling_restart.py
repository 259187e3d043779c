"""Restart every instance of every service one after the other, under load: no request fails."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.cluster.cluster import SERVICES, control
from tests.cluster.conftest import HallRun

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(900)]


async def test_rolling_restart_without_a_failed_request(hall_run: Any) -> None:
    async def disturb(hall: HallRun) -> dict[str, Any]:
        took: dict[str, float] = {}
        for service in SERVICES:
            for name in hall.cluster.instances(service):
                start = time.monotonic()
                await control("restart", name)
                took[name] = round(time.monotonic() - start, 1)
                await hall.progress(calls=3)
        return {"restart_seconds": took}

    _, report = await hall_run(disturb)
    assert report["failures"] == {}, report["failures"]
