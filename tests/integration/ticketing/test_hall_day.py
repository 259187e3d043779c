"""A busy hall against real PostgreSQL and Kafka: 500 tickets while 8 counters call at once."""

from __future__ import annotations

import asyncio
import random
from collections import Counter, defaultdict
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from services.events import CloudEvent
from services.ticketing.app import init_app
from tests.conftest import SchemaFactory, TopicFactory
from tests.integration.ticketing.conftest import ADMIN_PASSWORD, ALL_DAY, new_branch_id, seed, settings_for
from tests.integration.ticketing.kafka_read import read_events

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

TICKETS = 500
COUNTERS = 8
ISSUERS = 24


def busy_hall(branch: str) -> dict[str, Any]:
    services = [f"{branch}-s{i}" for i in range(3)]
    return {
        "branch": {"id": branch, "name": "Busy hall", "timezone": "Asia/Jayapura", "hours": ALL_DAY},
        "agencies": [
            {
                "id": f"{branch}-agency",
                "name": "Agency",
                "services": [
                    {"id": s, "name": f"Service {i}", "prefix": "ABC"[i], "quota": 999}
                    for i, s in enumerate(services)
                ],
            }
        ],
        "counters": [
            {
                "id": f"{branch}-loket-{n}",
                "name": f"Loket {n}",
                "zone": "lantai-1",
                "services": services[n % 3 :] + services[: n % 3],
            }
            for n in range(COUNTERS)
        ],
    }


async def test_500_tickets_8_counters_no_loss_no_double_call_events_in_order(
    kafka_bootstrap: str, database_url: str, new_topic: TopicFactory, new_schema: SchemaFactory
) -> None:
    topic = await new_topic(partitions=3)
    schema = await new_schema()
    settings = settings_for(
        database_url, schema, relay_enabled=True, kafka_bootstrap_servers=kafka_bootstrap, events_topic=topic
    )
    client: TestClient[Any, Any] = TestClient(TestServer(init_app(settings)))
    await client.start_server()
    branch = new_branch_id()
    rng = random.Random(7)
    try:
        await seed(database_url, schema, busy_hall(branch))
        login = await client.post(
            "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
        )
        auth = {"Authorization": f"Bearer {(await login.json())['token']}"}
        counters = [f"{branch}-loket-{n}" for n in range(COUNTERS)]
        for counter in counters:
            assert (await client.post(f"/api/v1/counters/{counter}/open", headers=auth)).status == 200

        plan = [(f"{branch}-s{rng.randrange(3)}", rng.random() < 0.2) for _ in range(TICKETS)]
        issued: list[dict[str, Any]] = []
        calls: list[tuple[str, str]] = []
        issuing_done = asyncio.Event()

        async def issuer(jobs: list[tuple[str, bool]]) -> None:
            for service, priority in jobs:
                resp = await client.post(
                    f"/api/v1/branches/{branch}/tickets", json={"service_id": service, "priority": priority}
                )
                assert resp.status == 201, await resp.text()
                issued.append(await resp.json())

        async def counter_loop(counter: str) -> None:
            base = f"/api/v1/counters/{counter}"
            while True:
                resp = await client.post(f"{base}/call-next", headers=auth)
                if resp.status == 204:
                    if issuing_done.is_set():
                        return
                    await asyncio.sleep(0.01)
                    continue
                assert resp.status == 200, await resp.text()
                ticket = await resp.json()
                calls.append((counter, ticket["id"]))
                assert (await client.post(f"{base}/start", headers=auth)).status == 200
                assert (await client.post(f"{base}/complete", headers=auth)).status == 200

        async def issue_all() -> None:
            await asyncio.gather(*(issuer(plan[i::ISSUERS]) for i in range(ISSUERS)))
            issuing_done.set()

        await asyncio.wait_for(asyncio.gather(issue_all(), *(counter_loop(c) for c in counters)), timeout=80)

        # No ticket lost, none called twice, numbers unique.
        ids = [t["id"] for t in issued]
        assert len(ids) == len(set(ids)) == TICKETS
        called = [ticket_id for _, ticket_id in calls]
        assert len(called) == len(set(called)), "a ticket was called twice"
        assert set(called) == set(ids), "a ticket was never called"
        numbers = [t["number"] for t in issued]
        assert len(set(numbers)) == TICKETS
        per_prefix = Counter(n[0] for n in numbers)
        for prefix, count in per_prefix.items():
            assert sorted(int(n[1:]) for n in numbers if n[0] == prefix) == list(range(1, count + 1))

        # Every change once on the topic, in order, with strictly increasing branch sequences.
        expected = COUNTERS + 4 * TICKETS
        events = await read_events(kafka_bootstrap, topic, expected)
    finally:
        await client.close()
    assert len(events) == expected
    assert len({e.id for e in events}) == expected
    assert [e.sequence for e in events] == list(range(1, expected + 1))
    by_ticket: dict[str, list[CloudEvent]] = defaultdict(list)
    for event in events:
        if event.type.is_ticket_event:
            by_ticket[event.subject].append(event)
    assert set(by_ticket) == set(ids)
    for history in by_ticket.values():
        assert [e.type.value for e in history] == [
            "ticket.issued",
            "ticket.called",
            "ticket.serving",
            "ticket.completed",
        ]
