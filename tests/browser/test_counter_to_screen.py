"""From the counter's click to the hall TV: ticketing, its outbox relay, Kafka, display, the page.

Both services run as their own processes on the real broker and database;
after each ``call-next`` headless Chromium must show the number in the banner.
How fast is measured by the benchmarks (docs/bench-display.md), not here.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Browser

from tests.conftest import unique_name
from tests.integration.conftest import StackStarter
from tests.integration.test_end_to_end import HALL

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(150)]


async def test_the_screen_shows_each_call_of_the_counter(
    browser: Browser, start_stack: StackStarter, tmp_path: Path
) -> None:
    branch = unique_name("c2s").replace("_", "-")
    hall = tmp_path / "hall.yaml"
    hall.write_text(HALL.format(branch=branch), encoding="utf-8")
    stack = await start_stack(hall, services=("ticketing", "display"))
    counter = f"{branch}-loket-03"
    async with aiohttp.ClientSession() as http:
        login = await http.post(
            stack.url("ticketing", "/api/v1/auth/login"),
            json={"username": "admin", "password": stack.admin_password},
        )
        auth = {"Authorization": f"Bearer {(await login.json())['token']}"}
        assert (await http.post(stack.url("ticketing", f"/api/v1/counters/{counter}/open"), headers=auth)).ok
        numbers = []
        for _ in range(3):
            issued = await http.post(
                stack.url("ticketing", f"/api/v1/branches/{branch}/tickets"),
                json={"service_id": f"{branch}-ktp"},
            )
            numbers.append((await issued.json())["number"])

        page = await browser.new_page(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
        await page.goto(stack.url("display", f"/display/{branch}?kiosk=1"))
        await page.wait_for_function("() => window.antrian && window.antrian.connected", timeout=15000)

        for number in numbers:
            called = await http.post(
                stack.url("ticketing", f"/api/v1/counters/{counter}/call-next"), headers=auth
            )
            assert called.status == 200, await called.text()
            await page.wait_for_function(
                f"() => document.getElementById('banner-number').textContent === '{number}'",
                timeout=30000,
            )
            assert await page.text_content("#banner-counter") == "Loket 3"
            for action in ("start", "complete"):
                assert (
                    await http.post(
                        stack.url("ticketing", f"/api/v1/counters/{counter}/{action}"), headers=auth
                    )
                ).ok
