"""Run the real services and a real Prometheus for the dashboard test.

Each service runs as ``python -m services.<name>`` in a subprocess on a free
127.0.0.1 port, with its own topic, schema and consumer group; Prometheus
(Debian's ``/usr/bin/prometheus``) runs with a temporary config that scrapes
them every second and loads the real ``deploy/prometheus/alerts.yml``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from tests.prometheus.queries import ALERTS, ROOT

PROMETHEUS_BIN = "/usr/bin/prometheus"
JOBS = {"ticketing": "antrian-ticketing", "display": "antrian-display", "metrics": "antrian-metrics"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def available(service: str) -> bool:
    """True when ``python -m services.<service>`` exists in the tree."""
    return (ROOT / "services" / service / "__main__.py").is_file()


def tail(path: Path, lines: int = 30) -> str:
    """The last lines of a log file, for failure messages."""
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


async def eventually(check: Callable[[], Awaitable[Any]], *, within: float, what: str) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.25)
    raise AssertionError(f"{what}: not within {within:.0f} s (last: {last!r})")


class Process:
    """One subprocess with its log file; stopped with SIGTERM, then SIGKILL."""

    def __init__(self, name: str, args: list[str], env: Mapping[str, str], log: Path) -> None:
        self.name, self.args, self.env, self.log = name, args, dict(env), log
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start it, writing stdout and stderr to its log."""
        with self.log.open("wb") as out:
            self.proc = await asyncio.create_subprocess_exec(
                *self.args, env=self.env, cwd=ROOT, stdout=out, stderr=asyncio.subprocess.STDOUT
            )

    def exited(self) -> int | None:
        """Its exit status, or None while it runs."""
        return None if self.proc is None else self.proc.returncode

    async def stop(self) -> None:
        """SIGTERM, wait up to 10 s, then SIGKILL."""
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


async def http_ok(session: aiohttp.ClientSession, url: str) -> bool:
    """True when ``url`` answers 200."""
    with contextlib.suppress(aiohttp.ClientError, TimeoutError):
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as response:
            return response.status == 200
    return False


async def start_service(
    session: aiohttp.ClientSession, service: str, env: Mapping[str, str], port: int, log: Path
) -> Process:
    """Start ``python -m services.<service>`` and wait until its /readyz answers 200."""
    process = Process(service, [sys.executable, "-m", f"services.{service}"], {**os.environ, **env}, log)
    await process.start()

    async def ready() -> bool:
        if process.exited() is not None:
            raise AssertionError(f"{service} exited with {process.exited()}:\n{tail(log)}")
        return await http_ok(session, f"http://127.0.0.1:{port}/readyz")

    try:
        await eventually(ready, within=45, what=f"{service} /readyz")
    except AssertionError as exc:
        await process.stop()
        raise AssertionError(f"{exc}\n{tail(log)}") from None
    return process


def prometheus_config(targets: Mapping[str, int]) -> dict[str, Any]:
    """A test config: scrape every second the services in ``targets`` (name -> port)."""
    return {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(ALERTS)],
        "scrape_configs": [
            {"job_name": JOBS[name], "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
            for name, port in targets.items()
        ],
    }


async def start_prometheus(
    session: aiohttp.ClientSession, targets: Mapping[str, int], workdir: Path
) -> tuple[Process, str]:
    """Start a real Prometheus scraping ``targets``; return it and its base URL once ready."""
    port = free_port()
    config = workdir / "prometheus.yml"
    config.write_text(yaml.safe_dump(prometheus_config(targets)))
    args = [
        PROMETHEUS_BIN,
        f"--config.file={config}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]
    process = Process("prometheus", args, {"PATH": os.environ.get("PATH", "")}, workdir / "prometheus.log")
    await process.start()
    base = f"http://127.0.0.1:{port}"

    async def ready() -> bool:
        if process.exited() is not None:
            raise AssertionError(f"prometheus exited:\n{tail(process.log)}")
        return await http_ok(session, f"{base}/-/ready")

    await eventually(ready, within=30, what="prometheus /-/ready")
    return process, base


async def query(session: aiohttp.ClientSession, base: str, expr: str) -> list[dict[str, Any]]:
    """Run an instant query; return its result vector (raise on a PromQL error)."""
    async with session.post(f"{base}/api/v1/query", data={"query": expr}) as response:
        body = await response.json()
    if body.get("status") != "success":
        raise AssertionError(f"{expr}: {body.get('errorType')}: {body.get('error')}")
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


async def scalar(session: aiohttp.ClientSession, base: str, expr: str) -> float | None:
    """The value of a one-element query, or None when it is empty."""
    result = await query(session, base, expr)
    return float(result[0]["value"][1]) if result else None
