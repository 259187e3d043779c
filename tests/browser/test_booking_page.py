"""The booking page by code: reschedule, cancel, and the English switch (real ticketing, Chromium)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, expect

from tests.integration.conftest import StackStarter

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(150)]

HALL = Path(__file__).resolve().parents[2] / "deploy" / "halls" / "jakarta-small.yaml"


async def test_reschedule_cancel_and_english(browser: Browser, start_stack: StackStarter) -> None:
    stack = await start_stack(HALL, services=("ticketing",))
    page = await browser.new_page(viewport={"width": 412, "height": 915}, bypass_csp=True)
    await page.goto(stack.url("ticketing", "/book/jkt"))
    tomorrow = (datetime.now(UTC).astimezone(ZoneInfo("Asia/Jakarta")) + timedelta(days=1)).date().isoformat()
    await page.get_by_label("Instansi", exact=True).select_option("jkt-samsat")
    await page.get_by_label("Layanan", exact=True).select_option("jkt-pkb")
    await page.get_by_label("Tanggal").fill(tomorrow)
    await page.get_by_label("Tanggal").dispatch_event("change")
    slots = page.locator("#slot button")
    await expect(slots.nth(20)).to_be_visible(timeout=15000)
    await slots.nth(18).click()
    await page.get_by_role("button", name="Pesan", exact=True).click()
    await expect(page.locator("#kode")).to_have_text(re.compile(r"^[A-Z0-9]{8}$"), timeout=15000)
    first = await page.text_content("#jadwal")
    await expect(slots.nth(20)).to_be_visible(timeout=15000)
    await slots.nth(20).click()
    await page.get_by_role("button", name="Pindah ke jam terpilih").click()
    await expect(page.locator("#pesan")).to_have_text("Jadwal dipindah.", timeout=15000)
    assert await page.text_content("#jadwal") != first
    await page.get_by_role("button", name="Batalkan").click()
    await expect(page.locator("#jadwal")).to_contain_text("Dibatalkan", timeout=15000)
    await page.get_by_role("button", name="Switch to English").click()
    await expect(page.locator("#jadwal")).to_contain_text("Cancelled")
    await expect(page.get_by_role("heading", name="Book a slot")).to_be_visible()
    assert await page.get_attribute("html", "lang") == "en"
