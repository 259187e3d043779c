"""Fixtures of the browser tests: headless Chromium, plus the display's test fixtures.

Pages are opened with ``bypass_csp=True``: the pages' strict CSP forbids the
eval that Playwright's ``wait_for_function`` needs. The CSP itself is checked
in Chromium by ``tests/faults/test_security_headers.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, async_playwright

from tests.integration.conftest import start_stack
from tests.integration.display.conftest import display, feed, producer, topics

__all__ = ["browser", "display", "feed", "producer", "start_stack", "topics"]

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """A headless Chromium that may play sound without a gesture (as a kiosk TV is set up)."""
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        try:
            yield chromium
        finally:
            await chromium.close()
