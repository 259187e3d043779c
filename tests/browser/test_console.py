"""The counter console in Chromium against the real ticketing process (and its PostgreSQL).

One screen at 1366x768 without scrolling; the waiting list with its flags;
buttons that follow the state, driven by their single-key shortcuts; transfer
through a searchable list; pause with a reason; a re-login that keeps the
console's state; a ticketing restart the console rides out by itself; axe-core
finds no serious or critical violation in either language. Writes
docs/img/counter.png.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Browser, Page

from tests.browser import axe_core
from tests.browser.console_kit import HALL, IMG, issue, live, open_console, text_has, text_is
from tests.conftest import unique_name
from tests.integration.conftest import StackStarter

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(300)]


async def _enabled(page: Page) -> set[str]:
    found: list[str] = await page.eval_on_selector_all(
        "[data-act]", "buttons => buttons.filter(b => !b.disabled).map(b => b.dataset.act)"
    )
    return set(found)


async def test_the_counter_console(browser: Browser, start_stack: StackStarter, tmp_path: Path) -> None:
    branch = unique_name("cs").replace("_", "-")
    hall = tmp_path / "hall.yaml"
    hall.write_text(HALL.format(branch=branch), encoding="utf-8")
    stack = await start_stack(hall, services=("ticketing",))
    counter = f"{branch}-loket-03"
    async with aiohttp.ClientSession() as http:
        first = await issue(http, stack, branch)
        elder = await issue(http, stack, branch, priority=True, priority_group="lansia")
        await issue(http, stack, branch, "kk")
        await issue(http, stack, branch, "pkb")  # not this counter's service: not listed

        page = await open_console(browser, stack, counter)
        await text_is(page, "#jumlah", "3")
        rows = await page.eval_on_selector_all("#antrian tr", "trs => trs.map(tr => tr.cells[0].textContent)")
        assert rows[:2] == [elder["number"], first["number"]], "priority first, then first come"
        await text_has(page, "#antrian tr:first-child", "Prioritas")
        assert await _enabled(page) == {"open"}, "a closed counter can only open"

        await page.keyboard.press("b")
        await text_is(page, "#status-loket", "Buka")
        assert await _enabled(page) == {"call-next", "pause", "close"}
        await page.keyboard.press("p")
        await text_is(page, "#nomor", elder["number"])
        assert await _enabled(page) == {"recall", "start", "park"}, "no-show waits for recalls and time"

        # one screen, no scrolling, at the counter PC's 1366x768
        size = await page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight,"
            " innerWidth, innerHeight]"
        )
        assert size[0] <= size[2], size
        assert size[1] <= size[3], size
        await page.screenshot(path=str(IMG / "counter.png"))
        assert await axe_core.violations(page, tags=axe_core.WCAG_AA) == []
        await page.click("#bahasa")
        await text_is(page, "#status-loket", "Open")
        assert await axe_core.violations(page, tags=axe_core.WCAG_AA) == []
        await page.click("#bahasa")
        await text_is(page, "#status-loket", "Buka")

        # the token expires: a re-login dialog, and the recall goes through afterwards
        await page.evaluate("() => { token = 'expired-token'; }")
        await page.keyboard.press("u")
        await page.wait_for_selector("#dialog-masuk[open]")
        await page.fill("#password-lagi", stack.admin_password)
        await page.click("#form-masuk-lagi button[type=submit]")
        await text_is(page, "#recall", "1")
        await text_is(page, "#nomor", elder["number"])

        # transfer through the searchable list: the ticket waits again, flagged
        await page.keyboard.press("m")
        await text_has(page, "#info", "dilayani")
        assert await _enabled(page) == {"complete", "park", "transfer"}
        await page.keyboard.press("a")
        await page.wait_for_selector("#dialog-alih[open]")
        await page.fill("#cari-layanan", "keluarga")
        options = await page.eval_on_selector_all("#pilih-layanan option", "os => os.map(o => o.textContent)")
        assert options == ["B · Kartu Keluarga"]
        await page.click("#form-alih button[type=submit]")
        await text_is(page, "#nomor", "–")
        await text_has(page, "#antrian", "Dialihkan")

        # a pause with its reason
        await page.keyboard.press("i")
        await page.wait_for_selector("#dialog-jeda[open]")
        await page.select_option("#alasan", "sholat")
        await page.click("#form-jeda button[type=submit]")
        await text_is(page, "#status-loket", "Istirahat · Sholat")

        # ticketing restarts: the console reconnects by itself and follows the hall again
        await stack.stop()
        await page.wait_for_function(
            "() => document.getElementById('koneksi').dataset.live === '0'", timeout=20000
        )
        await stack.start("ticketing")
        await stack.wait_ready(http, "ticketing")
        await live(page)
        await issue(http, stack, branch)
        await text_is(page, "#jumlah", "4")
