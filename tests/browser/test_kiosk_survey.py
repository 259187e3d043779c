"""The desk survey code in Chromium, with ticketing and metrics as real processes.

A counter completes a ticket; the desk's printed sign has a QR code (read back
by zxing-cpp) of the desk survey; the citizen answers it in Chromium, with a
profile and a saran; the IKM of metrics for that counter changes and the daily
report carries the suggestion. axe-core: no serious or critical violation on
the sign and the form.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser

from tests.browser.test_kiosk import decode_png, no_serious_violations
from tests.conftest import unique_name
from tests.faults.test_security_headers import RECORD_VIOLATIONS
from tests.integration.conftest import Stack, StackStarter
from tests.integration.test_end_to_end import HALL

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(240)]


async def ikm(http: aiohttp.ClientSession, stack: Stack, branch: str, counter: str) -> dict[str, Any] | None:
    """The counter's IKM this month, or None while metrics does not know the branch yet."""
    async with http.get(
        stack.url("metrics", f"/api/v1/branches/{branch}/ikm"), params={"counter": counter}
    ) as r:
        return dict(await r.json()) if r.status == 200 else None


async def until(check: Any, ceiling: float = 60.0) -> Any:
    """Await ``check()`` until it returns something truthy (a generous ceiling, not a timing assertion)."""
    async with asyncio.timeout(ceiling):
        while not (result := await check()):  # noqa: ASYNC110 - polling another process's state
            await asyncio.sleep(0.2)
    return result


async def test_a_desk_survey_after_a_completed_ticket_changes_the_ikm(
    browser: Browser, start_stack: StackStarter, tmp_path: Path
) -> None:
    branch = unique_name("desk").replace("_", "-")
    hall = tmp_path / "hall.yaml"
    hall.write_text(HALL.format(branch=branch), encoding="utf-8")
    stack = await start_stack(hall, services=("ticketing", "metrics"))
    counter = f"{branch}-loket-03"
    async with aiohttp.ClientSession() as http:
        login = await http.post(
            stack.url("ticketing", "/api/v1/auth/login"),
            json={"username": "admin", "password": stack.admin_password},
        )
        auth = {"Authorization": f"Bearer {(await login.json())['token']}"}
        issued = await http.post(
            stack.url("ticketing", f"/api/v1/branches/{branch}/tickets"), json={"service_id": f"{branch}-ktp"}
        )
        ticket = await issued.json()
        for action in ("open", "call-next", "start", "complete"):
            resp = await http.post(
                stack.url("ticketing", f"/api/v1/counters/{counter}/{action}"), headers=auth
            )
            assert resp.status == 200, await resp.text()
        before = await until(lambda: ikm(http, stack, branch, counter))
        assert before["responses"] == 0

        page = await browser.new_page(viewport={"width": 900, "height": 1270}, bypass_csp=True)
        await page.goto(stack.url("ticketing", f"/counter/{counter}/survey-sign"))
        link = stack.url("ticketing", f"/survey/desk/{counter}")
        assert decode_png(await page.locator(".qr svg").screenshot()) == [link]
        await no_serious_violations(page, "survey sign")

        await page.set_viewport_size({"width": 412, "height": 915})
        await page.goto(link)
        await page.wait_for_function("() => window.survey && window.survey.ready", timeout=15000)
        assert ticket["number"] in (await page.text_content("#sasaran") or "")
        await no_serious_violations(page, "desk survey")
        for i in range(9):
            await page.check(f'input[name="u{i}"][value="{4 if i % 2 else 3}"]')
        await page.select_option("#p-sex", "laki_laki")
        await page.select_option("#p-age_group", "40_49")
        await page.fill("#saran", "Petugas ramah, antrian tertib.")
        await page.click("#kirim")
        await page.wait_for_function("() => window.survey.submitted", timeout=15000)
        assert await page.locator("#terima").is_visible()

        async def answered() -> dict[str, Any] | None:
            now = await ikm(http, stack, branch, counter)
            return now if now and now["responses"] == 1 else None

        after = await until(answered)
        assert after["index"] is not None
        assert after["index"] != before["index"]
        report_url = stack.url("metrics", "/api/v1/reports/daily")
        async with http.get(report_url, params={"branch": branch, "date": ticket["business_date"]}) as r:
            report = await r.json()
        (suggestion,) = report["suggestions"]
        assert suggestion["saran"] == "Petugas ramah, antrian tertib."
        assert (suggestion["sex"], suggestion["age_group"], suggestion["counter"]) == (
            "laki_laki",
            "40_49",
            counter,
        )
        # The same desk code now rates the desk itself (the ticket has its answer).
        await page.goto(link)
        await page.wait_for_function("() => window.survey && window.survey.ready", timeout=15000)
        assert "Loket 3" in (await page.text_content("#sasaran") or "")
        assert ticket["number"] not in (await page.text_content("#sasaran") or "")
        await page.close()


async def test_the_kiosk_print_and_survey_pages_run_under_the_strict_csp(
    browser: Browser, start_stack: StackStarter, tmp_path: Path
) -> None:
    """No ``securitypolicyviolation`` on any of these pages, and their scripts ran (no bypass here)."""
    branch = unique_name("csp").replace("_", "-")
    hall = tmp_path / "hall.yaml"
    hall.write_text(HALL.format(branch=branch), encoding="utf-8")
    stack = await start_stack(hall, services=("ticketing",))
    async with aiohttp.ClientSession() as http:
        issued = await http.post(
            stack.url("ticketing", f"/api/v1/branches/{branch}/tickets"), json={"service_id": f"{branch}-ktp"}
        )
        ticket = await issued.json()
    counter = f"{branch}-loket-03"
    pages = {
        f"/kiosk/{branch}": "window.kiosk.ready === true",
        f"/print/{ticket['id']}?roll=58": "window.printed.ready === true",
        f"/survey/desk/{counter}": "window.survey.ready === true",
        f"/counter/{counter}/survey-sign": "document.readyState === 'complete'",
    }
    for path, ran in pages.items():
        page = await browser.new_page()
        try:
            await page.add_init_script(RECORD_VIOLATIONS)
            await page.goto(stack.url("ticketing", path))
            async with asyncio.timeout(20):
                probe = f"() => {{ try {{ return {ran}; }} catch (e) {{ return false; }} }}"
                while not await page.evaluate(probe):  # noqa: ASYNC110 - the page's own state
                    await asyncio.sleep(0.1)
            assert await page.evaluate("window.__violations") == [], path
        finally:
            await page.close()
