"""The image recipe (deploy/container): pinned, non-root, healthy, and its entry point and check work.

The build itself runs in ``make test-containers`` (podman); these checks need
no container engine.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]
CONTAINER = ROOT / "deploy" / "container"
CONTAINERFILE = (CONTAINER / "Containerfile").read_text(encoding="utf-8")


def _name(requirement: str) -> str:
    return re.split(r"[=<>!~\[ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _final_stage() -> str:
    return CONTAINERFILE[CONTAINERFILE.rindex("\nFROM ") :]


def test_the_image_installs_every_dependency_at_the_version_pyproject_pins() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    locked = {}
    for line in (CONTAINER / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            assert re.fullmatch(r"[A-Za-z0-9_.\-]+==[A-Za-z0-9_.+\-]+", line), f"not an exact pin: {line}"
            locked[_name(line)] = line.split("==")[1]
    for requirement in project["dependencies"]:
        pinned = requirement.split("==")[1]
        assert locked.get(_name(requirement)) == pinned, (
            f"{requirement}: deploy/container/requirements.txt says {locked.get(_name(requirement))};"
            " run .venv/bin/python deploy/container/lock.py"
        )


def test_the_recipe_is_multi_stage_non_root_and_takes_its_base_as_an_argument() -> None:
    assert "ARG BASE=python:3.11-slim-bookworm" in CONTAINERFILE
    assert re.findall(r"^FROM \$\{BASE\}", CONTAINERFILE, re.M) == ["FROM ${BASE}", "FROM ${BASE}"]
    final = _final_stage()
    user = re.search(r"^USER (\S+)", final, re.M)
    assert user is not None
    assert user.group(1).split(":")[0] not in ("0", "root")
    assert re.search(r"^HEALTHCHECK .*CMD", final, re.M | re.S)
    assert "COPY --from=builder /opt/antrian /opt/antrian" in final
    # The final stage installs no compiler and runs no pip: wheels are built and installed in the builder.
    for tool in ("gcc", "build-essential", "pip install", "pip wheel", "-dev "):
        assert tool not in final, tool
    assert "pip uninstall --yes pip" in CONTAINERFILE
    # The CA bundle is a build secret, never a layer.
    assert "--mount=type=secret,id=ca" in CONTAINERFILE
    assert "COPY /etc/ssl" not in CONTAINERFILE
    assert "ca-certificates.crt" not in CONTAINERFILE.split("# ---")[1]


def test_the_build_context_leaves_out_the_venv_and_the_run_folder() -> None:
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert ignore[ignore.index("*")] == "*"  # everything out, then the few paths the recipe copies
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    copied = set(re.findall(r"^COPY (?!--from)(\S+)", CONTAINERFILE, re.M))
    copied |= {
        p for line in re.findall(r"^COPY (?!--from)(.+) \S+$", CONTAINERFILE, re.M) for p in line.split()
    }
    assert copied <= allowed
    assert (ROOT / ".containerignore").resolve() == (ROOT / ".dockerignore").resolve()


def _entrypoint(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(CONTAINER / "entrypoint.sh"), *args], capture_output=True, text=True, timeout=30,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", **env},
        cwd=ROOT, check=False,
    )  # fmt: skip


def test_the_entry_point_runs_a_named_service_or_any_command() -> None:
    assert _entrypoint("sh", "-c", "echo ran").stdout == "ran\n"
    refused = _entrypoint(ANTRIAN_SERVICE="kiosk")
    assert refused.returncode == 2
    assert "ANTRIAN_SERVICE" in refused.stderr
    # `ticketing no-such-command` reaches python -m services.ticketing, which prints its usage.
    usage = _entrypoint("ticketing", "no-such-command", DATABASE_URL="postgresql://x@127.0.0.1:1/x")
    assert usage.returncode == 2
    assert "python -m services.ticketing" in usage.stderr


@pytest.fixture
async def probe_target() -> AsyncIterator[tuple[int, dict[str, int]]]:
    """A real HTTP server answering /readyz with the status in ``state["status"]``."""
    state = {"status": 200}

    async def readyz(_: web.Request) -> web.Response:
        return web.Response(status=state["status"])

    app = web.Application()
    app.router.add_get("/readyz", readyz)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield port, state
    finally:
        await runner.cleanup()


async def _check(port: int) -> int:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(CONTAINER / "healthcheck.py"),
        env={**os.environ, "ANTRIAN_SERVICE": "display", "DISPLAY_PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    return await proc.wait()


async def test_the_health_check_follows_readyz(probe_target: tuple[int, dict[str, int]]) -> None:
    port, state = probe_target
    assert await _check(port) == 0
    state["status"] = 503
    assert await _check(port) == 1
