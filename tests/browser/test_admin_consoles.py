"""The admin console and the supervisor's hall monitor, driven in Chromium against the real stack.

Ticketing and display run as processes on the real Kafka and PostgreSQL. The
admin adds an agency, a service and a counter through the console: the kiosk's
branch detail lists the service and the hall screen shows the counter within
5 seconds, without a restart. The supervisor stops issuing for a service (the
kiosk's issuing is refused with the reason) and puts a running text on the
hall screen. Screenshots go to docs/img/admin.png and docs/img/supervisor.png.
"""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Browser, Page

from tests.conftest import unique_name
from tests.integration.conftest import StackStarter
from tests.integration.test_end_to_end import HALL

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(240)]

IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
AXE_VERSION = "4.14.1"
AXE_CACHE = Path.home() / ".cache" / "antrian" / f"axe-core-{AXE_VERSION}"
SUPERVISOR_PASSWORD = "supervisor-pass-1"


async def fill(page: Page, form: str, values: dict[str, str]) -> None:
    for name, value in values.items():
        await page.fill(f"#{form} [name={name}]", value)
    await page.click(f"#{form} button")
    await page.wait_for_function("() => document.getElementById('ok').textContent !== ''", timeout=15000)
    await page.evaluate("() => { document.getElementById('ok').textContent = ''; }")


def axe_script() -> str:
    """axe.min.js of the pinned axe-core, fetched once with ``npm pack`` into a cache."""
    script = AXE_CACHE / "package" / "axe.min.js"
    if not script.exists():
        AXE_CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "pack", f"axe-core@{AXE_VERSION}"],
            cwd=AXE_CACHE,
            check=True,
            capture_output=True,
            timeout=120,
        )
        with tarfile.open(AXE_CACHE / f"axe-core-{AXE_VERSION}.tgz") as tgz:
            tgz.extract("package/axe.min.js", AXE_CACHE, filter="data")
    return script.read_text(encoding="utf-8")


async def accessibility_problems(page: Page) -> list[str]:
    """The serious and critical axe-core violations of the page as it stands."""
    await page.add_script_tag(content=axe_script())
    result = await page.evaluate("async () => await axe.run(document)")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} x{len(v['nodes'])}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


async def log_in(page: Page, username: str, password: str) -> None:
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("#masuk button")
    await page.wait_for_selector("#kerja:not(.tersembunyi)", timeout=15000)


async def test_admin_and_supervisor_consoles_change_the_hall_live(
    browser: Browser, start_stack: StackStarter, tmp_path: Path
) -> None:
    branch = unique_name("adm").replace("_", "-")
    hall = tmp_path / "hall.yaml"
    hall.write_text(HALL.format(branch=branch), encoding="utf-8")
    stack = await start_stack(hall, services=("ticketing", "display"))
    IMG.mkdir(parents=True, exist_ok=True)

    screen = await browser.new_page(viewport={"width": 1600, "height": 900}, bypass_csp=True)
    await screen.goto(stack.url("display", f"/display/{branch}"))
    await screen.wait_for_function("() => window.antrian && window.antrian.connected", timeout=20000)

    page = await browser.new_page(viewport={"width": 1400, "height": 1300}, bypass_csp=True)
    await page.goto(stack.url("ticketing", "/admin"))
    await log_in(page, "admin", stack.admin_password)
    await page.select_option("#cabang", branch)
    await page.wait_for_function(
        f"() => document.getElementById('instansi').textContent.includes('{branch}')"
    )
    await fill(page, "f-instansi", {"id": f"{branch}-bpjs", "name": "BPJS Kesehatan"})
    await page.select_option("#pilih-instansi", f"{branch}-bpjs")
    await fill(page, "f-layanan", {"id": f"{branch}-jkn", "name": "JKN-KIS", "prefix": "J", "quota": "80"})
    await fill(page, "f-loket", {"id": f"{branch}-loket-09", "name": "Loket 9", "zone": "lantai-1",
                                 "service_ids": f"{branch}-jkn, {branch}-ktp"})  # fmt: skip
    await page.select_option("#f-pengguna [name=role]", "supervisor")
    await fill(page, "f-pengguna", {"username": f"{branch}-sup", "password": SUPERVISOR_PASSWORD,
                                    "counter_ids": ""})  # fmt: skip
    async with aiohttp.ClientSession() as http:
        login = await http.post(stack.url("ticketing", "/api/v1/auth/login"),
                                json={"username": "admin", "password": stack.admin_password})  # fmt: skip
        auth = {"Authorization": f"Bearer {(await login.json())['token']}"}
        detail = await (await http.get(stack.url("ticketing", f"/api/v1/branches/{branch}"))).json()
        assert f"{branch}-jkn" in [s["id"] for s in detail["services"]]  # the kiosk reads this each time
        # the hall screen shows the new counter within 5 seconds, no restart
        await screen.wait_for_function(
            "() => document.getElementById('counters').textContent.includes('Loket 9')", timeout=5000
        )
        await page.screenshot(path=str(IMG / "admin.png"), full_page=True)
        assert await accessibility_problems(page) == []
        audit = await (await http.get(stack.url("ticketing", f"/api/v1/audit?branch_id={branch}"),
                                      headers=auth)).json()  # fmt: skip
        actions = {i["action"] for i in audit["items"]}
        assert {"agency.created", "service.created", "counter.created", "user.created"} <= actions

        for _ in range(3):
            await http.post(stack.url("ticketing", f"/api/v1/branches/{branch}/tickets"),
                            json={"service_id": f"{branch}-jkn"})  # fmt: skip
        sup = await browser.new_page(viewport={"width": 1400, "height": 1200}, bypass_csp=True)
        await sup.goto(stack.url("ticketing", f"/supervisor/{branch}"))
        await log_in(sup, f"{branch}-sup", SUPERVISOR_PASSWORD)
        await sup.wait_for_function("() => window.monitor.refreshes > 0", timeout=15000)
        await sup.fill("[aria-label='Alasan JKN-KIS']", "Sistem BPJS gangguan")
        await sup.click("text=Hentikan JKN-KIS")
        await sup.wait_for_selector("text=Buka lagi JKN-KIS", timeout=15000)
        refused = await http.post(stack.url("ticketing", f"/api/v1/branches/{branch}/tickets"),
                                  json={"service_id": f"{branch}-jkn"})  # fmt: skip
        assert refused.status == 409
        body = await refused.json()
        assert body["reason"] == "stopped"
        assert "Sistem BPJS gangguan" in body["detail"]
        await sup.fill("#f-umum [name=text]", "Layanan BPJS dihentikan sementara")
        await sup.click("#f-umum button")
        await screen.wait_for_function(
            "() => !document.getElementById('marquee').hidden &&"
            " document.getElementById('marquee-text').textContent.includes('BPJS dihentikan')",
            timeout=10000,
        )
        await sup.wait_for_function(
            "() => document.getElementById('audit').textContent.includes('hall.announcement')", timeout=15000
        )
        await sup.screenshot(path=str(IMG / "supervisor.png"), full_page=True)
        assert await accessibility_problems(sup) == []
