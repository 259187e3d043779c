"""`make demo` against a real ticketing service: the demo drives it through the API alone.

The ticketing service runs as a process on a free port with its own schema
and topic, seeded with the real demo hall ``deploy/halls/jakarta-small.yaml``
(open around the clock). The demo runs as ``python -m deploy.local.demo`` for
ten seconds at high speed; then this test asks the API, not the demo, what
became of the tickets it reports.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.integration.conftest import ROOT, Stack, StackStarter, free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]

JKT = ROOT / "deploy" / "halls" / "jakarta-small.yaml"
FINISHED_OR_AT_A_COUNTER = {"called", "serving", "completed", "no_show"}


async def run_demo(env: dict[str, str], *args: str, within: float = 60) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "deploy.local.demo", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), within)
    except TimeoutError:
        proc.kill()
        out, _ = await proc.communicate()
        pytest.fail(f"the demo did not stop within {within:.0f} s:\n{out.decode()[-3000:]}")
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def get_ticket(http: aiohttp.ClientSession, stack: Stack, ticket_id: str) -> dict[str, Any]:
    async with http.get(stack.url("ticketing", f"/api/v1/tickets/{ticket_id}")) as resp:
        assert resp.status == 200, await resp.text()
        ticket: dict[str, Any] = await resp.json()
        return ticket


async def test_the_demo_fills_the_hall_through_the_api(start_stack: StackStarter, tmp_path: Path) -> None:
    stack = await start_stack(JKT, services=("ticketing",))
    report = tmp_path / "report.json"
    code, out = await run_demo(
        stack.env,
        "--url", stack.url("ticketing", ""), "--branch", "jkt", "--counters", "4",
        "--rate", "120", "--speed", "600", "--duration", "10", "--seed", "11", "--report", str(report),
    )  # fmt: skip
    assert code == 0, out
    assert "demo summary after" in out, out
    assert "Traceback" not in out, out
    ids: dict[str, list[str]] = json.loads(report.read_text())["ids"]
    assert len(ids.get("issued", [])) >= 5, out
    assert len(ids.get("completed", [])) >= 2, out
    assert ids.get("surveys"), f"no survey accepted:\n{out}"

    async with aiohttp.ClientSession() as http:
        issued = {i: await get_ticket(http, stack, i) for i in ids["issued"]}
        assert {t["branch_id"] for t in issued.values()} == {"jkt"}
        assert len({t["number"] for t in issued.values()}) == len(issued)
        assert {t["channel"] for t in issued.values()} <= {"kiosk", "online"}

        transferred = set(ids.get("transferred", []))
        for ticket_id in ids["called"]:
            ticket = issued[ticket_id]
            assert ticket["status"] in FINISHED_OR_AT_A_COUNTER or ticket_id in transferred, ticket
        for ticket_id in ids["completed"]:
            ticket = issued[ticket_id]
            assert ticket["status"] == "completed", ticket
            for moment in ("called_at", "serving_at", "completed_at"):
                assert ticket[moment], ticket

        for ticket_id in ids["surveys"]:  # a second answer is refused: the first one was kept
            assert issued[ticket_id]["status"] == "completed"
            url = stack.url("ticketing", f"/api/v1/tickets/{ticket_id}/survey")
            async with http.post(url, json={"scores": [4] * 9}) as resp:
                assert resp.status == 409, await resp.text()
                assert "already rated" in (await resp.json())["detail"]


async def test_the_demo_stops_with_a_clear_message_when_ticketing_is_not_there() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    code, out = await run_demo({**os.environ, "ANTRIAN_ADMIN_PASSWORD": "x"}, "--url", url, "--duration", "5")
    assert code == 1, out
    assert f"ticketing at {url} does not answer" in out, out
    assert "Traceback" not in out, out
