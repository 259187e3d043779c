"""Metrics counts each event on the business day its event names, in its branch's own time zone.

Branches in WIB (UTC+7), WITA (UTC+8) and WIT (UTC+9) issue tickets at the
same four instants around their local midnights. The events are built by
ticketing's own event builder (the producer computes the day from the
branch's zone); metrics runs with a default zone that fits none of them and
no ticketing to ask, and its daily reports must still split each branch's
tickets on the branch's own midnight.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.events import CloudEvent, EventType
from services.ticketing.domain.numbering import business_date
from services.ticketing.eventdata import ticket_event
from tests.integration.metrics.conftest import MetricsHallKit, Starter, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

# 14:30, 15:30, 16:30 and 17:30 UTC on 28 Nov 2026.
INSTANTS = [datetime(2026, 11, 28, hour, 30, tzinfo=UTC) for hour in (14, 15, 16, 17)]
# Local times: WIB 21:30 22:30 23:30 | 00:30; WITA 22:30 23:30 | 00:30 01:30; WIT 23:30 | 00:30 01:30 02:30.
EXPECTED = {"Asia/Jakarta": (3, 1), "Asia/Makassar": (2, 2), "Asia/Jayapura": (1, 3)}


def _issued(branch: str, zone: str, at: datetime, n: int) -> CloudEvent:
    row: dict[str, Any] = {
        "id": uuid.uuid4(),
        "number": f"A{n:03d}",
        "branch_id": branch,
        "timezone": zone,
        "business_date": business_date(at, ZoneInfo(zone)),
        "service_id": "ktp",
        "service_name": "KTP-el",
        "agency_id": "disdukcapil",
        "agency_name": "Disdukcapil",
        "counter_id": None,
        "counter_name": None,
        "zone": None,
        "priority": False,
        "priority_group": None,
        "channel": "kiosk",
        "issued_at": at,
        "status": "waiting",
    }
    return ticket_event(
        EventType.TICKET_ISSUED, row, at, with_counter=False, position=n, estimated_wait_seconds=0
    )


async def test_business_days_follow_each_branchs_own_midnight(
    hall: MetricsHallKit, start_metrics: Starter
) -> None:
    suffix = hall.schema.removeprefix("test_")
    branches = {zone: f"z{i}-{suffix}" for i, zone in enumerate(EXPECTED)}
    seq = itertools.count(1)
    events = [
        _issued(branch, zone, at, n).with_sequence(next(seq))
        for zone, branch in branches.items()
        for n, at in enumerate(INSTANTS, start=1)
    ]
    settings = hall.settings().model_copy(update={"default_timezone": "UTC"})  # fits none of the branches
    client = await start_metrics(settings)
    await hall.produce(events)
    for event in events:
        await wait_until(lambda event=event: hall.processed(event))  # type: ignore[misc]

    for zone, (first, second) in EXPECTED.items():
        counts = []
        for day in (date(2026, 11, 28), date(2026, 11, 29)):
            params = {"branch": branches[zone], "date": day.isoformat()}
            response = await client.get("/api/v1/reports/daily", params=params)
            assert response.status == 200, await response.text()
            rows = (await response.json())["rows"]
            counts.append(rows[0]["issued"] if rows else 0)
        assert tuple(counts) == (first, second), zone
