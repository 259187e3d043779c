"""The kiosk, counter and citizen pages in headless Chromium against the real app."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, async_playwright, expect

from services.ticketing.housekeeping import Housekeeper
from services.ticketing.keys import POOL
from tests.integration.ticketing.conftest import OPERATOR_PASSWORD, TicketingHallKit

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


async def test_a_citizen_takes_a_ticket_is_called_served_and_rates(
    hall: TicketingHallKit, browser: Browser
) -> None:
    url = hall.client.make_url
    kiosk = await browser.new_page(bypass_csp=True)  # wait_for_function evaluates strings
    await kiosk.goto(str(url(f"/kiosk/{hall.branch}")))
    await kiosk.get_by_role("button", name="Lansia").click()
    await kiosk.get_by_role("button", name="Ya, benar").click()  # a priority group is confirmed
    await kiosk.get_by_role("button", name="KTP-el").click()
    await expect(kiosk.locator("#t-nomor")).to_have_text("A001")
    await expect(kiosk.locator("#t-layanan")).to_contain_text("prioritas")
    await expect(kiosk.locator("#t-qr")).to_be_visible()
    await kiosk.wait_for_function("document.getElementById('t-qr').naturalWidth > 0", timeout=10_000)
    ticket_url = await kiosk.locator("#t-tautan a").get_attribute("href")
    assert ticket_url is not None

    citizen = await browser.new_page(bypass_csp=True)  # wait_for_function evaluates strings
    await citizen.goto(ticket_url)
    await expect(citizen.locator("#status")).to_have_text("Menunggu")

    counter = await browser.new_page(bypass_csp=True)  # wait_for_function evaluates strings
    await counter.goto(str(url("/counter")))
    await counter.fill("#username", f"{hall.branch}-op1")
    await counter.fill("#password", OPERATOR_PASSWORD)
    await counter.get_by_role("button", name="Masuk").click()
    await counter.get_by_role("button", name="Buka").click()
    await expect(counter.locator("#status-loket")).to_have_text("Buka")
    await counter.get_by_role("button", name="Panggil berikutnya").click()
    await expect(counter.locator("#nomor")).to_have_text("A001")
    await citizen.reload()
    await expect(citizen.locator("#status")).to_contain_text("Loket 1")
    await counter.get_by_role("button", name="Mulai layani").click()
    await expect(counter.locator("#info")).to_contain_text("dilayani")
    await counter.get_by_role("button", name="Selesai").click()
    await expect(counter.locator("#nomor")).to_have_text("–")

    await citizen.reload()
    await expect(citizen.locator("#survei")).to_be_visible()
    for select in await citizen.locator("#unsur select").all():
        await select.select_option("4")
    await citizen.get_by_role("button", name="Kirim penilaian").click()
    await expect(citizen.get_by_text("Terima kasih atas penilaian Anda.")).to_be_visible()


async def test_the_citizen_learns_the_queue_of_that_day_was_closed(
    hall: TicketingHallKit, browser: Browser
) -> None:
    citizen_cancels = await (await hall.issue()).json()
    left_over = await (await hall.issue()).json()
    await hall.client.post(f"/api/v1/tickets/{citizen_cancels['id']}/cancel")
    hall.clock.advance(days=1)
    await Housekeeper(hall.client.server.app[POOL], hall.clock, interval=60).run_once()

    page = await browser.new_page(bypass_csp=True)  # wait_for_function evaluates strings
    await page.goto(str(hall.client.make_url(f"/t/{left_over['id']}")))
    await expect(page.locator("#status")).to_have_text("Antrian ditutup")
    await expect(page.locator("#detail")).to_have_text(
        "Antrian hari itu sudah ditutup; silakan ambil nomor baru."
    )
    await expect(page.locator("#batal")).to_be_hidden()
    await page.goto(str(hall.client.make_url(f"/t/{citizen_cancels['id']}")))
    await expect(page.locator("#status")).to_have_text("Dibatalkan")
    await expect(page.locator("#detail")).to_have_text("")
