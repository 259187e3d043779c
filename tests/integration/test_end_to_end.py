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
import os
import re
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from websockets.asyncio.client import connect

from tests.conftest import SchemaFactory, TopicFactory, unique_name

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]

ROOT = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "e2e-" + unique_name("")

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Stack:
    """The three services as subprocesses sharing one test topic."""

    def __init__(self, env: dict[str, str], ports: dict[str, int], tmp: Path) -> None:
        self.env = env
        self.ports = ports
        self.tmp = tmp
        self.procs: dict[str, asyncio.subprocess.Process] = {}

    def url(self, service: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}{path}"

    async def run(self, *args: str) -> None:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, *args, cwd=ROOT, env=self.env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await proc.communicate()
        assert proc.returncode == 0, f"{args} failed:\n{out.decode()}"

    async def start(self, service: str) -> None:
        log = open(self.tmp / f"{service}.log", "wb")  # noqa: SIM115, ASYNC230 - owned by the process
        self.procs[service] = await asyncio.create_subprocess_exec(
            sys.executable, "-m", f"services.{service}", cwd=ROOT, env=self.env,
            stdout=log, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        log.close()

    async def wait_ready(self, http: aiohttp.ClientSession, service: str) -> None:
        async with asyncio.timeout(60):
            while True:
                proc = self.procs[service]
                assert proc.returncode is None, f"{service} exited:\n{self.log(service)}"
                try:
                    async with http.get(self.url(service, "/readyz")) as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.3)

    def log(self, service: str) -> str:
        return (self.tmp / f"{service}.log").read_text(errors="replace")[-3000:]

    async def stop(self) -> None:
        for proc in self.procs.values():
            if proc.returncode is None:
                proc.terminate()
        for name, proc in self.procs.items():
            try:
                async with asyncio.timeout(20):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()
                pytest.fail(f"{name} did not stop on SIGTERM within 20 s")


@pytest.fixture
async def stack(
    kafka_bootstrap: str,
    database_url: str,
    new_topic: TopicFactory,
    new_schema: SchemaFactory,
    tmp_path: Path,
) -> AsyncIterator[tuple[Stack, str]]:
    branch = unique_name("e2e")
    hall = tmp_path / "hall.yaml"
    hall.write_text(HALL.format(branch=branch), encoding="utf-8")
    ports = {"ticketing": _free_port(), "display": _free_port(), "metrics": _free_port()}
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "DATABASE_URL": database_url,
        "ANTRIAN_EVENTS_TOPIC": await new_topic(partitions=3),
        "ANTRIAN_DLQ_TOPIC": await new_topic(partitions=1, prefix="test.dlq."),
        "ANTRIAN_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "ANTRIAN_LOG_FORMAT": "text",
        "TICKETING_DB_SCHEMA": await new_schema(),
        "METRICS_DB_SCHEMA": await new_schema(),
        "METRICS_CONSUMER_GROUP": unique_name("metrics-e2e-"),
        "DISPLAY_AUDIO_CACHE": str(tmp_path / "audio"),
        "DISPLAY_TICKETING_URL": f"http://127.0.0.1:{ports['ticketing']}",
        "METRICS_TICKETING_URL": f"http://127.0.0.1:{ports['ticketing']}",
        **{f"{name.upper()}_PORT": str(port) for name, port in ports.items()},
        **{f"{name.upper()}_HOST": "127.0.0.1" for name in ports},
    }
    s = Stack(env, ports, tmp_path)
    await s.run("-m", "services.ticketing", "migrate")
    await s.run("-m", "services.ticketing", "seed", str(hall))
    try:
        for service in ports:
            await s.start(service)
        async with aiohttp.ClientSession() as http:
            for service in ports:
                await s.wait_ready(http, service)
        yield s, branch
    finally:
        await s.stop()


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
            s.url("ticketing", "/api/v1/auth/login"), json={"username": "admin", "password": ADMIN_PASSWORD}
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
