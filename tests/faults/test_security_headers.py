"""Issue 11 #9: every page passes a strict CSP in Chromium, cannot be framed, and names no versions.

The real ticketing and display apps serve their pages to headless Chromium;
a ``securitypolicyviolation`` listener installed before any script runs
records every violation. The pages' scripts must still run (the kiosk's
clock ticks, the hall page's clock shows the time).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import Browser

from services.display.app import init_app as display_app
from services.display.server import start
from tests.browser.conftest import browser
from tests.conftest import SchemaFactory, TopicFactory
from tests.faults.conftest import start_ticketing
from tests.integration.display.hallkit import display_settings

__all__ = ["browser"]

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.timeout(180)]

RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


async def _visit(browser: Browser, url: str, ran: str) -> tuple[list[str], dict[str, str]]:
    """Open ``url``; wait until the JS expression ``ran`` holds; return the violations and the headers."""
    page = await browser.new_page()
    try:
        await page.add_init_script(RECORD_VIOLATIONS)
        response = await page.goto(url)
        assert response is not None
        # wait_for_function evaluates strings inside the page, which this CSP forbids ('unsafe-eval').
        async with asyncio.timeout(20):
            while not await page.evaluate(ran):  # noqa: ASYNC110 - polling the page's own state
                await asyncio.sleep(0.1)
        violations: list[str] = await page.evaluate("window.__violations")
        return violations, await response.all_headers()
    finally:
        await page.close()


async def test_pages_pass_the_strict_csp_and_cannot_be_framed(
    browser: Browser,
    database_url: str,
    kafka_bootstrap: str,
    new_schema: SchemaFactory,
    new_topic: TopicFactory,
    tmp_path: Path,
) -> None:
    ticketing, branch = await start_ticketing(database_url, await new_schema())
    topic = await new_topic(partitions=1)
    display = await start(
        display_app(display_settings(kafka_bootstrap, topic, topic + ".dlq", tmp_path)), "127.0.0.1", 0
    )
    t = str(ticketing.make_url("")).rstrip("/")
    hall_page = f"http://127.0.0.1:{display.port}/display/{branch}"
    pages = {
        f"{t}/kiosk/{branch}": "document.getElementById('jam').textContent !== ''",
        f"{t}/counter": "document.readyState === 'complete'",
        f"{t}/t/no-such-ticket": "document.readyState === 'complete'",
        hall_page: "document.getElementById('clock').textContent !== '--.--'",
    }
    try:
        for url, ran in pages.items():
            violations, headers = await _visit(browser, url, ran)
            assert violations == [], (url, violations)
            csp = headers["content-security-policy"]
            assert "'unsafe-inline'" not in csp
            assert "frame-ancestors 'none'" in csp, url
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["referrer-policy"] == "no-referrer"
            assert headers["server"] == "antrian"
    finally:
        await display.close()
        await ticketing.close()
