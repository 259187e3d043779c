"""The hall page in real headless Chromium against a real display and Kafka."""

from __future__ import annotations

import asyncio
import os
import socket
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import Browser, Page

from services.events import EventType
from tests.integration.display.conftest import DisplayFactory
from tests.integration.display.hallkit import WITA, HallFeed

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(120)]

DOCS = Path(__file__).parents[2] / "docs"


async def _open(browser: Browser, url: str, width: int = 1920, height: int = 1080) -> Page:
    page = await browser.new_page(viewport={"width": width, "height": height}, bypass_csp=True)
    await page.goto(url)
    await page.wait_for_function("() => window.antrian && window.antrian.connected", timeout=15000)
    return page


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_call_reaches_the_screen(browser: Browser, feed: HallFeed, display: DisplayFactory) -> None:
    # How fast is the benchmarks' business (docs/bench-display.md); here only
    # that it arrives, within a ceiling a loaded machine cannot miss.
    await feed.busy_morning()
    running = await display()
    page = await _open(browser, f"http://127.0.0.1:{running.port}/display/{feed.branch}?kiosk=1")
    assert await page.text_content("#banner-number") == "B001"
    await feed.ticket(EventType.TICKET_CALLED, "A012", 2)
    await page.wait_for_function(
        "() => document.getElementById('banner-number').textContent === 'A012'", timeout=30000
    )
    assert await page.text_content("#banner-counter") == "Loket 2"
    card = page.locator("[data-counter-id='c2'] .number")
    assert await card.text_content() == "A012"
    assert not await page.is_visible("#offline")
    now = datetime.now(WITA)  # the hall's own date and clock, in Indonesian
    days = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]
    months = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
              "Oktober", "November", "Desember"]  # fmt: skip
    expected = f"{days[now.weekday()]}, {now.day} {months[now.month - 1]} {now.year}"
    assert await page.text_content("#date") == expected
    clock = await page.text_content("#clock")
    assert clock in {f"{t:%H.%M}" for t in (now - timedelta(minutes=1), now, now + timedelta(minutes=1))}


async def test_offline_badge_then_recovery(browser: Browser, feed: HallFeed, display: DisplayFactory) -> None:
    port = _free_port()
    await feed.busy_morning()
    first = await display(port=port)
    page = await _open(browser, f"http://127.0.0.1:{port}/display/{feed.branch}?kiosk=1")
    await first.close()
    await page.wait_for_selector("#offline", state="visible", timeout=10000)
    assert await page.text_content("#banner-number") == "B001"  # the last state stays on screen
    await feed.ticket(EventType.TICKET_CALLED, "A007", 1)  # happens while the screen is offline
    await display(port=port)
    await page.wait_for_selector("#offline", state="hidden", timeout=30000)
    await page.wait_for_function(
        "() => document.getElementById('banner-number').textContent === 'A007'", timeout=10000
    )


async def test_calls_are_announced_one_after_another(
    browser: Browser, feed: HallFeed, display: DisplayFactory
) -> None:
    running = await display()
    page = await _open(browser, f"http://127.0.0.1:{running.port}/display/{feed.branch}")
    assert await page.is_visible("#sound-prompt")  # browsers need a first tap before sound
    await page.click("#sound-prompt")
    assert not await page.is_visible("#sound-prompt")
    await feed.ticket(EventType.TICKET_CALLED, "A001", 1)
    await feed.ticket(EventType.TICKET_CALLED, "A002", 2)
    await feed.ticket(EventType.TICKET_RECALLED, "A001", 1, recall_count=1)
    await page.wait_for_function("() => window.antrian.spoken.length >= 2", timeout=30000)
    spoken = await page.evaluate("() => window.antrian.spoken")
    assert spoken[0]["text"] == "Nomor antrian A satu, silakan menuju Loket satu"
    assert spoken[1]["text"] == "Nomor antrian A dua, silakan menuju Loket dua"
    # The second waited for the chime and the whole first announcement (no cut-off).
    assert spoken[1]["at"] - spoken[0]["at"] > 2500
    assert spoken[0]["mode"] == "audio"  # headless Chromium has no speech engine: server audio
    await page.wait_for_function("() => window.antrian.spoken.length >= 3", timeout=30000)
    recall = (await page.evaluate("() => window.antrian.spoken"))[2]
    assert recall["text"].startswith("Panggilan ulang, nomor antrian A satu")


async def test_a_burst_of_calls_is_spoken_in_full_and_in_order(
    browser: Browser, feed: HallFeed, display: DisplayFactory
) -> None:
    running = await display()
    page = await _open(browser, f"http://127.0.0.1:{running.port}/display/{feed.branch}?kiosk=1")
    for n in range(1, 13):  # the whole hall calls within a second
        await feed.ticket(EventType.TICKET_CALLED, f"A{n:03d}", 1 + n % 3)
    await page.wait_for_function(
        "() => document.getElementById('banner-number').textContent === 'A012'", timeout=10000
    )
    heard = await page.evaluate(
        "() => window.antrian.spoken.map((s) => s.text).concat(window.antrian.pending())"
    )
    assert len(heard) == 12  # none dropped
    ones = [
        "satu",
        "dua",
        "tiga",
        "empat",
        "lima",
        "enam",
        "tujuh",
        "delapan",
        "sembilan",
        "sepuluh",
        "sebelas",
    ]
    assert [text.split(",")[0] for text in heard] == [f"Nomor antrian A {w}" for w in [*ones, "dua belas"]]


async def test_screenshot_of_a_busy_hall(
    browser: Browser, feed: HallFeed, display: DisplayFactory, tmp_path: Path
) -> None:
    async def directory(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "id": feed.branch,
                "name": "MPP Banjarbaru",
                "timezone": "Asia/Makassar",
                "agencies": [
                    {"id": "disdukcapil", "name": "Disdukcapil"},
                    {"id": "bapenda", "name": "Samsat / Bapenda"},
                    {"id": "polres", "name": "Polres (SKCK)"},
                ],
                "services": [],
                "counters": [
                    {"id": f"c{n}", "name": f"Loket {n}", "zone": "lantai-1" if n < 9 else "lantai-2"}
                    for n in range(1, 11)
                ],
            }
        )

    app = web.Application()
    app.router.add_get("/api/v1/branches/{branch_id}", directory)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        for n in range(1, 10):
            await feed.counter(EventType.COUNTER_OPENED, n)
        await feed.counter(EventType.COUNTER_PAUSED, 9)
        services = ["ktp", "kk", "pbb", "skck"]
        for i in range(1, 40):
            await feed.ticket(EventType.TICKET_ISSUED, f"{'ABCD'[i % 4]}{i:03d}", service=services[i % 4])
        plan = [("B005", 3, "pbb"), ("A004", 1, "ktp"), ("C002", 5, "kk"), ("D003", 7, "skck"),
                ("A008", 2, "ktp"), ("B009", 4, "pbb"), ("C006", 6, "kk"), ("D007", 8, "skck"),
                ("A012", 3, "ktp")]  # fmt: skip
        for number, counter, service in plan:
            await feed.ticket(EventType.TICKET_CALLED, number, counter, service=service)
        for number, counter, service in plan[:5]:
            await feed.ticket(EventType.TICKET_SERVING, number, counter, service=service)
        await feed.ticket(EventType.TICKET_COMPLETED, "A004", 1, service="ktp")
        await feed.ticket(EventType.TICKET_CALLED, "A016", 1, service="ktp")
        await feed.ticket(EventType.TICKET_RECALLED, "C006", 6, service="kk", recall_count=1)
        port = runner.addresses[0][1]
        running = await display(ticketing_url=f"http://127.0.0.1:{port}")
        page = await _open(browser, f"http://127.0.0.1:{running.port}/display/{feed.branch}?kiosk=1")
        await page.wait_for_function(
            "() => document.getElementById('hall-name').textContent === 'MPP Banjarbaru'", timeout=15000
        )
        await asyncio.sleep(3.2)  # let the banner's flash animation end before the picture
        target = (
            DOCS / "hall-screen.png" if os.environ.get("ANTRIAN_SAVE_SCREENSHOT") else tmp_path / "hall.png"
        )
        await page.screenshot(path=str(target))
        assert target.stat().st_size > 50_000
        assert await page.text_content("#banner-number") == "C006"
        overflow = await page.evaluate(
            "() => { const d = document.documentElement;"
            " return d.scrollWidth > innerWidth || d.scrollHeight > innerHeight; }"
        )
        assert not overflow
        font = "() => parseFloat(getComputedStyle(document.getElementById('banner-number')).fontSize)"
        full_hd = await page.evaluate(font)
        await page.set_viewport_size({"width": 3840, "height": 2160})  # 4K: everything scales with the width
        await page.wait_for_timeout(200)
        assert 1.9 < await page.evaluate(font) / full_hd < 2.1
        assert full_hd > 150  # the latest call: ~8 cm tall on a 55" screen, legible from 10 m
    finally:
        await runner.cleanup()


async def test_a_long_heartbeat_interval_does_not_make_the_page_reconnect(
    browser: Browser, feed: HallFeed, display: DisplayFactory
) -> None:
    await feed.busy_morning()
    running = await display(ping_interval_seconds=60)
    page = await browser.new_page(bypass_csp=True)
    await page.clock.install()
    await page.goto(f"http://127.0.0.1:{running.port}/display/{feed.branch}?kiosk=1")
    await page.wait_for_function("() => window.antrian && window.antrian.lastSeq > 0", timeout=15000)
    assert await page.evaluate("() => window.antrian.staleMs") == (2 * 60 + 5) * 1000
    await page.clock.run_for(90_000)  # longer than the old fixed 45 s, shorter than two heartbeats
    assert await page.evaluate("() => window.antrian.resyncs") == 0
    await page.clock.run_for(40_000)  # now the stream has been silent too long: a dead one is still noticed
    assert await page.evaluate("() => window.antrian.resyncs") == 1
