"""The kiosk in Chromium against ticketing as a real process: search → ticket → printed ticket.

The demo hall's 61 services (19 agencies), open all day. The printed ticket's
QR, as Chromium draws it, is read back by zxing-cpp; axe-core finds no serious
or critical violation on the kiosk (both modes) and on the print page.
Screenshots for the README: docs/img/kiosk.png (1080×1920) and docs/img/ticket-print.png.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
import zxingcpp
from PIL import Image
from playwright.async_api import Browser, Page

from tests.browser import axe_core
from tests.integration.conftest import Stack, StackStarter

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]
IMG = ROOT / "docs" / "img"
ALL_DAY = dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), "00:00-24:00")


def demo_hall(tmp: Path) -> Path:
    """The Banjarbaru demo hall open all day, Kartu Keluarga with a quota of one."""
    doc = yaml.safe_load((ROOT / "deploy" / "halls" / "banjarbaru.yaml").read_text(encoding="utf-8"))
    doc["branch"].update(hours=ALL_DAY, breaks=[], holidays=[], issuing_cutoff_minutes=0)
    doc["users"] = []
    for agency in doc["agencies"]:
        for service in agency["services"]:
            if service["id"] == "bjb-kk":
                service["quota"] = 1
    path = tmp / "hall.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


PRINTER = """
window.print = () => {
  localStorage.setItem("printed", String(Number(localStorage.getItem("printed") || 0) + 1));
  setTimeout(() => window.dispatchEvent(new Event("afterprint")), 10);
};
"""


def decode_png(png: bytes) -> list[str]:
    image = Image.open(io.BytesIO(png)).convert("L")
    return [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


async def no_serious_violations(page: Page, where: str) -> None:
    found = await axe_core.violations(page)
    assert found == [], f"{where}: {found}"


async def open_kiosk(browser: Browser, stack: Stack, query: str = "") -> Page:
    page = await browser.new_page(viewport={"width": 1080, "height": 1920}, bypass_csp=True)
    await page.goto(stack.url("ticketing", f"/kiosk/bjb{query}"))
    await page.wait_for_function("() => window.kiosk && window.kiosk.ready", timeout=15000)
    return page


async def api(http: aiohttp.ClientSession, stack: Stack, path: str) -> Any:
    async with http.get(stack.url("ticketing", path)) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def test_kiosk_search_ticket_print_page_and_its_qr(
    browser: Browser, start_stack: StackStarter, tmp_path: Path
) -> None:
    stack = await start_stack(demo_hall(tmp_path), services=("ticketing",))
    async with aiohttp.ClientSession() as http:
        async with http.post(
            stack.url("ticketing", "/api/v1/branches/bjb/tickets"), json={"service_id": "bjb-kk"}
        ) as resp:
            assert resp.status == 201  # Kartu Keluarga's only ticket today
        page = await open_kiosk(browser, stack)
        assert await page.locator("#instansi [role=tab]").count() >= 19

        # Closed before the tap: the used-up quota and when it opens again.
        kk = page.locator('#layanan button[data-service="bjb-kk"]')
        assert await kk.is_disabled()
        assert "kuota habis" in (await kk.text_content() or "")
        assert "buka lagi" in (await kk.text_content() or "")
        await no_serious_violations(page, "kiosk")

        # Search with a typo and a missing word: the first tap on the result issues.
        await page.fill("#cari", "akta kelahirn")
        hit = page.locator('#hasil button[data-service="bjb-akta-lahir"]')
        await hit.wait_for(timeout=10000)
        assert await page.locator("#hasil button").first.get_attribute("data-service") == "bjb-akta-lahir"
        assert "menunggu" in (await hit.text_content() or "")
        IMG.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(IMG / "kiosk.png"))
        await hit.click()
        await page.locator("#tiket").wait_for(state="visible", timeout=10000)
        number = await page.text_content("#t-nomor")
        assert number is not None
        assert re.fullmatch(r"AKL\d{3}", number)

        # The printed ticket: every line, and a QR that decodes to the citizen page.
        await page.click("#cetak")
        await page.wait_for_function("() => window.printed && window.printed.ready", timeout=15000)
        ticket_id = page.url.split("/print/")[1].split("?")[0]
        ticket = await api(http, stack, f"/api/v1/tickets/{ticket_id}")
        assert await page.text_content("#p-nomor") == number == ticket["number"]
        assert await page.text_content("#p-aula") == "MPP Kota Banjarbaru"
        assert await page.text_content("#p-layanan") == "Akta Kelahiran"
        assert "Di depan Anda: 0 orang" in (await page.text_content("#p-depan") or "")
        assert (await page.text_content("#p-waktu") or "").strip()
        qr_png = await page.locator("#p-qr").screenshot()
        assert decode_png(qr_png) == [stack.url("ticketing", f"/t/{ticket_id}")]
        await page.locator("#struk").screenshot(path=str(IMG / "ticket-print.png"))
        await no_serious_violations(page, "print page")

        # Printed as a roll: the controls are not on paper, the page is 80 mm (58 mm on request).
        await page.emulate_media(media="print")
        assert not await page.locator("nav.layar").is_visible()
        assert await page_width_mm(page) == pytest.approx(80, abs=1)
        await page.evaluate("() => document.getElementById('lebar').click()")  # hidden on paper
        assert await page_width_mm(page) == pytest.approx(58, abs=1)
        await page.close()


async def page_width_mm(page: Page) -> float:
    """The width of the first page of the PDF Chromium prints (CSS @page size), in millimetres."""
    pdf = await page.pdf(prefer_css_page_size=True)
    match = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    assert match is not None
    return float(match.group(1)) * 25.4 / 72


async def test_priority_confirmation_language_large_text_idle_reset_autoprint_and_reprint(
    browser: Browser, start_stack: StackStarter, tmp_path: Path
) -> None:
    stack = await start_stack(demo_hall(tmp_path), services=("ticketing",))
    async with aiohttp.ClientSession() as http:
        # One kiosk (one browser profile); its printer records each print and reports it done.
        kiosk = await browser.new_context(viewport={"width": 1080, "height": 1920}, bypass_csp=True)
        await kiosk.add_init_script(PRINTER)
        page = await kiosk.new_page()
        await page.goto(stack.url("ticketing", "/kiosk/bjb?idle=3"))
        await page.wait_for_function("() => window.kiosk && window.kiosk.ready", timeout=15000)
        # A priority group asks first; cancelling keeps the general queue.
        await page.click('#prioritas button[data-group="lansia"]')
        assert await page.locator("#konfirmasi").is_visible()
        await page.click("#konfirmasi-batal")
        assert await page.get_attribute('#prioritas button[data-group=""]', "aria-pressed") == "true"
        await page.click('#prioritas button[data-group="lansia"]')
        await page.click("#konfirmasi-ya")
        assert await page.get_attribute('#prioritas button[data-group="lansia"]', "aria-pressed") == "true"
        # English, large high-contrast text; still no serious violation.
        await page.click("#bahasa")
        assert await page.get_attribute("html", "lang") == "en"
        assert await page.text_content("#cari-label") == "Search services"
        await page.click("#besar")
        assert await page.evaluate("() => document.body.classList.contains('besar')")
        await no_serious_violations(page, "kiosk, English, large text")
        # Idle: back to the start (Indonesian, general queue, normal text).
        await page.fill("#cari", "paspor")
        await page.wait_for_function(
            "() => document.documentElement.lang === 'id' && document.getElementById('cari').value === ''"
            " && !document.body.classList.contains('besar')",
            timeout=20000,
        )
        assert await page.get_attribute('#prioritas button[data-group=""]', "aria-pressed") == "true"

        # Two taps by the tabs, lansia confirmed: a priority ticket.
        await page.click('#prioritas button[data-group="lansia"]')
        await page.click("#konfirmasi-ya")
        await page.click("#tab-bjb-samsat")
        await page.click('#layanan button[data-service="bjb-pkb-tahunan"]')
        await page.locator("#tiket").wait_for(state="visible", timeout=10000)
        number = await page.text_content("#t-nomor")
        await page.close()

        # Autoprint mode: the kiosk opens the print page, which prints and returns.
        page = await kiosk.new_page()
        await page.goto(stack.url("ticketing", "/kiosk/bjb?autoprint=1"))
        await page.wait_for_function("() => window.kiosk && window.kiosk.ready", timeout=15000)
        assert await page.locator("#ulang").is_visible()  # the last ticket of this kiosk
        await page.click("#tab-bjb-samsat")
        await page.click('#layanan button[data-service="bjb-pkb-tahunan"]')
        await page.wait_for_url(re.compile(r"/print/"), timeout=10000)
        printed_id = page.url.split("/print/")[1].split("?")[0]
        await page.wait_for_url(re.compile(r"/kiosk/bjb\?autoprint=1$"), timeout=20000)
        assert await page.evaluate("() => localStorage.getItem('printed')") == "1"
        # Reprint: the same last ticket again.
        await page.wait_for_function("() => window.kiosk && window.kiosk.ready", timeout=15000)
        await page.click("#ulang")
        await page.wait_for_url(re.compile(rf"/print/{printed_id}"), timeout=10000)
        await page.wait_for_url(re.compile(r"/kiosk/bjb"), timeout=20000)
        assert await page.evaluate("() => localStorage.getItem('printed')") == "2"
        first = await api(http, stack, "/api/v1/branches/bjb/queue")
        waiting = {s["service_id"]: s for s in first["services"]}["bjb-pkb-tahunan"]
        assert waiting["waiting"] == 2
        assert waiting["waiting_priority"] == 1
        assert number is not None
        await kiosk.close()
