"""Branch ids from clients against the directory: refusals, negative caching, bounds, outages."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from services.display import directory as directory_module
from services.display import hub as hub_module
from services.display.app import DIRECTORY, HUB, METRICS
from services.display.directory import Directory, Presence
from services.display.server import Running
from services.events import EventType
from tests.integration.display.conftest import DisplayFactory
from tests.integration.display.hallkit import HallFeed, Screen, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@dataclass
class FakeTicketing:
    """Ticketing's branch directory: knows ``branches``, counts requests, can be made to fail."""

    url: str = ""
    branches: set[str] = field(default_factory=set)
    asked: Counter[str] = field(default_factory=Counter)
    down: bool = False

    async def branch(self, request: web.Request) -> web.Response:
        branch_id = request.match_info["branch_id"]
        self.asked[branch_id] += 1
        if self.down:
            return web.json_response({"title": "Service Unavailable"}, status=503)
        if branch_id not in self.branches:
            return web.json_response({"title": "Not Found", "status": 404}, status=404)
        body = {"id": branch_id, "name": "MPP Banjarbaru", "timezone": "Asia/Makassar", "counters": []}
        return web.json_response(body)


@pytest.fixture
async def ticketing() -> AsyncIterator[FakeTicketing]:
    fake = FakeTicketing()
    app = web.Application()
    app.router.add_get("/api/v1/branches/{branch_id}", fake.branch)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield fake
    finally:
        await runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
        yield session


async def _refused(running: Running, branch: str) -> int:
    with pytest.raises(InvalidStatus) as refused:
        await connect(f"ws://127.0.0.1:{running.port}/ws/{branch}", proxy=None, open_timeout=10)
    response = refused.value.response
    assert response.headers["Content-Type"] == "application/problem+json"
    return response.status_code


async def _true(value: bool) -> bool:
    return value


async def _is_asked(directory: Directory, branch: str) -> bool:
    return await directory.lookup(branch) is not Presence.UNKNOWN


def _connections(running: Running, branch: str) -> float | None:
    registry = running.runner.app[METRICS].registry
    return registry.get_sample_value("qms_display_connections", {"branch": branch})


async def test_a_branch_ticketing_does_not_know_is_refused_without_a_trace(
    display: DisplayFactory, ticketing: FakeTicketing, http: aiohttp.ClientSession
) -> None:
    running = await display(ticketing_url=ticketing.url)
    for _ in range(10):
        assert await _refused(running, "no-such-branch") == 404
        async with http.get(f"http://127.0.0.1:{running.port}/api/v1/branches/no-such-branch/screen") as r:
            assert r.status == 404
            assert r.content_type == "application/problem+json"
            assert "no-such-branch" in (await r.json())["detail"]
    assert ticketing.asked["no-such-branch"] == 1  # the "no" is remembered: a flood costs one request
    app = running.runner.app
    assert app[HUB].connection_count() == 0
    assert _connections(running, "no-such-branch") is None
    assert "no-such-branch" not in app[DIRECTORY]._info


async def test_a_branch_ticketing_knows_is_served_before_any_event(
    display: DisplayFactory, ticketing: FakeTicketing
) -> None:
    ticketing.branches.add("bjb-known")
    running = await display(ticketing_url=ticketing.url)
    screen = Screen(f"ws://127.0.0.1:{running.port}/ws/bjb-known")
    snap = await screen.open()
    assert snap["hall"]["name"] == "MPP Banjarbaru"
    await screen.close()


async def test_branches_with_events_keep_working_when_ticketing_fails(
    feed: HallFeed, display: DisplayFactory, ticketing: FakeTicketing, http: aiohttp.ClientSession
) -> None:
    await feed.busy_morning()  # ticketing does not list feed.branch, and then fails altogether
    ticketing.down = True
    running = await display(ticketing_url=ticketing.url)
    screen = Screen(f"ws://127.0.0.1:{running.port}/ws/{feed.branch}")
    snap = await screen.open()
    assert snap["seq"] == feed.seq
    seq = await feed.ticket(EventType.TICKET_CALLED, "A003", 1)
    assert (await screen.next())["seq"] == seq
    async with http.get(f"http://127.0.0.1:{running.port}/api/v1/branches/{feed.branch}/screen") as r:
        assert r.status == 200
    ticketing.down = False  # ticketing answers "no such branch": the folded events still vouch for it
    again = Screen(f"ws://127.0.0.1:{running.port}/ws/{feed.branch}")
    assert (await again.open())["seq"] == seq
    await again.close()
    await screen.close()


async def test_a_branchs_connection_series_goes_with_its_last_screen(
    display: DisplayFactory, ticketing: FakeTicketing
) -> None:
    ticketing.branches.add("bjb-series")
    running = await display(ticketing_url=ticketing.url)
    screens = [Screen(f"ws://127.0.0.1:{running.port}/ws/bjb-series?zone=z{i}") for i in range(2)]
    for screen in screens:
        await screen.open()
    assert _connections(running, "bjb-series") == 2
    for screen in screens:
        await screen.close()
    await wait_for(lambda: _true(_connections(running, "bjb-series") is None), within=10)
    assert running.runner.app[HUB].connection_count() == 0


async def test_unvouched_branches_are_bounded_while_ticketing_is_unreachable(
    display: DisplayFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hub_module, "MAX_UNVOUCHED", 2)
    running = await display()  # ticketing_url points where nothing listens
    screens = [Screen(f"ws://127.0.0.1:{running.port}/ws/maybe-{i}") for i in range(2)]
    for screen in screens:
        await screen.open()
    assert await _refused(running, "maybe-2") == 503
    second = Screen(f"ws://127.0.0.1:{running.port}/ws/maybe-1")  # a branch already streamed is fine
    await second.open()
    await second.close()
    await screens[0].close()
    async with asyncio.timeout(10):  # once a slot is free, another may come
        while True:
            with contextlib.suppress(InvalidStatus):
                await connect(f"ws://127.0.0.1:{running.port}/ws/maybe-2", proxy=None)
                break
            await asyncio.sleep(0.05)
    await screens[1].close()


async def test_negative_answers_expire_and_stay_bounded(
    ticketing: FakeTicketing, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(directory_module, "REMEMBER", 3)
    now = [1000.0]
    directory = Directory(ticketing.url, "Asia/Makassar", 300, negative_ttl=30, clock=lambda: now[0])
    task = asyncio.create_task(directory.run())
    try:
        await wait_for(lambda: _is_asked(directory, "gone"), within=5)  # once its session is up
        assert await directory.lookup("gone") is Presence.MISSING
        assert ticketing.asked["gone"] == 1
        now[0] += 31
        ticketing.branches.add("gone")  # the branch was created meanwhile
        assert await directory.lookup("gone") is Presence.KNOWN
        assert ticketing.asked["gone"] == 2
        results = await asyncio.gather(*(directory.lookup(f"bogus-{i}") for i in range(10)))
        assert set(results) <= {Presence.MISSING, Presence.UNKNOWN}
        assert len(directory._missing) <= 3
        assert len(directory._asked) <= 3
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_an_outage_is_not_asked_about_again_at_once(ticketing: FakeTicketing) -> None:
    now = [1000.0]
    directory = Directory(ticketing.url, "Asia/Makassar", 300, retry_after=5, clock=lambda: now[0])
    task = asyncio.create_task(directory.run())
    try:
        ticketing.down = True
        async with asyncio.timeout(5):
            while not ticketing.asked["a"]:
                assert await directory.lookup("a") is Presence.UNKNOWN
                await asyncio.sleep(0.01)
        for name in ("a", "b", "c"):
            assert await directory.lookup(name) is Presence.UNKNOWN
        assert sum(ticketing.asked.values()) == 1
        now[0] += 6
        ticketing.down = False
        assert await directory.lookup("b") is Presence.MISSING
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
