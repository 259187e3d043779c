"""Branch time zones asked of ticketing's branch resource, cached, with a default when it fails."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from services.metrics.zones import RETRY_AFTER_SECONDS, BranchZones

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]


async def _ticketing(calls: list[str]) -> TestServer:
    async def branch(request: web.Request) -> web.Response:
        branch_id = request.match_info["branch_id"]
        calls.append(branch_id)
        zones: dict[str, Any] = {"jpr": "Asia/Jayapura", "odd": "Mars/Olympus", "weird": 7}
        if branch_id not in zones:
            return web.json_response({"title": "Not Found"}, status=404)
        return web.json_response({"id": branch_id, "timezone": zones[branch_id]})

    app = web.Application()
    app.router.add_get("/api/v1/branches/{branch_id}", branch)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


async def test_zones_from_ticketing_cached_with_fallback() -> None:
    calls: list[str] = []
    server = await _ticketing(calls)
    clock = [0.0]
    try:
        async with aiohttp.ClientSession() as session:
            zones = BranchZones(
                session, str(server.make_url("")).rstrip("/"), "Asia/Makassar", lambda: clock[0]
            )
            assert (await zones.get("jpr")).key == "Asia/Jayapura"
            assert (await zones.get("jpr")).key == "Asia/Jayapura"
            assert zones.cached("jpr").key == "Asia/Jayapura"
            for unknown in ("nope", "odd", "weird"):
                assert (await zones.get(unknown)).key == "Asia/Makassar"
            assert calls == ["jpr", "nope", "odd", "weird"]  # a known zone is asked once
            # A failed branch is not asked again until the retry delay has passed.
            assert (await zones.get("nope")).key == "Asia/Makassar"
            assert calls.count("nope") == 1
            clock[0] += RETRY_AFTER_SECONDS + 1
            await zones.get("nope")
            assert calls.count("nope") == 2
    finally:
        await server.close()


async def test_unreachable_ticketing_means_the_default() -> None:
    async with aiohttp.ClientSession() as session:
        zones = BranchZones(session, "http://127.0.0.1:9", "Asia/Jakarta")
        assert (await zones.get("bjb")).key == "Asia/Jakarta"
        assert zones.cached("bjb").key == "Asia/Jakarta"
