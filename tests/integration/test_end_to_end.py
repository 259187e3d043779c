"""One ticket through the whole system, every part real.

Ticketing writes the ticket and its event in one PostgreSQL transaction, its
relay publishes to Kafka, and both the display and the metrics services
consume it: the hall screen's websocket shows the call with its spoken text,
and the metrics service's Prometheus exposition counts it. Each service runs
as its own process (``python -m services.<name>``) on its own port, topic and
schema, so a broken relay or consumer fails this test.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from websockets.asyncio.client import connect

from tests.conftest import unique_name
from tests.integration.conftest import Stack, StackStarter

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]

HALL = """
branch:
  id: {branch}
  name: MPP Uji Ujung ke Ujung
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
counters:
  - {{id: {branch}-loket-03, name: Loket 3, zone: lantai-1, services: [{branch}-ktp]}}
users: []
"""


@pytest.fixture
async def stack(start_stack: StackStarter, tmp_path: Path) -> tuple[Stack, str]:
    branch = unique_name("e2e")
    hall = tmp_path / "hall.yaml"
    hall.write_text(HALL.format(branch=branch), encoding="utf-8")
    return await start_stack(hall), branch


async def _next_message(ws: Any, wanted: str, number: str) -> dict[str, Any]:
    async with asyncio.timeout(20):
        while True:
            message = json.loads(await ws.recv())
            if message.get("type") == wanted and message.get("number") == number:
                return dict(message)


async def _metric(http: aiohttp.ClientSession, url: str, name: str, branch: str) -> float:
    async with http.get(url) as resp:
        text = await resp.text()
    pattern = re.compile(rf'^{name}\{{[^}}]*branch="{branch}"[^}}]*\}} ([0-9.e+]+)$', re.M)
    return sum(float(m) for m in pattern.findall(text))


async def test_a_ticket_flows_from_counter_to_screen_and_metrics(stack: tuple[Stack, str]) -> None:
    s, branch = stack
    ws_url = f"ws://127.0.0.1:{s.ports['display']}/ws/{branch}"
    async with aiohttp.ClientSession() as http, connect(ws_url) as ws:
        snapshot = json.loads(await ws.recv())
        assert snapshot["type"] == "snapshot"

        async with http.post(
            s.url("ticketing", f"/api/v1/branches/{branch}/tickets"),
            json={"service_id": f"{branch}-ktp", "channel": "kiosk", "priority": False},
        ) as resp:
            assert resp.status == 201, await resp.text()
            ticket = await resp.json()
        assert re.fullmatch(r"A\d{3}", ticket["number"])

        async with http.post(
            s.url("ticketing", "/api/v1/auth/login"), json={"username": "admin", "password": s.admin_password}
        ) as resp:
            assert resp.status == 200, await resp.text()
            auth = {"Authorization": f"Bearer {(await resp.json())['token']}"}
        counter = f"{branch}-loket-03"
        async with http.post(s.url("ticketing", f"/api/v1/counters/{counter}/open"), headers=auth) as resp:
            assert resp.status < 300, await resp.text()
        async with http.post(
            s.url("ticketing", f"/api/v1/counters/{counter}/call-next"), headers=auth
        ) as resp:
            assert resp.status == 200, await resp.text()
            assert (await resp.json())["number"] == ticket["number"]

        called = await _next_message(ws, "ticket.called", ticket["number"])
        assert called["counter_id"] == counter
        assert called["counter_name"] == "Loket 3"
        assert "Loket tiga" in called["announcement"]
        assert called["seq"] > snapshot["seq"]

        metrics_url = s.url("metrics", "/metrics")
        async with asyncio.timeout(20):
            while True:
                if await _metric(http, metrics_url, "qms_tickets_called_total", branch) >= 1:
                    break
                await asyncio.sleep(0.3)
        assert await _metric(http, metrics_url, "qms_tickets_issued_total", branch) == 1
        assert await _metric(http, metrics_url, "qms_tickets_called_total", branch) == 1
