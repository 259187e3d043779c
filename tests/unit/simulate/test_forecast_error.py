"""The forecast measured against simulated hall days (bench/forecast_error.py)."""

from __future__ import annotations

from bench.forecast_error import DayConfig, measure, simulate_day


def test_the_forecast_is_mostly_right_on_simulated_days() -> None:
    report = measure(days=8, seed=3)
    assert report.tickets > 500
    assert report.accuracy > 0.9
    assert report.misses < 0.05


def test_an_overloaded_day_leaves_tickets_unserved_and_the_forecast_says_so() -> None:
    import random

    day = simulate_day(DayConfig(load=1.5), random.Random(1))
    unserved = [o for o in day if not o.served]
    assert unserved, "a day at 150% load leaves some tickets"
    assert sum(not o.predicted_served for o in unserved) / len(unserved) > 0.8
