"""Fixtures of the cluster tests: the running cluster, a hall under load, and the run's report.

Every test here is marked ``cluster`` (module ``pytestmark``) (deselected from ``make test``; run by
``make test-cluster``, which starts the cluster when it is not up). A test
seeds a branch of its own, puts it under a steady load through the balancer
with two screens watching, disturbs the cluster, stops the load, and ends with
:func:`tests.cluster.reconcile.reconcile`. The figures of each run (pauses,
failed requests, drain times) go to ``.run-cluster/reports/<test>.json`` and
are printed at the end of the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from tests.cluster.cluster import Cluster, control, run_dir
from tests.cluster.hall import Branch, HallLoad, Screen, login, seed_branch
from tests.cluster.reconcile import eventually, reconcile

REPORTS: dict[str, dict[str, Any]] = {}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The figures measured by each failover run."""
    if REPORTS:
        terminalreporter.section("cluster figures")
        for name, report in REPORTS.items():
            terminalreporter.write_line(f"{name}: {json.dumps(report, sort_keys=True)}")


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    """The running cluster (``make cluster-up``)."""
    return Cluster.load()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP client with no connection limit of its own (the balancer is under test)."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        yield session


@pytest.fixture
async def pool(cluster: Cluster) -> AsyncIterator[asyncpg.Pool]:
    """PostgreSQL, read directly for the reconciliation."""
    p = await asyncpg.create_pool(cluster.database_url, min_size=1, max_size=2)
    yield p
    await p.close()


@pytest.fixture
async def all_up(cluster: Cluster) -> AsyncIterator[None]:
    """Every process of the cluster runs before the test and after it (restarts what a test killed)."""
    await _start_stopped()
    yield
    await _start_stopped()


async def _start_stopped() -> None:
    status = await control("status")
    for line in status.splitlines():
        name, _, state = line.partition(": ")
        if state == "stopped":
            await control("start", name)


@dataclass
class HallRun:
    """One branch under load with its screens, for a test to disturb."""

    cluster: Cluster
    http: aiohttp.ClientSession
    pool: asyncpg.Pool
    branch: Branch
    load: HallLoad
    screens: list[Screen]
    marks: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def calls_on_screens(self) -> int:
        """Calls the first screen has shown live."""
        return len(self.screens[0].live)

    async def progress(self, calls: int = 10, within: float = 180) -> None:
        """Wait until ``calls`` more calls have reached every screen (the hall moves again)."""
        targets = [len(s.live) + calls for s in self.screens]

        async def moved() -> bool:
            return all(len(s.live) >= t for s, t in zip(self.screens, targets, strict=True))

        await eventually(moved, within=within, what=f"{calls} more calls reach every screen")

    def pauses(self, since: float) -> dict[str, float]:
        """Longest gap between calls reaching a screen, and longest call → screen delay, after ``since``."""
        gap = delay = 0.0
        for screen in self.screens:
            times = sorted(at for _, at in screen.live.values() if at >= since)
            gap = max([gap, *(b - a for a, b in itertools.pairwise(times))])
            for number, at in screen.arrivals().items():
                called = self.load.called_at.get(number)
                if called is not None and called >= since:
                    delay = max(delay, at - called)
        return {"longest_gap_between_calls_s": round(gap, 2), "longest_call_to_screen_s": round(delay, 2)}


Disturb = Callable[[HallRun], Awaitable[dict[str, Any]]]


@pytest.fixture
def hall_run(
    cluster: Cluster,
    http: aiohttp.ClientSession,
    pool: asyncpg.Pool,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    all_up: None,
) -> Callable[[Disturb], Awaitable[tuple[HallRun, dict[str, Any]]]]:
    """Run a hall day around ``disturb`` and reconcile; returns the run and its report."""

    async def run(disturb: Disturb) -> tuple[HallRun, dict[str, Any]]:
        branch = await asyncio.to_thread(seed_branch, cluster, tmp_path)
        token = await login(http, cluster.lb, cluster.admin_password)
        load = HallLoad(http, cluster.lb, branch, token)
        await load.open_counters()
        ws = cluster.display_lb.replace("http://", "ws://") + f"/ws/{branch.id}"
        screens = [Screen(ws), Screen(ws)]
        stop = asyncio.Event()
        watching = [asyncio.create_task(s.run(stop)) for s in screens]
        hall = HallRun(cluster, http, pool, branch, load, screens)
        try:
            await eventually(
                lambda: _true(all(s.connects for s in screens)), within=60, what="both screens connect"
            )
            running = asyncio.create_task(load.run())
            await hall.progress(calls=10)
            before = time.monotonic()
            report = await disturb(hall)
            await hall.progress(calls=10)
            report.update(hall.pauses(before))
            load.stop_issuing.set()
            async with asyncio.timeout(600):
                await running
            report.update(await reconcile(cluster, http, load, screens, branch, pool))
        finally:
            stop.set()
            load.stop_issuing.set()
            for task in watching:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        report["requests"] = load.requests
        report["failures"] = _summarise(load)
        report["seconds"] = round(time.monotonic() - hall.started, 1)
        name = request.node.name
        REPORTS[name] = report
        out = run_dir() / "reports"
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{name}.json").write_text(json.dumps(report, indent=2, sort_keys=True))
        return hall, report

    return run


async def _true(value: bool) -> bool:
    return value


def _summarise(load: HallLoad) -> dict[str, int]:
    counts: dict[str, int] = {}
    for f in load.failures:
        key = f"{f.what}:{f.status if f.status is not None else f.error}"
        if f.status == 503:
            key += ":retry-after" if f.retry_after else ":no-retry-after"
        counts[key] = counts.get(key, 0) + 1
    return counts
