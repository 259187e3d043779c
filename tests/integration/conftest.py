"""Run the services as real processes (``python -m services.<name>``), for the tests that need that.

:class:`Stack` starts them on free ports with their own topics and schemas;
the ``start_stack`` fixture migrates, seeds a hall file, starts the services
asked for, waits for their ``/readyz`` and stops them (SIGTERM) afterwards.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import SchemaFactory, TopicFactory, unique_name

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("ticketing", "display", "metrics")


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Stack:
    """Services as subprocesses sharing one test topic."""

    def __init__(self, env: dict[str, str], ports: dict[str, int], tmp: Path) -> None:
        self.env = env
        self.ports = ports
        self.tmp = tmp
        self.procs: dict[str, asyncio.subprocess.Process] = {}

    @property
    def admin_password(self) -> str:
        return self.env["ANTRIAN_ADMIN_PASSWORD"]

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


StackStarter = Callable[..., Awaitable[Stack]]


@pytest.fixture
async def start_stack(
    kafka_bootstrap: str,
    database_url: str,
    new_topic: TopicFactory,
    new_schema: SchemaFactory,
    tmp_path: Path,
) -> AsyncIterator[StackStarter]:
    """``await start_stack(hall_file, services=...)``: a seeded, ready stack, stopped after the test."""
    started: list[Stack] = []

    async def start(hall: Path, services: Sequence[str] = SERVICES) -> Stack:
        ports = {name: free_port() for name in services}
        ticketing_url = f"http://127.0.0.1:{ports.get('ticketing') or free_port()}"
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "DATABASE_URL": database_url,
            "ANTRIAN_EVENTS_TOPIC": await new_topic(partitions=3),
            "ANTRIAN_DLQ_TOPIC": await new_topic(partitions=1, prefix="test.dlq."),
            "ANTRIAN_ADMIN_PASSWORD": "e2e-" + unique_name(""),
            "ANTRIAN_LOG_FORMAT": "text",
            "TICKETING_DB_SCHEMA": await new_schema(),
            "METRICS_DB_SCHEMA": await new_schema(),
            "METRICS_CONSUMER_GROUP": unique_name("metrics-e2e-"),
            "DISPLAY_AUDIO_CACHE": str(tmp_path / "audio"),
            "DISPLAY_TICKETING_URL": ticketing_url,
            "METRICS_TICKETING_URL": ticketing_url,
            **{f"{name.upper()}_PORT": str(port) for name, port in ports.items()},
            **{f"{name.upper()}_HOST": "127.0.0.1" for name in ports},
        }
        stack = Stack(env, ports, tmp_path)
        started.append(stack)
        await stack.run("-m", "services.ticketing", "migrate")
        await stack.run("-m", "services.ticketing", "seed", str(hall))
        for service in services:
            await stack.start(service)
        async with aiohttp.ClientSession() as http:
            for service in services:
                await stack.wait_ready(http, service)
        return stack

    try:
        yield start
    finally:
        for stack in started:
            await stack.stop()
