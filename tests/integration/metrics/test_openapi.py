"""Metrics publishes its own generated OpenAPI document, covering every route it serves."""

from __future__ import annotations

import pytest

from tests.contract import documented_routes, served_routes
from tests.integration.metrics.conftest import MetricsHallKit, Starter

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


async def test_every_route_is_documented_and_every_documented_route_exists(
    hall: MetricsHallKit, start_metrics: Starter
) -> None:
    client = await start_metrics(hall.settings())
    doc = await (await client.get("/openapi.json")).json()
    assert doc["openapi"] == "3.1.0"
    assert served_routes(client.app) == documented_routes(doc)
    ikm = doc["paths"]["/api/v1/branches/{branch_id}/ikm"]["get"]
    assert {"200", "400"} <= set(ikm["responses"])
    report = doc["paths"]["/api/v1/reports/daily"]["get"]["responses"]["200"]["content"]
    assert set(report) == {"application/json", "text/csv"}
