"""Processed marks are forgotten once Kafka can no longer redeliver their events; figures stay."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from services.metrics import keys
from services.metrics.app import purge_once
from tests.integration.metrics.conftest import MetricsHallKit, Starter, key, scrape, wait_until
from tests.integration.metrics.halls import hall_day
from tests.unit.metrics.events import at

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def test_old_marks_are_purged_in_batches_and_recent_ones_kept(
    hall: MetricsHallKit, start_metrics: Starter
) -> None:
    branch = "b-" + hall.schema.removeprefix("test_")
    events = hall_day(branch, 4)
    now = [at(420)]  # 16:00 WITA on the hall day

    def clock() -> datetime:
        return now[0]

    client = await start_metrics(hall.settings(), clock)
    await hall.produce(events)

    async def marks() -> int:
        return int(await hall.fetchval("SELECT count(*) FROM processed_events"))

    async def all_applied() -> bool:
        return await marks() == len(events)

    await wait_until(all_applied)
    app = client.server.app
    issued = key(
        "qms_tickets_issued_total", branch=branch, agency="disdukcapil", service="ktp", channel="kiosk"
    )
    assert (await scrape(client))[issued] == 4

    assert await purge_once(app) == 0  # the same day: every mark is kept
    assert await marks() == len(events)

    # The retention (35 days) later, marks of events older than that go; the newest event stays.
    newest = max(e.time for e in events)
    now[0] = newest + timedelta(days=35)
    assert await app[keys.STORE].purge_processed(now[0] - timedelta(days=35), batch=3) == len(events) - 1
    assert await marks() == 1
    now[0] += timedelta(seconds=1)
    assert await purge_once(app) == 1
    assert await marks() == 0
    assert (await scrape(client))[issued] == 4  # the figures are not marks: they stay
