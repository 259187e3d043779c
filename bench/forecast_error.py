"""How good is the closing-time forecast? Simulated hall days, forecast against what happened.

For each simulated day of one service (Poisson arrivals, log-normal service
times around the configured mean, a few counters, a closing time), every
ticket taken gets the forecast the kiosk would have shown *before* it was
taken (:func:`services.ticketing.domain.forecast.forecast`, with the moving
average of the service times measured so far, as ticketing computes it). At
closing we know which tickets were really served. Reported: how often the
"will be served today" verdict was right, the false alarms and the misses,
and the error of the predicted finish time of the queue.

    python -m bench.forecast_error --days 200 --seed 7
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from services.ticketing.domain.estimate import average_service_seconds
from services.ticketing.domain.forecast import forecast

RECENT = 20  # ticketing's moving-average window (tickets.RECENT_SAMPLES)


@dataclass(frozen=True, slots=True)
class DayConfig:
    """One service's day: opening length, counters, arrivals and service times."""

    open_seconds: int = 7 * 3600
    counters: int = 3
    expected_service_seconds: int = 600
    spread: float = 0.5  # sigma of the log-normal service time
    load: float = 1.1  # arrivals per second ÷ service capacity (over 1: a queue builds up)
    issue_stop_seconds: int = 6 * 3600  # the kiosk stops issuing (cut-off)


@dataclass
class Outcome:
    """Per ticket: the verdict shown before taking it, and what happened."""

    predicted_served: bool
    served: bool
    predicted_start: float | None
    """When the queue ahead is cleared, by the forecast (seconds into the day)."""
    actual_start: float | None


def simulate_day(cfg: DayConfig, rng: random.Random) -> list[Outcome]:
    """One day of one service; the forecast shown to each citizen before the ticket, and the truth."""
    rate = cfg.load * cfg.counters / cfg.expected_service_seconds
    mu = math.log(cfg.expected_service_seconds) - cfg.spread**2 / 2
    arrivals: list[float] = []
    t = 0.0
    while True:
        t += rng.expovariate(rate)
        if t >= cfg.issue_stop_seconds:
            break
        arrivals.append(t)
    free_at = [0.0] * cfg.counters  # heap of moments each counter is free
    heapq.heapify(free_at)
    starts: list[float] = []
    ends: list[float] = []
    for arrival in arrivals:  # FIFO: each ticket goes to the counter free first
        free = heapq.heappop(free_at)
        start = max(free, arrival)
        duration = rng.lognormvariate(mu, cfg.spread)
        starts.append(start)
        ends.append(start + duration)
        heapq.heappush(free_at, start + duration if start < cfg.open_seconds else math.inf)
    outcomes = []
    for i, arrival in enumerate(arrivals):
        done = [ends[j] - starts[j] for j in range(i) if ends[j] <= arrival]
        recent = done[-RECENT:]
        waiting = sum(1 for j in range(i) if starts[j] > arrival)
        average = average_service_seconds(recent, cfg.expected_service_seconds)
        f = forecast(waiting, cfg.counters, average, cfg.open_seconds - arrival)
        served = starts[i] < cfg.open_seconds
        outcomes.append(Outcome(f.new_ticket_served, served, arrival + (f.finish_seconds or 0), starts[i]))
    return outcomes


@dataclass(frozen=True, slots=True)
class Report:
    """The forecast's error over many days."""

    tickets: int
    accuracy: float
    false_alarms: float  # told "not today" but served
    misses: float  # told "served today" but not served
    start_mae_minutes: float  # |predicted − actual| start of the new ticket's service, served tickets


def measure(days: int, seed: int, loads: Sequence[float] = (0.8, 1.0, 1.1, 1.3)) -> Report:
    """Run ``days`` simulated days, cycling through the ``loads``."""
    rng = random.Random(seed)
    outcomes: list[Outcome] = []
    for day in range(days):
        outcomes += simulate_day(DayConfig(load=loads[day % len(loads)]), rng)
    right = sum(o.predicted_served == o.served for o in outcomes)
    alarms = sum(not o.predicted_served and o.served for o in outcomes)
    misses = sum(o.predicted_served and not o.served for o in outcomes)
    errors = [
        abs(o.predicted_start - o.actual_start) / 60
        for o in outcomes
        if o.served and o.predicted_start is not None and o.actual_start is not None
    ]
    n = len(outcomes)
    return Report(n, right / n, alarms / n, misses / n, statistics.fmean(errors) if errors else 0.0)


def main(argv: Sequence[str] | None = None) -> None:
    """Print the forecast's error over simulated days."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    r = measure(args.days, args.seed)
    print(f"tickets: {r.tickets}")
    print(f"verdict right: {r.accuracy:.1%}  false alarms: {r.false_alarms:.1%}  misses: {r.misses:.1%}")
    print(f"mean absolute error of the predicted start of service: {r.start_mae_minutes:.1f} min")


if __name__ == "__main__":
    main()
