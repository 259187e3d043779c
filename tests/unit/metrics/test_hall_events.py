"""Metrics count hall.configured and hall.announcement as processed and change nothing else."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.events import HallAnnouncement, HallConfigured, new_event
from services.metrics.aggregates import Effect, fold

COMMON = {"branch_id": "bjb", "timezone": "Asia/Makassar", "business_date": date(2026, 11, 28)}
AT = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)


def test_hall_events_change_no_fact() -> None:
    for data in (
        HallConfigured.model_validate({**COMMON, "kind": "service", "action": "created", "id": "bjb-ktp"}),
        HallAnnouncement.model_validate({**COMMON, "text": "Halo", "mode": "speak_once"}),
    ):
        event = new_event(data, source="/ticketing", subject="bjb", time=AT).with_sequence(1)
        effect = fold(event, None, None)
        assert isinstance(effect, Effect)
        assert (effect.ticket, effect.counter, effect.survey, effect.queue_key) == (None, None, None, None)
        assert [i.metric for i in effect.increments] == ["qms_events_processed_total"]
