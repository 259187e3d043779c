"""schemathesis over the running ticketing process's own ``/openapi.json``: no 5xx, no schema violation.

Bounded (a few examples per operation, deterministic generation: the same cases every run)
so that it stays under a minute. Every request carries a real admin token, so
the counter operations run for real against a seeded hall's counter.
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.integration.conftest import StackStarter

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

HALL = Path(__file__).resolve().parents[3] / "deploy" / "halls" / "jakarta-small.yaml"
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
# What must hold for every generated request. `positive_data_acceptance` is left out on
# purpose: a schema-valid body can still name a service the hall does not have (422)
# or a ticket that does not exist (404); the contract cannot promise 2xx for those.
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,"
    "response_schema_conformance,negative_data_rejection,missing_required_header,unsupported_method,"
    "ignored_auth"
)
CONFIG = """
[parameters]
"path.branch_id" = "jkt"
"path.counter_id" = "jkt-loket-01"
"path.service_id" = "jkt-ktp-el"
"""


async def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    start_stack: StackStarter, tmp_path: Path
) -> None:
    stack = await start_stack(HALL, services=("ticketing",))
    async with aiohttp.ClientSession() as http:
        login = {"username": "admin", "password": stack.admin_password}
        async with http.post(stack.url("ticketing", "/api/v1/auth/login"), json=login) as resp:
            assert resp.status == 200, await resp.text()
            token = (await resp.json())["token"]
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    proc = await asyncio.create_subprocess_exec(
        str(SCHEMATHESIS), "--config-file", str(config), "run", stack.url("ticketing", "/openapi.json"),
        "--checks", CHECKS, "--max-examples", "8", "--generation-deterministic",
        "--workers", "2", "--no-color", "--phases", "examples,coverage,fuzzing",
        "--request-timeout", "20", "-H", f"Authorization: Bearer {token}",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=tmp_path,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=200)
    report = out.decode(errors="replace")
    assert proc.returncode == 0, report[-6000:]
    assert "No issues found" in report or " passed" in report, report[-3000:]
    assert "Server error" not in report, report[-6000:]
    selected = re.search(r"Selected: (\d+)/(\d+)", report)
    tested = re.search(r"Tested: (\d+)", report)
    assert selected is not None, report[-3000:]
    assert tested is not None, report[-3000:]
    assert selected[1] == selected[2] == tested[1], "every operation of the document was exercised"
