"""Display publishes its own generated OpenAPI document, covering every route it serves."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from services.display.app import init_app
from tests.contract import Contract, documented_routes, served_routes
from tests.integration.display.conftest import DisplayFactory
from tests.integration.display.hallkit import display_settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

PATHS = (
    "/healthz",
    "/readyz",
    "/api/v1/branches/bjb/screen",
    "/api/v1/branches/bjb/screen?zone=a%20b",
    "/display/bjb",
    "/static/display.css",
    "/no/such/page",
)


async def test_the_document_covers_the_router_and_the_answers_match_it(
    display: DisplayFactory, kafka_bootstrap: str, tmp_path: Path
) -> None:
    running = await display()
    base = f"http://127.0.0.1:{running.port}"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as http:
        async with http.get(f"{base}/openapi.json") as resp:
            assert resp.status == 200
            doc = await resp.json()
        app = init_app(display_settings(kafka_bootstrap, "unused", "unused.dlq", tmp_path / "audio"))
        # the websocket is served by the websockets library in front of the aiohttp app (server.py)
        websocket = {("/ws/{branch_id}", "GET")}
        assert served_routes(app) | websocket == documented_routes(doc)
        contract = Contract(doc)
        for path in PATHS:
            async with http.get(f"{base}{path}") as resp:
                body = await resp.read()
                contract.check("GET", resp.url.path, resp.status, resp.content_type, body)
    assert ("GET", "/api/v1/branches/{branch_id}/screen", 200) in contract.checked
