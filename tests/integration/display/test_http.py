"""The display's HTTP side on its one port: health, readiness, metrics, page, audio, directory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from services.display.app import init_app
from services.display.server import start
from services.events import EventType
from tests.integration.display.conftest import DisplayFactory
from tests.integration.display.hallkit import HallFeed, Screen, display_settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
        yield session


async def test_health_metrics_and_problems(display: DisplayFactory, http: aiohttp.ClientSession) -> None:
    running = await display()
    base = f"http://127.0.0.1:{running.port}"
    async with http.get(f"{base}/healthz") as r:
        assert r.status == 200
    async with http.get(f"{base}/readyz") as r:
        assert r.status == 200
        assert (await r.json())["status"] == "ready"
    async with http.get(f"{base}/no/such/page") as r:
        assert r.status == 404
        assert r.content_type == "application/problem+json"
    async with http.post(f"{base}/healthz") as r:
        assert r.status == 405
        assert r.content_type == "application/problem+json"
    async with http.get(f"{base}/display/bad%20id") as r:
        assert r.status == 404
    async with http.get(f"{base}/api/v1/branches/bjb/screen?zone=a%20b") as r:
        assert r.status == 400
    async with http.get(f"{base}/metrics") as r:
        text = await r.text()
    assert 'qms_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"} 1.0' in text
    assert 'route="/display/{branch_id}",status="404"' in text
    assert "process_resident_memory_bytes" in text
    assert "qms_display_messages_sent_total" in text


async def test_readyz_names_kafka_when_the_broker_is_unreachable(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    settings = display_settings("127.0.0.1:1", "nothing", "nothing.dlq", tmp_path)
    running = await start(init_app(settings), "127.0.0.1", 0)
    try:
        async with http.get(f"http://127.0.0.1:{running.port}/healthz") as r:
            assert r.status == 200
        async with http.get(f"http://127.0.0.1:{running.port}/readyz") as r:
            assert r.status == 503
            assert r.content_type == "application/problem+json"
            assert set((await r.json())["down"]) == {"rebuild", "kafka"}
    finally:
        await running.close()


async def test_the_page_and_its_assets_are_served(
    display: DisplayFactory, http: aiohttp.ClientSession
) -> None:
    running = await display()
    base = f"http://127.0.0.1:{running.port}"
    async with http.get(f"{base}/display/bjb?zone=lantai-1") as r:
        assert r.status == 200
        page = await r.text()
    assert "/static/display.js" in page
    assert "http://" not in page.replace("http://www.w3.org", "")  # nothing loaded from the internet
    for asset in ("display.js", "display.css"):
        async with http.get(f"{base}/static/{asset}") as r:
            assert r.status == 200


async def test_announcements_are_served_as_audio(
    feed: HallFeed, display: DisplayFactory, http: aiohttp.ClientSession
) -> None:
    running = await display()
    screen = Screen(f"ws://127.0.0.1:{running.port}/ws/{feed.branch}")
    await screen.open()
    await feed.ticket(EventType.TICKET_CALLED, "A012", 3)
    delta = await screen.next()
    async with http.get(f"http://127.0.0.1:{running.port}{delta['audio_url']}") as r:
        assert r.status == 200
        assert r.content_type == "audio/wav"
        wav = await r.read()
    assert wav[:4] == b"RIFF"
    assert len(wav) > 20_000  # a few seconds of speech, not an empty file
    async with http.get(f"http://127.0.0.1:{running.port}/audio/{'0' * 24}.wav") as r:
        assert r.status == 404  # only text the server produced can be synthesized
    await screen.close()


async def test_the_directory_names_the_hall_and_its_counters(feed: HallFeed, display: DisplayFactory) -> None:
    async def branch(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "id": request.match_info["branch_id"],
                "name": "MPP Banjarbaru",
                "timezone": "Asia/Makassar",
                "agencies": [{"id": "disdukcapil", "name": "Dinas Dukcapil"}],
                "services": [],
                "counters": [{"id": f"c{n}", "name": f"Loket {n}", "zone": "lantai-1"} for n in (1, 2, 10)],
            }
        )

    app = web.Application()
    app.router.add_get("/api/v1/branches/{branch_id}", branch)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        await feed.ticket(EventType.TICKET_ISSUED, "A001")
        running = await display(ticketing_url=f"http://127.0.0.1:{port}")
        screen = Screen(f"ws://127.0.0.1:{running.port}/ws/{feed.branch}")
        await screen.open()
        if screen.snapshot["hall"]["name"] != "MPP Banjarbaru":
            await screen.until(lambda m: m["type"] == "snapshot", within=10)  # resync once it is known
        snap = screen.snapshot
        assert snap["hall"]["name"] == "MPP Banjarbaru"
        assert [c["name"] for c in snap["counters"]] == ["Loket 1", "Loket 2", "Loket 10"]
        assert snap["waiting"]["agencies"][0]["name"] == "Dinas Dukcapil"
        await screen.close()
    finally:
        await runner.cleanup()
    await asyncio.sleep(0)
