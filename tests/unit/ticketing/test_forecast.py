"""The closing-time forecast and the counter suggestion (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from services.ticketing.domain.forecast import CounterLoad, closing_time, forecast, suggest_counter
from services.ticketing.domain.schedule import parse_schedule


def test_a_queue_that_fits_before_closing_is_all_served() -> None:
    f = forecast(waiting=6, open_counters=2, average_seconds=300, seconds_to_close=3600)
    assert (f.finish_seconds, f.all_served, f.new_ticket_served, f.unserved) == (900, True, True, 0)


def test_a_queue_longer_than_the_day_counts_the_unserved() -> None:
    f = forecast(waiting=30, open_counters=2, average_seconds=600, seconds_to_close=3600)
    assert not f.all_served
    assert not f.new_ticket_served
    assert f.unserved == 30 - 12  # six tickets an hour per counter


def test_the_last_ticket_that_still_fits() -> None:
    f = forecast(waiting=3, open_counters=1, average_seconds=900, seconds_to_close=3600)
    assert f.all_served
    assert f.new_ticket_served
    g = forecast(waiting=4, open_counters=1, average_seconds=900, seconds_to_close=3600)
    assert g.all_served
    assert not g.new_ticket_served


def test_no_open_counter_serves_nobody() -> None:
    f = forecast(waiting=2, open_counters=0, average_seconds=300, seconds_to_close=3600)
    assert f.finish_seconds is None
    assert not f.all_served
    assert f.unserved == 2
    assert forecast(0, 0, 300, 3600).all_served


def test_closing_time_follows_the_schedule() -> None:
    schedule = parse_schedule({"timezone": "Asia/Makassar", "hours": {"mon": "08:00-15:00"},
                               "holidays": ["2026-12-07"]})  # fmt: skip
    monday = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 10:00 WITA
    assert closing_time(schedule, monday) == datetime(2026, 11, 30, 15, 0, tzinfo=ZoneInfo("Asia/Makassar"))
    assert closing_time(schedule, datetime(2026, 12, 1, 2, 0, tzinfo=UTC)) is None  # no hours on Tuesday
    assert closing_time(schedule, datetime(2026, 12, 7, 2, 0, tzinfo=UTC)) is None  # holiday


def test_suggestion_prefers_an_idle_open_counter_then_the_least_loaded() -> None:
    counters = [
        CounterLoad("c1", "Loket 1", "open", True, ("ktp", "kk")),
        CounterLoad("c2", "Loket 2", "open", False, ("kk", "ktp")),
        CounterLoad("c3", "Loket 3", "closed", False, ("ktp",)),
        CounterLoad("c4", "Loket 4", "open", False, ("pkb",)),
    ]
    assert suggest_counter("ktp", counters, {"kk": 5}).counter_id == "c2"  # type: ignore[union-attr]
    busy = [CounterLoad("c1", "Loket 1", "open", True, ("ktp", "kk")), counters[2]]
    assert suggest_counter("ktp", busy, {}).counter_id == "c1"  # type: ignore[union-attr]
    assert suggest_counter("sim", counters, {}) is None
