"""A steady hall day driven through the load balancer, and the screens watching it.

:func:`seed_branch` loads a fresh branch of its own into the cluster (so a
test never sees another's tickets). :class:`HallLoad` issues tickets at a
steady rate and runs several counters (call next, start, complete, survey),
every request through HAProxy, like kiosks and counter clients would; it
records every answer that was not a success. :class:`Screen` is a hall screen
on the display balancer that reconnects by itself, recording every call it
is shown and when.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from tests.cluster.cluster import ROOT, Cluster

SERVICES = ("svc-a", "svc-b", "svc-c")
COUNTERS = ("loket-1", "loket-2", "loket-3", "loket-4")
REQUEST_TIMEOUT = 20.0
"""A request unanswered this long counts as a hang."""


@dataclass(frozen=True)
class Branch:
    """A branch seeded for one test."""

    id: str
    services: tuple[str, ...]
    counters: tuple[str, ...]


def hall_file(branch_id: str) -> str:
    """A hall open around the clock with three services and four counters."""
    services = "\n".join(
        f"      - {{id: {branch_id}-{s}, name: Layanan {s[-1].upper()}, prefix: {s[-1].upper()},"
        f" quota: 999, service_minutes: 1}}"
        for s in SERVICES
    )
    all_services = ", ".join(f"{branch_id}-{s}" for s in SERVICES)
    counters = "\n".join(
        f"  - {{id: {branch_id}-{c}, name: Loket {i}, zone: lantai-1, services: [{all_services}]}}"
        for i, c in enumerate(COUNTERS, 1)
    )
    day = '"00:00-24:00"'
    hours = ", ".join(f"{d}: {day}" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    return (
        f"branch:\n  id: {branch_id}\n  name: Cluster test {branch_id}\n  timezone: Asia/Jakarta\n"
        f"  hours: {{{hours}}}\n  breaks: []\n  holidays: []\n  issuing_cutoff_minutes: 0\n"
        f"  calling: {{max_priority_streak: 2, no_show_min_recalls: 1, no_show_min_seconds: 60}}\n"
        f"agencies:\n  - id: {branch_id}-agency\n    name: Dinas Uji\n    services:\n{services}\n"
        f"counters:\n{counters}\n"
    )


def seed_branch(cluster: Cluster, tmp: Path, prefix: str = "cl") -> Branch:
    """Load a fresh branch into the cluster's database with ``python -m services.ticketing seed``."""
    branch_id = f"{prefix}{secrets.token_hex(3)}"
    path = tmp / f"{branch_id}.yaml"
    path.write_text(hall_file(branch_id))
    env = {**os.environ, "DATABASE_URL": cluster.database_url, "ANTRIAN_LOG_FORMAT": "text"}
    done = subprocess.run(
        [sys.executable, "-m", "services.ticketing", "seed", str(path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"seeding {branch_id} failed:\n{done.stdout}\n{done.stderr}"
    return Branch(
        branch_id,
        tuple(f"{branch_id}-{s}" for s in SERVICES),
        tuple(f"{branch_id}-{c}" for c in COUNTERS),
    )


@dataclass(frozen=True)
class Failure:
    """One answer that was not a success (or no answer at all)."""

    at: float
    what: str
    status: int | None
    retry_after: str | None = None
    error: str | None = None


@dataclass
class HallLoad:
    """Kiosks and counters of one branch, through the ticketing balancer."""

    http: aiohttp.ClientSession
    lb: str
    branch: Branch
    token: str
    issue_per_second: float = 3.0
    accepted: dict[str, str] = field(default_factory=dict)
    """Ticket id -> number, for every 201 (or idempotent replay)."""
    called_at: dict[str, float] = field(default_factory=dict)
    """Ticket number -> when call-next answered with it (monotonic)."""
    completed: set[str] = field(default_factory=set)
    surveyed: set[str] = field(default_factory=set)
    failures: list[Failure] = field(default_factory=list)
    requests: int = 0
    stop_issuing: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def headers(self) -> dict[str, str]:
        """The staff token: issuing on a citizen's behalf is not throttled."""
        return {"Authorization": f"Bearer {self.token}"}

    async def request(
        self, what: str, path: str, body: dict[str, Any], extra: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        """POST until the balancer answers with a success; every other answer is recorded.

        A 409 after an attempt that got no answer means the first attempt was applied.
        """
        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT):
                    async with self.http.post(
                        self.lb + path, json=body, headers={**self.headers, **(extra or {})}
                    ) as resp:
                        payload = await resp.json(content_type=None) if resp.status != 204 else None
                        if resp.status < 300 or (resp.status == 409 and attempt > 1):
                            return resp.status, payload
                        self.failures.append(
                            Failure(time.monotonic(), what, resp.status, resp.headers.get("Retry-After"))
                        )
                        delay = float(resp.headers.get("Retry-After", "0.5"))
            except TimeoutError:
                self.failures.append(Failure(time.monotonic(), what, None, error="hang"))
                delay = 0.5
            except aiohttp.ClientError as exc:
                self.failures.append(Failure(time.monotonic(), what, None, error=repr(exc)))
                delay = 0.5
            await asyncio.sleep(min(delay, 5.0))

    async def open_counters(self) -> None:
        """Open every counter of the branch."""
        for counter in self.branch.counters:
            await self.request("open", f"/api/v1/counters/{counter}/open", {})

    async def issue(self) -> None:
        """Issue tickets at a steady rate until told to stop; each one retried with its key."""
        n = 0
        while not self.stop_issuing.is_set():
            service = self.branch.services[n % len(self.branch.services)]
            n += 1
            key = str(uuid.uuid4())
            _, ticket = await self.request(
                "issue",
                f"/api/v1/branches/{self.branch.id}/tickets",
                {"service_id": service, "channel": "kiosk", "priority": n % 7 == 0},
                {"Idempotency-Key": key},
            )
            self.accepted[ticket["id"]] = ticket["number"]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_issuing.wait(), 1.0 / self.issue_per_second)

    async def serve(self, counter: str) -> None:
        """Call next, start, complete and (every other ticket) survey, until nobody waits."""
        base = f"/api/v1/counters/{counter}"
        while True:
            status, ticket = await self.request("call-next", f"{base}/call-next", {})
            if status == 204:
                if self.stop_issuing.is_set():
                    return
                await asyncio.sleep(0.3)
                continue
            if status == 409:  # a retried call whose first attempt went through: its ticket is active
                ticket = await self.active_ticket(counter)
                if ticket is None:
                    continue
            self.called_at.setdefault(ticket["number"], time.monotonic())
            await asyncio.sleep(0.2)
            if ticket.get("status") != "serving":
                await self.request("start", f"{base}/start", {})
            await self.request("complete", f"{base}/complete", {})
            self.completed.add(ticket["id"])
            if len(self.completed) % 2:
                await self.request(
                    "survey",
                    f"/api/v1/tickets/{ticket['id']}/survey",
                    {"scores": [4, 3, 4, 4, 3, 4, 4, 3, 4]},
                )
                self.surveyed.add(ticket["id"])

    async def get(self, path: str) -> Any:
        """GET until the balancer answers 200."""
        while True:
            self.requests += 1
            try:
                async with (
                    asyncio.timeout(REQUEST_TIMEOUT),
                    self.http.get(self.lb + path, headers=self.headers) as r,
                ):
                    if r.status == 200:
                        return await r.json()
                    self.failures.append(
                        Failure(time.monotonic(), "get", r.status, r.headers.get("Retry-After"))
                    )
            except (TimeoutError, aiohttp.ClientError) as exc:
                self.failures.append(Failure(time.monotonic(), "get", None, error=repr(exc)))
            await asyncio.sleep(0.5)

    async def active_ticket(self, counter: str) -> dict[str, Any] | None:
        """The ticket a counter is busy with, if any."""
        view = await self.get(f"/api/v1/counters/{counter}")
        if not view.get("active_ticket_id"):
            return None
        ticket: dict[str, Any] = await self.get(f"/api/v1/tickets/{view['active_ticket_id']}")
        return ticket

    async def run(self) -> None:
        """Issue and serve until :attr:`stop_issuing` is set and every ticket has been served."""
        await asyncio.gather(self.issue(), *(self.serve(c) for c in self.branch.counters))


async def login(http: aiohttp.ClientSession, lb: str, password: str) -> str:
    """The admin's bearer token, through the balancer."""
    async with http.post(f"{lb}/api/v1/auth/login", json={"username": "admin", "password": password}) as r:
        assert r.status == 200, await r.text()
        token: str = (await r.json())["token"]
        return token


@dataclass
class Screen:
    """A hall screen on the display balancer: reconnects by itself, remembers every call shown."""

    url: str
    live: dict[int, tuple[str, float]] = field(default_factory=dict)
    """Sequence of a call or recall message -> (ticket number, when it arrived)."""
    in_snapshots: set[int] = field(default_factory=set)
    shown_twice: list[int] = field(default_factory=list)
    connects: int = 0
    last_seq: int = 0
    reconnect_gaps: list[float] = field(default_factory=list)

    async def run(self, stop: asyncio.Event) -> None:
        """Watch until ``stop``; a closed or refused connection is retried every 0.5 s."""
        lost_at: float | None = None
        while not stop.is_set():
            try:
                async with connect(self.url, open_timeout=10, ping_interval=5, ping_timeout=10) as ws:
                    async for raw in ws:
                        if lost_at is not None:
                            self.reconnect_gaps.append(time.monotonic() - lost_at)
                            lost_at = None
                        self._take(json.loads(raw))
                        if stop.is_set():
                            return
            except (OSError, TimeoutError, WebSocketException):
                pass
            if lost_at is None:
                lost_at = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)

    def _take(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "snapshot":
            self.connects += 1
            self.in_snapshots.update(int(c["seq"]) for c in message.get("calls", []))
        elif kind in ("ticket.called", "ticket.recalled"):
            seq = int(message["seq"])
            if seq in self.live:
                self.shown_twice.append(seq)
            self.live[seq] = (str(message["number"]), time.monotonic())
        if kind != "heartbeat" and isinstance(message.get("seq"), int):
            self.last_seq = max(self.last_seq, message["seq"])

    def arrivals(self) -> dict[str, float]:
        """Ticket number -> when its first call reached this screen."""
        first: dict[str, float] = {}
        for number, at in self.live.values():
            first[number] = min(at, first.get(number, at))
        return first
