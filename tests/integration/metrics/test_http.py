"""The HTTP edge of a running metrics service: reports, IKM, health and problem details."""

from __future__ import annotations

import csv
import io
import itertools
from typing import Any

import pytest

from services.events import EventType
from tests.integration.metrics.conftest import MetricsHallKit, Starter, key, scrape, wait_until
from tests.integration.metrics.halls import hall_day
from tests.unit.metrics.events import counter_event, survey_event, ticket_event

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


async def _running(hall: MetricsHallKit, start_metrics: Starter) -> tuple[Any, str]:
    branch = "h-" + hall.schema.removeprefix("test_")
    events = hall_day(branch, 6)  # 4 completed, 2 waiting (both cancelled below)
    seq = itertools.count(100)
    events += [  # t5 by its citizen (an event from before reasons existed), t4 by the day close
        ticket_event(
            EventType.TICKET_CANCELLED, 70, ticket=f"{branch}-t5", branch=branch, sequence=next(seq)
        ),
        ticket_event(
            EventType.TICKET_CANCELLED,
            71,
            ticket=f"{branch}-t4",
            branch=branch,
            sequence=next(seq),
            reason="day_closed",
        ),
    ]
    surveys = [
        survey_event(80, [4] * 9, ticket=f"{branch}-t0", branch=branch, sequence=next(seq)),
        survey_event(
            81, [3, 3, 3, 3, 3, 3, 3, 3, 4], ticket=f"{branch}-t1", branch=branch, sequence=next(seq)
        ),
        survey_event(82, [1] * 9, ticket=f"{branch}-t1", branch=branch, sequence=next(seq)),  # second answer
        survey_event(
            83, [2] * 9, ticket=f"{branch}-t2", branch=branch, counter="loket-2", sequence=next(seq)
        ),
    ]
    events += [*surveys, counter_event(EventType.COUNTER_CLOSED, 90, branch=branch, sequence=next(seq))]
    client = await start_metrics(hall.settings())
    await hall.produce(events)
    await wait_until(lambda: hall.processed(events[-1]))
    return client, branch


async def test_reports_ikm_and_health(hall: MetricsHallKit, start_metrics: Starter) -> None:
    client, branch = await _running(hall, start_metrics)

    response = await client.get("/api/v1/reports/daily", params={"branch": branch, "date": "2026-11-28"})
    assert response.status == 200
    report = await response.json()
    total = report["rows"][0]
    assert (total["issued"], total["served"], total["cancelled"], total["no_show"]) == (6, 4, 2, 0)
    # Ticket i is issued at i/2 min and first called at 10 + 10 i min: waits 600, 1170, 1740, 2310 s.
    assert total["mean_wait_seconds"] == 1455.0
    assert total["p90_wait_seconds"] == 2310.0
    assert total["mean_service_seconds"] == 420.0  # serving 1 min after the call, completed 8 min after
    assert total["served_within_target"] == 0.25  # target 900 s: only the first of four

    response = await client.get(
        "/api/v1/reports/daily", params={"branch": branch, "date": "2026-11-28", "format": "csv"}
    )
    assert response.status == 200
    assert response.content_type == "text/csv"
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert rows[0]["issued"] == "6"
    response = await client.get(
        f"/api/v1/reports/daily?branch={branch}&date=2026-11-28", headers={"Accept": "text/csv"}
    )
    assert response.content_type == "text/csv"

    response = await client.get(
        f"/api/v1/branches/{branch}/ikm", params={"from": "2026-11-01", "to": "2026-11-30"}
    )
    assert response.status == 200
    ikm = await response.json()
    # Three answers (t1's second answer is ignored): elements 1-8 sum to 4+3+2 = 9, element 9 to 4+4+2 = 10.
    assert ikm["responses"] == 3
    assert ikm["elements"] == [3.0] * 8 + [3.33]
    # Exact: (8 × 3 + 10/3) / 9 × 25 = (82/3) / 9 × 25 = 2050/27 = 75.925… → 75.93, grade C.
    assert ikm["index"] == 75.93
    assert ikm["grade"] == "C"
    narrowed = await (
        await client.get(
            f"/api/v1/branches/{branch}/ikm",
            params={"from": "2026-11-01", "to": "2026-11-30", "counter": "loket-2"},
        )
    ).json()
    assert (narrowed["responses"], narrowed["index"], narrowed["grade"]) == (1, 50.0, "D")
    for agency, expected in (("disdukcapil", (3, 75.93, "C")), ("bpjs", (0, None, None))):
        by_agency = await (
            await client.get(
                f"/api/v1/branches/{branch}/ikm",
                params={"from": "2026-11-01", "to": "2026-11-30", "agency": agency},
            )
        ).json()
        assert (by_agency["responses"], by_agency["index"], by_agency["grade"]) == expected
    empty = await (
        await client.get(f"/api/v1/branches/{branch}/ikm", params={"from": "2026-10-01", "to": "2026-10-31"})
    ).json()
    assert (empty["responses"], empty["index"], empty["grade"]) == (0, None, None)

    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200

    samples = await scrape(client)
    for reason in ("citizen", "day_closed"):
        cancelled = key(
            "qms_tickets_cancelled_total",
            branch=branch,
            agency="disdukcapil",
            service="ktp",
            channel="kiosk",
            reason=reason,
        )
        assert samples[cancelled] == 1
    route = "/api/v1/branches/{branch_id}/ikm"
    assert (
        samples[key("qms_http_request_duration_seconds_count", method="GET", route=route, status="200")] == 5
    )


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/reports/daily", 400),
        ("/api/v1/reports/daily?branch=bjb", 400),
        ("/api/v1/reports/daily?branch=bjb&date=2026-13-01", 400),
        ("/api/v1/reports/daily?branch=bjb&date=28-11-2026", 400),
        ("/api/v1/reports/daily?branch=bjb&date=2026-11-28&format=xml", 400),
        ("/api/v1/reports/daily?branch=%27%3B--&date=2026-11-28", 400),
        ("/api/v1/branches/bjb/ikm?from=2026-11-30&to=2026-11-01", 400),
        ("/api/v1/branches/bjb/ikm?from=yesterday", 400),
        ("/api/v1/branches/bjb/ikm?agency=a&counter=c", 400),
        ("/api/v1/branches/%20/ikm", 400),
        ("/api/v1/nothing-here", 404),
    ],
)
async def test_bad_input_is_a_problem_not_a_500(
    hall: MetricsHallKit, start_metrics: Starter, path: str, status: int
) -> None:
    client = await start_metrics(hall.settings())
    response = await client.get(path)
    assert response.status == status
    assert response.content_type == "application/problem+json"
    body = await response.json()
    assert body["status"] == status
