"""The QR code the kiosk prints, as Chromium draws it, decodes to the citizen's ticket page."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
import zxingcpp
from PIL import Image
from playwright.async_api import Browser, async_playwright

from tests.integration.ticketing.conftest import TicketingHallKit

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.timeout(90)]

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield chromium
        finally:
            await chromium.close()


async def test_the_printed_qr_code_reads_back_as_the_ticket_page(
    hall: TicketingHallKit, browser: Browser
) -> None:
    ticket = await (await hall.issue()).json()
    page = await browser.new_page()
    await page.goto(str(hall.client.make_url(f"/api/v1/tickets/{ticket['id']}/qr.svg")))
    png = await page.locator("svg").screenshot()
    image = Image.open(io.BytesIO(png)).convert("L")
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert [code.text for code in found] == [str(hall.client.make_url(f"/t/{ticket['id']}"))]
