"""A citizen books on the phone page, checks in at the kiosk by code, and is called around the slot.

Real processes (ticketing with its relay, display), the real broker and
database, headless Chromium for the phone, the kiosk and the hall screen.
"""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Browser, expect

from tests.integration.conftest import StackStarter

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(180)]

HALL = Path(__file__).resolve().parents[2] / "deploy" / "halls" / "jakarta-small.yaml"
IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


async def test_book_check_in_at_the_kiosk_and_be_called(browser: Browser, start_stack: StackStarter) -> None:
    stack = await start_stack(HALL, services=("ticketing", "display"))
    ticketing = stack.url("ticketing", "")
    phone = await browser.new_page(viewport={"width": 412, "height": 915}, bypass_csp=True)
    await phone.goto(f"{ticketing}/book/jkt")
    await phone.get_by_label("Instansi", exact=True).select_option("jkt-disdukcapil")
    await phone.get_by_label("Layanan", exact=True).select_option("jkt-kk")
    first_slot = phone.locator("#slot button").first
    await expect(first_slot).to_be_visible(timeout=15000)
    await first_slot.click()  # the next slot: its check-in window is open now
    await phone.get_by_label("Nama (opsional)").fill("Siti Aminah")
    await phone.get_by_label("Nomor HP untuk pengingat (opsional)").fill("081234567890")
    await phone.get_by_role("button", name="Pesan", exact=True).click()
    code_el = phone.locator("#kode")
    await expect(code_el).to_have_text(re.compile(r"^[A-Z0-9]{8}$"), timeout=15000)
    code = await code_el.text_content()
    assert code
    await expect(phone.locator("#qr")).to_have_attribute("src", f"/api/v1/bookings/{code}/qr.svg")
    IMG.mkdir(parents=True, exist_ok=True)
    await phone.screenshot(path=str(IMG / "booking.png"), full_page=True)

    kiosk = await browser.new_page(viewport={"width": 1080, "height": 1920}, bypass_csp=True)
    await kiosk.goto(f"{ticketing}/kiosk/jkt")
    await kiosk.locator("#checkin-kode").fill(code.lower())  # typed, as a scanner would
    await kiosk.locator("#checkin-kode").press("Enter")
    number_el = kiosk.locator("#checkin-nomor")
    await expect(number_el).to_have_text(re.compile(r"^B\d{3}$"), timeout=15000)
    number = await number_el.text_content()

    async with aiohttp.ClientSession() as http:
        async with http.get(f"{ticketing}/api/v1/bookings/{code}") as resp:
            booking = await resp.json()
        assert booking["status"] == "checked_in"
        ticket_id = booking["ticket_id"]
        screen = await browser.new_page(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
        await screen.goto(stack.url("display", "/display/jkt?kiosk=1"))
        await screen.wait_for_function("() => window.antrian && window.antrian.connected", timeout=20000)
        await phone.goto(f"{ticketing}/t/{ticket_id}")
        await expect(phone.locator("#nomor")).to_have_text(number or "", timeout=15000)

        login = {"username": "admin", "password": stack.admin_password}
        async with http.post(f"{ticketing}/api/v1/auth/login", json=login) as resp:
            auth = {"Authorization": f"Bearer {(await resp.json())['token']}"}
        async with http.post(f"{ticketing}/api/v1/counters/jkt-loket-02/open", headers=auth) as resp:
            assert resp.status == 200
        async with http.post(f"{ticketing}/api/v1/counters/jkt-loket-02/call-next", headers=auth) as resp:
            assert resp.status == 200, await resp.text()
            called = await resp.json()
    assert called["number"] == number
    assert called["channel"] == "online"
    await expect(screen.locator("#banner-number")).to_have_text(number or "", timeout=15000)
    await expect(phone.locator("#status")).to_contain_text("Dipanggil", timeout=15000)
    await expect(phone.locator("#status")).to_contain_text("Loket 2")
