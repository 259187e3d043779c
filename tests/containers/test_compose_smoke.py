"""The image under podman-compose: a ticket issued through the containerised
ticketing appears on the containerised display's websocket, and its call too.

Run by ``make test-containers`` (deploy/container/podman.sh), which builds the
image and sets ``ANTRIAN_CONTAINER_IMAGE``; elsewhere the test is skipped.
The three services run from the image, started by podman-compose from
deploy/compose/compose.yaml with the deploy/compose/compose.smoke.yaml
override (host networking, no Docker Hub images) against the Kafka and
PostgreSQL of deploy/local/stack.sh, with their own topics and schemas.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from websockets.asyncio.client import connect

from tests.conftest import SchemaFactory, TopicFactory, unique_name
from tests.integration.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose"
IMAGE = os.environ.get("ANTRIAN_CONTAINER_IMAGE", "")
PODMAN_COMPOSE = Path(sys.executable).with_name("podman-compose")
SERVICES = ("ticketing", "display", "metrics")
HALL = "/opt/antrian/app/deploy/halls/jakarta-small.yaml"  # open around the clock
BRANCH, SERVICE, COUNTER = "jkt", "jkt-ktp-el", "jkt-loket-01"

pytestmark = [
    pytest.mark.containers,
    pytest.mark.integration,
    pytest.mark.timeout(420),
    pytest.mark.skipif(not IMAGE, reason="run by `make test-containers`, which builds the image first"),
    pytest.mark.skipif(shutil.which("podman") is None, reason="podman is not installed"),
]


class Compose:
    """podman-compose on compose.yaml + compose.smoke.yaml, as one project."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.project = unique_name("antrian-smoke-")

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [
            str(PODMAN_COMPOSE),
            "-p",
            self.project,
            "-f",
            "compose.yaml",
            "-f",
            "compose.smoke.yaml",
            *args,
        ]
        done = subprocess.run(
            cmd, cwd=COMPOSE, env=self.env, capture_output=True, text=True, timeout=300, check=False
        )
        if check:
            assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done

    def logs(self) -> str:
        done = self.run("logs", check=False)
        return (done.stdout + done.stderr)[-6000:]


@pytest.fixture
async def compose(new_topic: TopicFactory, new_schema: SchemaFactory) -> AsyncIterator[Compose]:
    ports = {name: free_port() for name in SERVICES}
    env = {
        **os.environ,
        "CONTAINERS_CONF": os.environ.get("CONTAINERS_CONF", ""),
        "ANTRIAN_IMAGE": IMAGE,
        "ANTRIAN_SMOKE_HALL": HALL,
        "ANTRIAN_EVENTS_TOPIC": await new_topic(partitions=3),
        "ANTRIAN_DLQ_TOPIC": await new_topic(partitions=1, prefix="test.dlq."),
        "TICKETING_DB_SCHEMA": await new_schema(),
        "METRICS_DB_SCHEMA": await new_schema(),
        "METRICS_CONSUMER_GROUP": unique_name("metrics-smoke-"),
        # compose.yaml insists on these (its env file); the smoke run uses stack.sh's database.
        "POSTGRES_PASSWORD": "unused",
        "GRAFANA_ADMIN_PASSWORD": "unused",
        "ANTRIAN_ADMIN_PASSWORD": "smoke-" + unique_name(""),
        **{f"{name.upper()}_PORT": str(port) for name, port in ports.items()},
    }
    stack = Compose(env)
    try:
        yield stack
    finally:
        stack.run("down", "--timeout", "20", check=False)


async def _wait_ready(http: aiohttp.ClientSession, compose: Compose, service: str) -> None:
    url = f"http://127.0.0.1:{compose.env[f'{service.upper()}_PORT']}/readyz"
    try:
        async with asyncio.timeout(180):
            while True:
                try:
                    async with http.get(url) as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.5)
    except TimeoutError:
        pytest.fail(f"{service} in its container did not become ready:\n{compose.logs()}")


async def _next(ws: Any, wanted: str, number: str) -> dict[str, Any]:
    async with asyncio.timeout(60):
        while True:
            message = json.loads(await ws.recv())
            if message.get("type") == wanted and message.get("number") == number:
                return dict(message)


async def test_a_ticket_reaches_the_containerised_display(compose: Compose) -> None:
    # The init step first (migrations and the hall, once), then the services.
    await asyncio.to_thread(compose.run, "run", "--rm", "migrate")
    await asyncio.to_thread(compose.run, "up", "-d", *SERVICES)
    ports = {name: compose.env[f"{name.upper()}_PORT"] for name in SERVICES}
    async with aiohttp.ClientSession() as http:
        for service in SERVICES:
            await _wait_ready(http, compose, service)
        async with connect(f"ws://127.0.0.1:{ports['display']}/ws/{BRANCH}") as ws:
            snapshot = json.loads(await ws.recv())
            assert snapshot["type"] == "snapshot"
            base = f"http://127.0.0.1:{ports['ticketing']}/api/v1"
            async with http.post(
                f"{base}/branches/{BRANCH}/tickets",
                json={"service_id": SERVICE, "channel": "kiosk", "priority": False},
            ) as resp:
                assert resp.status == 201, await resp.text()
                ticket = await resp.json()
            issued = await _next(ws, "ticket.issued", ticket["number"])
            assert issued["seq"] > snapshot["seq"]

            login = {"username": "admin", "password": compose.env["ANTRIAN_ADMIN_PASSWORD"]}
            async with http.post(f"{base}/auth/login", json=login) as resp:
                assert resp.status == 200, await resp.text()
                auth = {"Authorization": f"Bearer {(await resp.json())['token']}"}
            async with http.post(f"{base}/counters/{COUNTER}/open", headers=auth) as resp:
                assert resp.status < 300, await resp.text()
            async with http.post(f"{base}/counters/{COUNTER}/call-next", headers=auth) as resp:
                assert resp.status == 200, await resp.text()
            called = await _next(ws, "ticket.called", ticket["number"])
            assert called["counter_id"] == COUNTER
            assert "Loket satu" in called["announcement"]
        # The services in the containers run as the image's non-root user.
        for uid in await asyncio.to_thread(_container_uids, compose):
            assert uid != "0"


def _container_uids(compose: Compose) -> list[str]:
    """The user id each running service container of the project runs as."""
    ps = compose.run("ps", "--format", "{{.Names}}")
    names = [n for n in ps.stdout.split() if compose.project in n and "migrate" not in n]
    assert len(names) == len(SERVICES), ps.stdout
    exec_uid = ["podman", "--runtime", "runc", "exec"]
    return [
        subprocess.run(
            [*exec_uid, name, "python", "-c", "import os; print(os.getuid())"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
            env=compose.env,
        ).stdout.strip()
        for name in names
    ]
