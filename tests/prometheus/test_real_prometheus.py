"""A real Prometheus scrapes the running services through a simulated hall day.

Every ``targets[].expr`` of every dashboard panel, every template variable and
the metric side of every alert rule must return data, so a renamed metric or
label breaks the build. The metrics service always runs; ticketing and display
run too when their ``__main__`` exists, and the expressions that need them are
checked in their own test (skipped, saying so, while they do not exist).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg
import pytest
import pytest_asyncio
import websockets
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from websockets.exceptions import InvalidStatus
from websockets.frames import CloseCode

from bench.simulate import Summary, simulate_day
from services.events import EventType
from tests.conftest import DATABASE, KAFKA
from tests.prometheus.queries import (
    Query,
    alert_queries,
    alert_rules,
    panel_queries,
    substitute,
    variable_queries,
)
from tests.prometheus.stack import (
    Process,
    available,
    eventually,
    free_port,
    query,
    scalar,
    start_prometheus,
    start_service,
)

pytestmark = [
    pytest.mark.prometheus,
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.timeout(120),
]

HALL_ZONE = ZoneInfo("Asia/Makassar")  # the simulated hall's zone (bench.simulate.banjarbaru)


@dataclass(frozen=True, slots=True)
class Stack:
    """What the module's tests share: a Prometheus that scraped a simulated day."""

    session: aiohttp.ClientSession
    prometheus: str
    branch: str
    day: Summary
    running: frozenset[str]
    failed: dict[str, str]  # service -> why it did not start
    logs: Path

    async def results(self, queries: list[Query]) -> list[str]:
        """The origins and expressions among ``queries`` that return no data."""
        empty = []
        for item in queries:
            expr = substitute(item.expr, {"branch": self.branch, "agency": ".*", "counter": ".*"})
            if not await query(self.session, self.prometheus, expr):
                empty.append(f"{item.origin}: {expr}")
        return empty


def _day_hours(now: datetime) -> float:
    """Six simulated hours ending now, cut so that they stay in this month in the hall's zone.

    The IKM gauges cover the current calendar month; only in the first hours
    of a month is the day shorter.
    """
    local = now.astimezone(HALL_ZONE)
    since_month = (local - local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)).total_seconds()
    return max(0.5, min(6.0, since_month / 3600 - 0.05))


@contextlib.asynccontextmanager
async def _topics(count: int) -> AsyncIterator[list[str]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA, request_timeout_ms=15000)
    await admin.start()
    names = [f"test.prom.{uuid.uuid4().hex[:12]}" for _ in range(count)]
    try:
        await admin.create_topics([NewTopic(names[0], 3, 1), *(NewTopic(n, 1, 1) for n in names[1:])])
        yield names
    finally:
        with contextlib.suppress(Exception):  # a leftover test topic is harmless
            await admin.delete_topics(names)
        await admin.close()


async def _drop_schemas(names: list[str]) -> None:
    conn = await asyncpg.connect(DATABASE)
    try:
        for name in names:
            await conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
    finally:
        await conn.close()


async def _malformed(topic: str, branch: str) -> None:
    """One record no consumer can read: it must reach the DLQ and its counter."""
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b'{"specversion": "1.0", "oops": true}', key=branch.encode())
    finally:
        await producer.stop()


async def _start_others(
    session: aiohttp.ClientSession, common: dict[str, str], tag: str, logs: Path, schemas: list[str]
) -> tuple[dict[str, Process], dict[str, int], dict[str, str]]:
    """Start ticketing and display when they exist; return them, their ports and why any failed."""
    envs: dict[str, dict[str, str]] = {}
    ports = {name: free_port() for name in ("ticketing", "display") if available(name)}
    if "ticketing" in ports:
        schemas.append(f"test_prom_t_{tag}")
        envs["ticketing"] = {
            "TICKETING_HOST": "127.0.0.1",
            "TICKETING_PORT": str(ports["ticketing"]),
            "TICKETING_DB_SCHEMA": schemas[-1],
            "ANTRIAN_ADMIN_PASSWORD": uuid.uuid4().hex,
        }
    if "display" in ports:
        envs["display"] = {
            "DISPLAY_HOST": "127.0.0.1",
            "DISPLAY_PORT": str(ports["display"]),
            "DISPLAY_TICKETING_URL": f"http://127.0.0.1:{ports.get('ticketing') or free_port()}",
            "DISPLAY_AUDIO_CACHE": str(logs / "audio"),
        }
    started: dict[str, Process] = {}
    failed: dict[str, str] = {}
    for name, env in envs.items():
        try:
            log = logs / f"{name}.log"
            started[name] = await start_service(session, name, {**common, **env}, ports[name], log)
        except AssertionError as exc:  # another team's service: fail only the test that needs it
            failed[name] = str(exc)
            del ports[name]
    return started, ports, failed


async def _connect_screen(
    held: contextlib.AsyncExitStack, port: int, branch: str, failed: dict[str, str]
) -> None:
    """Hold a hall screen's websocket open for the module; note a failure against display.

    The simulated branch is not in ticketing's directory: display serves it once
    it has folded the branch's events, and refuses it (404) until then.
    """
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        try:
            screen = await held.enter_async_context(websockets.connect(f"ws://127.0.0.1:{port}/ws/{branch}"))
            first = json.loads(await asyncio.wait_for(screen.recv(), 10))
            break
        except InvalidStatus as exc:
            if exc.response.status_code != 404 or asyncio.get_running_loop().time() > deadline:
                failed["display"] = f"a screen could not connect to /ws/{branch}: {exc!r}"
                return
            await asyncio.sleep(0.5)
        except (OSError, TimeoutError, websockets.WebSocketException) as exc:
            failed["display"] = f"a screen could not connect to /ws/{branch}: {exc!r}"
            return
    if first.get("type") != "snapshot":
        failed["display"] = f"the first screen message is not a snapshot: {first!r}"
        return
    # A second screen that floods its listen-only stream gets dropped: the dropped counter gets a reason.
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/{branch}") as noisy:
        await noisy.recv()
        with contextlib.suppress(websockets.ConnectionClosed):
            for _ in range(50):
                await noisy.send("hello")
            await asyncio.wait_for(noisy.wait_closed(), 10)
    if noisy.close_code != CloseCode.POLICY_VIOLATION:
        failed["display"] = f"a flooding screen was not dropped (close code {noisy.close_code})"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """Start the services and Prometheus, run a hall day into them, wait until it is scraped."""
    logs = tmp_path_factory.mktemp("prometheus-stack")
    tag = uuid.uuid4().hex[:10]
    branch, schemas, processes = f"sim-{tag}", [f"test_prom_m_{tag}"], list[Process]()
    async with (
        _topics(2) as (topic, dlq),
        aiohttp.ClientSession() as session,
        contextlib.AsyncExitStack() as held,
    ):
        common = {
            "KAFKA_BOOTSTRAP_SERVERS": KAFKA,
            "DATABASE_URL": DATABASE,
            "ANTRIAN_EVENTS_TOPIC": topic,
            "ANTRIAN_DLQ_TOPIC": dlq,
            "ANTRIAN_LOG_FORMAT": "text",
        }
        try:
            others, ports, failed = await _start_others(session, common, tag, logs, schemas)
            processes.extend(others.values())
            ports["metrics"] = free_port()
            env = {
                **common,
                "METRICS_HOST": "127.0.0.1",
                "METRICS_PORT": str(ports["metrics"]),
                "METRICS_DB_SCHEMA": schemas[0],
                "METRICS_CONSUMER_GROUP": f"test-prom-{tag}",
                # the branch's time zone comes from ticketing; without it the default (WITA) applies
                "METRICS_TICKETING_URL": f"http://127.0.0.1:{ports.get('ticketing') or free_port()}",
            }
            processes.append(
                await start_service(session, "metrics", env, ports["metrics"], logs / "metrics.log")
            )
            prometheus, base = await start_prometheus(session, ports, logs)
            processes.append(prometheus)
            now = datetime.now(UTC)
            hours = _day_hours(now)
            day = await simulate_day(
                KAFKA, topic, branch, tickets=150, seed=5, start=now - timedelta(hours=hours), hours=hours
            )
            # the simulator does not book: appointment events have their own tests
            booking = {t.value for t in EventType if t.value.startswith("appointment.")} | {"ticket.near"}
            # nor park and return or configure the hall: those have their own tests too
            unsimulated = {"ticket.parked", "ticket.returned", "ticket.reactivated", "hall.configured"}
            unsimulated |= {"hall.announcement"}
            missing = {t.value for t in EventType} - set(day.counts) - booking - unsimulated
            assert not missing, f"the simulated day lacks {missing}: pick another seed"
            await _malformed(topic, branch)
            processed = 'sum(qms_events_processed_total{job="antrian-metrics"})'

            async def counted() -> bool:
                return (await scalar(session, base, processed) or 0) >= day.events

            await eventually(counted, within=45, what=f"Prometheus sees {day.events} events processed")
            if "display" in ports:  # a hall screen, so that the connection gauges have a branch
                await _connect_screen(held, ports["display"], branch, failed)
            samples = f'min(count_over_time(qms_tickets_issued_total{{branch="{branch}"}}[1m]))'

            async def rated() -> bool:
                return (await scalar(session, base, samples) or 0) >= 4

            await eventually(rated, within=20, what="four scrapes of the day")
            yield Stack(session, base, branch, day, frozenset(ports), failed, logs)
        finally:
            for process in reversed(processes):
                await process.stop()
            await _drop_schemas(schemas)


async def test_the_metrics_service_counted_the_simulated_day(stack: Stack) -> None:
    counts = stack.day.counts
    b = f'branch="{stack.branch}"'
    for metric, kind in [
        ("qms_tickets_issued_total", "ticket.issued"),
        ("qms_tickets_completed_total", "ticket.completed"),
        ("qms_tickets_cancelled_total", "ticket.cancelled"),
        ("qms_tickets_no_show_total", "ticket.no_show"),
        ("qms_tickets_transferred_total", "ticket.transferred"),
    ]:
        assert await scalar(stack.session, stack.prometheus, f"sum({metric}{{{b}}})") == counts.get(
            kind, 0
        ), metric
    # the gauges show the hall as the day left it
    waiting = await scalar(stack.session, stack.prometheus, f"sum(qms_queue_waiting{{{b}}})")
    assert waiting == stack.day.waiting
    assert (
        await scalar(stack.session, stack.prometheus, f"sum(qms_counters_open{{{b}}})")
        == stack.day.counters_open
    )
    job = 'job="antrian-metrics"'
    # every simulated event is valid and applied once; only the malformed record is dead-lettered
    processed = await scalar(stack.session, stack.prometheus, f"sum(qms_events_processed_total{{{job}}})")
    assert processed == stack.day.events
    dead = await scalar(stack.session, stack.prometheus, f"sum(qms_events_dead_lettered_total{{{job}}})")
    assert dead is not None
    assert dead >= 1  # the DLQ is at-least-once: a retried batch may send the record again


async def test_every_dashboard_panel_of_the_metrics_service_has_data(stack: Stack) -> None:
    # the simulated day books nothing: the appointment panels have their own tests
    booking = {"qms_appointments_total", "qms_slot_punctuality_seconds_bucket"}
    queries = [q for q in panel_queries() if q.services <= {"metrics"} and not q.metrics & booking]
    assert len(queries) > 40
    assert await stack.results(queries) == []


async def test_every_template_variable_lists_the_simulated_branch(stack: Stack) -> None:
    for origin, selector, label in variable_queries():
        expr = substitute(f"count by ({label}) ({selector})", {"branch": stack.branch})
        values = {r["metric"].get(label) for r in await query(stack.session, stack.prometheus, expr)}
        assert values - {None}, origin
        if label == "branch":
            assert stack.branch in values, origin


async def test_prometheus_loaded_every_alert_rule_and_evaluates_it_cleanly(stack: Stack) -> None:
    async with stack.session.get(f"{stack.prometheus}/api/v1/rules") as response:
        body = await response.json()
    loaded = {r["name"]: r for g in body["data"]["groups"] for r in g["rules"]}
    assert set(loaded) == {r["alert"] for r in alert_rules()}
    for name, rule in loaded.items():
        assert rule["health"] == "ok", f"{name}: {rule.get('lastError')}"


async def test_the_metric_side_of_every_alert_has_data(stack: Stack) -> None:
    queries = [q for q in alert_queries() if q.services <= stack.running]
    assert await stack.results(queries) == []


async def test_panels_and_alerts_of_ticketing_and_display_have_data(stack: Stack) -> None:
    others = [q for q in (*panel_queries(), *alert_queries()) if not q.services <= {"metrics"}]
    assert others, "the dashboards show the outbox and the screens"
    assert not stack.failed, "\n".join(f"{name} did not start: {why}" for name, why in stack.failed.items())
    missing = sorted({s for q in others for s in q.services} - stack.running)
    if missing:
        pytest.skip(f"not checked: {len(others)} expressions need {', '.join(missing)}, not in the tree yet")
    assert await stack.results(others) == []
