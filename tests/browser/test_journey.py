"""The frontline journey in Chromium, every service its own process on the real broker and database.

Issue (API) → the phone page shows its position → the console calls with its
keyboard shortcut → the hall screen and the phone both show the call → park
and return → complete → the survey on the phone → the IKM changes in metrics.
Screenshots for the README: docs/img/citizen.png and docs/img/hall-screen.png.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from playwright.async_api import Browser

from tests.browser import axe_core
from tests.browser.console_kit import HALL, IMG, PHONE_VIEWPORT, issue, open_console, text_has, text_is
from tests.conftest import unique_name
from tests.integration.conftest import StackStarter

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(300)]


async def _ikm_responses(http: aiohttp.ClientSession, url: str) -> int:
    async with http.get(url) as resp:
        assert resp.status == 200, await resp.text()
        responses: int = (await resp.json())["responses"]
        return responses


async def test_the_citizens_journey(browser: Browser, start_stack: StackStarter, tmp_path: Path) -> None:
    branch = unique_name("jr").replace("_", "-")
    hall = tmp_path / "hall.yaml"
    hall.write_text(HALL.format(branch=branch), encoding="utf-8")
    stack = await start_stack(hall, services=("ticketing", "display", "metrics"))
    counter = f"{branch}-loket-03"
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Makassar")).date().isoformat()
    ikm_url = stack.url("metrics", f"/api/v1/branches/{branch}/ikm?from={today}&to={today}")
    async with aiohttp.ClientSession() as http:
        ahead = await issue(http, stack, branch)
        mine = await issue(http, stack, branch)

        phone = await browser.new_page(viewport=PHONE_VIEWPORT, bypass_csp=True)
        await phone.goto(stack.url("ticketing", f"/t/{mine['id']}"))
        await text_is(phone, "#nomor", mine["number"])
        await text_has(phone, "#detail", "Posisi 2")
        await text_is(phone, "#segera", "Tinggal 1 orang lagi sebelum Anda.")
        await phone.screenshot(path=str(IMG / "citizen.png"))
        assert await axe_core.violations(phone, tags=axe_core.WCAG_AA) == []

        screen = await browser.new_page(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
        await screen.goto(stack.url("display", f"/display/{branch}?kiosk=1"))
        await screen.wait_for_function("() => window.antrian && window.antrian.connected", timeout=20000)

        console = await open_console(browser, stack, counter)
        await console.keyboard.press("b")  # open the counter
        await text_is(console, "#status-loket", "Buka")
        await console.keyboard.press("p")  # call the first citizen: the phone moves up
        await text_is(console, "#nomor", ahead["number"])
        await text_has(phone, "#detail", "Posisi 1")
        await text_is(phone, "#segera", "Anda berikutnya!")
        await console.keyboard.press("m")
        await text_has(console, "#info", "dilayani")  # the buttons follow the state the console sees
        await console.keyboard.press("s")
        await text_is(console, "#nomor", "–")

        await console.keyboard.press("p")  # now this citizen is called
        await text_is(console, "#nomor", mine["number"])
        await text_is(screen, "#banner-number", mine["number"], ceiling_ms=20000)
        await text_is(phone, "#teks-panggilan", f"Nomor {mine['number']} — silakan ke Loket 3")
        assert await phone.is_visible("#panggilan")
        await screen.screenshot(path=str(IMG / "hall-screen.png"))
        await phone.click("#tutup-panggilan")

        # the citizen steps out for a photocopy: parked, then back at the original place
        later = await issue(http, stack, branch)
        await console.keyboard.press("k")
        await text_is(console, "#nomor", "–")
        await text_has(phone, "#status", "Ditunda")
        await console.click(f"#kembali button[aria-label='Kembalikan {mine['number']}']")
        await text_has(phone, "#detail", "Posisi 1")
        await console.keyboard.press("p")
        await text_is(console, "#nomor", mine["number"])
        assert mine["number"] != later["number"]
        await console.keyboard.press("m")
        await text_has(phone, "#status", "Sedang dilayani")
        await text_has(console, "#info", "dilayani")
        await console.keyboard.press("s")

        # the survey on the phone, then the IKM in metrics
        await phone.wait_for_selector("#survei:not(.tersembunyi)", timeout=15000)
        before = await _ikm_responses(http, ikm_url)
        for select in await phone.query_selector_all("#unsur select"):
            await select.select_option("4")
        await phone.click("#survei button[type=submit]")
        await phone.wait_for_selector("#terima-kasih", timeout=15000)
        for _ in range(120):  # metrics folds the survey from Kafka: up to a minute under load
            if await _ikm_responses(http, ikm_url) != before:
                break
            await asyncio.sleep(0.5)
        assert await _ikm_responses(http, ikm_url) == before + 1
        await text_has(console, "#ikm", "100.00 (1)")
