"""Shared steps of the console and journey tests: a hall, a logged-in console, waits on the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import Browser, Page

from tests.integration.conftest import Stack

ROOT = Path(__file__).resolve().parents[2]
IMG = ROOT / "docs" / "img"
CONSOLE_VIEWPORT = {"width": 1366, "height": 768}
PHONE_VIEWPORT = {"width": 390, "height": 844}

HALL = """
branch:
  id: {branch}
  name: MPP Uji Konsol
  timezone: Asia/Makassar
  hours: {{mon: "00:00-24:00", tue: "00:00-24:00", wed: "00:00-24:00", thu: "00:00-24:00",
          fri: "00:00-24:00", sat: "00:00-24:00", sun: "00:00-24:00"}}
  breaks: []
  holidays: []
  issuing_cutoff_minutes: 0
agencies:
  - id: {branch}-disdukcapil
    name: Disdukcapil
    services:
      - {{id: {branch}-ktp, name: Perekaman KTP-el, prefix: A, quota: 300, service_minutes: 6}}
      - {{id: {branch}-kk, name: Kartu Keluarga, prefix: B, quota: 300, service_minutes: 6}}
  - id: {branch}-samsat
    name: Samsat
    services:
      - {{id: {branch}-pkb, name: Pajak Kendaraan Bermotor, prefix: C, quota: 300}}
counters:
  - {{id: {branch}-loket-03, name: Loket 3, zone: lantai-1, services: [{branch}-ktp, {branch}-kk]}}
  - {{id: {branch}-loket-04, name: Loket 4, zone: lantai-1, services: [{branch}-ktp]}}
users: []
"""


async def issue(
    http: aiohttp.ClientSession, stack: Stack, branch: str, service: str = "ktp", **body: Any
) -> Any:
    """Issue a ticket through the API (the kiosk is another page)."""
    resp = await http.post(
        stack.url("ticketing", f"/api/v1/branches/{branch}/tickets"),
        json={"service_id": f"{branch}-{service}", **body},
    )
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def open_console(browser: Browser, stack: Stack, counter: str) -> Page:
    """The console at 1366x768, signed in as the admin, live and showing ``counter``."""
    page = await browser.new_page(viewport=CONSOLE_VIEWPORT, bypass_csp=True)
    await page.goto(stack.url("ticketing", f"/counter?counter={counter}"))
    await page.fill("#username", "admin")
    await page.fill("#password", stack.admin_password)
    await page.click("#masuk button[type=submit]")
    await live(page)
    await page.wait_for_function("() => document.getElementById('status-loket').textContent !== ''")
    return page


async def live(page: Page) -> None:
    """Wait until the page's event stream is connected."""
    await page.wait_for_function(
        "() => document.getElementById('koneksi').dataset.live === '1'", timeout=20000
    )


async def text_is(page: Page, selector: str, expected: str, ceiling_ms: float = 15000) -> None:
    """Wait until ``selector``'s text is ``expected``."""
    await page.wait_for_function(
        "([s, e]) => { const el = document.querySelector(s); return el && el.textContent.trim() === e; }",
        arg=[selector, expected],
        timeout=ceiling_ms,
    )


async def text_has(page: Page, selector: str, expected: str, ceiling_ms: float = 15000) -> None:
    """Wait until ``selector``'s text contains ``expected``."""
    await page.wait_for_function(
        "([s, e]) => { const el = document.querySelector(s); return el && el.textContent.includes(e); }",
        arg=[selector, expected],
        timeout=ceiling_ms,
    )
