"""The dashboards' hall totals against the real Prometheus scraping two metrics instances.

Every metrics instance exports the same totals (read from PostgreSQL at
scrape time), so a plain ``sum`` over instances counts each ticket twice. The
dashboards take ``max without (instance)`` of such series before adding them
up; this test evaluates the dashboards' own expressions (from
deploy/grafana/dashboards) against the cluster's Prometheus and checks them
against PostgreSQL's truth, with both instances up, with one of them killed
(no gap), and after the consumer group rebalanced (no double count).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from tests.cluster.cluster import ROOT, Cluster, control
from tests.cluster.hall import Branch, HallLoad, login, seed_branch
from tests.cluster.reconcile import eventually, metric_totals, prometheus_value, prometheus_values

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(900)]

DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
SCORES = {"scores": [4, 4, 3, 4, 4, 3, 4, 4, 4]}


def dashboard_exprs() -> dict[str, str]:
    """Panel title -> expression, for every target that de-duplicates instances."""
    found: dict[str, str] = {}

    def walk(panels: list[dict[str, Any]], file: str) -> None:
        for panel in panels:
            walk(panel.get("panels", []), file)
            for target in panel.get("targets", []):
                expr = target.get("expr", "")
                if "max without (instance)" in expr:
                    found[f"{file}: {panel.get('title')} [{target.get('refId', '')}]"] = expr

    for path in sorted(DASHBOARDS.glob("*.json")):
        walk(json.loads(path.read_text())["panels"], path.name)
    return found


def fill(expr: str, branch: str) -> str:
    """Grafana's variables as a dashboard user would set them (whole branch, last hour)."""
    return (
        expr.replace("$branch", branch)
        .replace('=~"$agency"', '=~".*"')
        .replace('=~"$counter"', '=~".*"')
        .replace("$__range", "1h")
        .replace("$__rate_interval", "1m")
    )


def naive(expr: str) -> str:
    """The expression as it was before: instances added up."""
    head = "max without (instance) ("
    while head in expr:
        start = expr.index(head)
        depth, end = 1, start + len(head)
        while depth:
            depth += {"(": 1, ")": -1}.get(expr[end], 0)
            end += 1
        expr = expr[:start] + expr[start + len(head) : end - 1] + expr[end:]
    return expr


async def truth(pool: asyncpg.Pool, branch: Branch) -> dict[str, float]:
    """What PostgreSQL says about the branch right now."""
    row = await pool.fetchrow(
        "SELECT count(*) AS issued,"
        " count(*) FILTER (WHERE status = 'waiting') AS waiting,"
        " count(*) FILTER (WHERE status = 'completed') AS completed"
        " FROM ticketing.tickets WHERE branch_id = $1",
        branch.id,
    )
    return {k: float(v) for k, v in dict(row).items()}


async def issue_one(load: HallLoad, n: int) -> None:
    """Issue the ``n``-th ticket of the test (services in turn, all from the kiosk)."""
    service = load.branch.services[n % len(load.branch.services)]
    path = f"/api/v1/branches/{load.branch.id}/tickets"
    await load.request("issue", path, {"service_id": service, "channel": "kiosk", "priority": False})


async def series_born(
    load: HallLoad, http: aiohttp.ClientSession, cluster: Cluster, pool: asyncpg.Pool
) -> float:
    """One ticket per service, scraped from both instances; the tickets issued so far.

    ``increase()`` cannot count a series' first sample: a series first scraped at 8
    loses those 8. A hall's series are born once, at its first ticket of a service;
    the test's are born here, so the day it measures is all increase.
    """
    for n in range(len(load.branch.services)):
        await issue_one(load, n)
    query = f'count(qms_tickets_issued_total{{branch="{load.branch.id}"}})'

    async def scraped() -> bool:
        return await prometheus_value(http, cluster.prometheus, query) == 2 * len(load.branch.services)

    await eventually(
        scraped, within=60, what="the issued series of every service scraped from both instances"
    )
    return (await truth(pool, load.branch))["issued"]


async def day(load: HallLoad, issue: int, serve: int) -> None:
    """Issue ``issue`` tickets a little apart (so each scrape sees the totals grow), serve ``serve``."""
    for n in range(issue):
        await issue_one(load, n)
        await asyncio.sleep(0.4)
    counter = f"/api/v1/counters/{load.branch.counters[0]}"
    for _ in range(serve):
        _, ticket = await load.request("call-next", f"{counter}/call-next", {})
        await load.request("start", f"{counter}/start", {})
        await load.request("complete", f"{counter}/complete", {})
        await load.request("survey", f"/api/v1/tickets/{ticket['id']}/survey", SCORES)
        await asyncio.sleep(0.4)


async def hall_figures(http: aiohttp.ClientSession, prom: str, branch: str) -> dict[str, float | None]:
    """The instant hall figures as the fixed dashboards compute them."""
    queries = {
        "issued": f'sum(max without (instance) (qms_tickets_issued_total{{branch="{branch}"}}))',
        "completed": f'sum(max without (instance) (qms_tickets_completed_total{{branch="{branch}"}}))',
        "waiting": f'sum(max without (instance) (qms_queue_waiting{{branch="{branch}"}}))',
        "counters_open": f'sum(max without (instance) (qms_counters_open{{branch="{branch}"}}))',
    }
    return {k: await prometheus_value(http, prom, q) for k, q in queries.items()}


async def settled(
    http: aiohttp.ClientSession, cluster: Cluster, pool: asyncpg.Pool, branch: Branch, instances: int
) -> dict[str, float]:
    """Wait until Prometheus' figures equal PostgreSQL's, with ``instances`` metrics instances up."""
    expected = {**(await truth(pool, branch)), "counters_open": 4.0}
    up = 'count(up{job="antrian-metrics"} == 1)'
    seen: dict[str, Any] = {}

    async def agrees() -> bool:
        seen.update(await hall_figures(http, cluster.prometheus, branch.id))
        seen["instances_up"] = await prometheus_value(http, cluster.prometheus, up)
        return seen["instances_up"] == instances and all(seen[k] == v for k, v in expected.items())

    try:
        await eventually(agrees, within=180, what="Prometheus' hall figures equal PostgreSQL's")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: expected {expected} from {instances} instances, saw {seen}") from None
    return expected


async def both_instances_scraped(
    http: aiohttp.ClientSession, prom: str, branch: str
) -> dict[str, tuple[list[float], list[float]]] | None:
    """Each hall expression, fixed and naive; None while a plain selection lacks one instance's copy.

    The figures settle on PostgreSQL's truth through ``max``, which hides an instance
    whose latest scrape came before the last survey: its copy of a new series
    (an IKM per counter, say) appears one scrape later.
    """
    checked: dict[str, tuple[list[float], list[float]]] = {}
    for title, expr in dashboard_exprs().items():
        if "job=~" in expr:
            continue  # system-health: rates of the pipeline, not hall totals
        fixed = await prometheus_values(http, prom, fill(expr, branch))
        doubled = await prometheus_values(http, prom, fill(naive(expr), branch))
        if expr.startswith("max without (instance)") and len(doubled) < 2 * len(fixed):
            return None
        checked[title] = (fixed, doubled)
    return checked


async def test_dashboard_totals_with_two_metrics_instances(
    cluster: Cluster, http: aiohttp.ClientSession, pool: asyncpg.Pool, tmp_path: Path, all_up: None
) -> None:
    branch = await asyncio.to_thread(seed_branch, cluster, tmp_path, "ps")
    load = HallLoad(http, cluster.lb, branch, await login(http, cluster.lb, cluster.admin_password))
    await load.open_counters()
    before = await series_born(load, http, cluster, pool)
    await day(load, issue=12, serve=4)
    expected = await settled(http, cluster, pool, branch, instances=2)

    # With both instances up, every dashboard expression that adds DB-backed series
    # counts them once; the same expression without the de-duplication counts twice.
    checked = await eventually(
        lambda: both_instances_scraped(http, cluster.prometheus, branch.id),
        within=60,
        what="every series of the plain selections scraped from both instances",
    )
    for title, expr in dashboard_exprs().items():
        if title not in checked:
            continue
        fixed, doubled = checked[title]
        if expr.startswith("max without (instance)"):  # a plain selection: every series shown twice
            assert len(doubled) == 2 * len(fixed), f"{title}: {fixed} vs {doubled}"
        elif "increase(" in expr or "rate(" in expr:
            # Each instance's copy of a counter has its own history in the window: a copy
            # first scraped after a ticket was counted adds less than the whole. Adding
            # the copies never gives less than one of them, and at most twice.
            assert "max without (instance)" in expr, f"{title}: instances' copies added up"
            assert sum(fixed) <= sum(doubled) * 1.01 + 1e-9, f"{title}: {fixed} vs {doubled}"
            assert sum(doubled) <= 2.6 * sum(fixed) + 1e-9, f"{title}: {fixed} vs {doubled}"
        else:  # a sum of current values: twice the figure
            assert sum(doubled) == pytest.approx(2 * sum(fixed), rel=0.3), f"{title}: {fixed} vs {doubled}"
    nonzero = [t for t, (f, _) in checked.items() if any(f)]
    assert len(nonzero) >= 8, f"too few dashboard expressions returned data: {checked}"
    waiting = 'sum(max without (instance) (qms_queue_waiting{branch="%s", agency=~".*"}))' % branch.id  # noqa: UP031
    assert await prometheus_value(http, cluster.prometheus, waiting) == expected["waiting"]

    # One instance SIGKILLed: the group rebalances, the figures stay exact (no gap).
    await control("kill", "metrics-1")
    await day(load, issue=6, serve=2)
    await settled(http, cluster, pool, branch, instances=1)

    # Back with a rebalance, and the other one restarted gracefully: still exact, never doubled.
    await control("start", "metrics-1")
    await control("restart", "metrics-2")
    await day(load, issue=6, serve=2)
    expected = await settled(http, cluster, pool, branch, instances=2)
    for n in (1, 2):
        totals = await metric_totals(http, cluster.instance_url("metrics", n), branch.id)
        assert totals["qms_tickets_issued_total"] == expected["issued"]

    # Issued over the last hour, the hall-today panel: about the truth across the
    # kill and the restarts (increase() extrapolates at the window's edges), for
    # the tickets issued once the series existed.
    issued_panel = next(e for t, e in dashboard_exprs().items() if "Issued today" in t)
    value = await prometheus_value(http, cluster.prometheus, fill(issued_panel, branch.id))
    assert value is not None
    measured = expected["issued"] - before
    assert abs(value - measured) <= 0.2 * measured + 1, (value, measured, expected)
