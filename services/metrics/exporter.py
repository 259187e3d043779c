"""The Prometheus exposition: stored aggregates as metric families, plus process-level metrics.

Totals, histograms and gauges of the hall are read from PostgreSQL at scrape
time (a :class:`Snapshot`), so a restart, a second replica or a replay never
shows a different figure. Metrics about this process itself (event lag,
consumer lag, dead letters, HTTP latency) live in ordinary prometheus-client
objects of the app's own registry.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    gc_collector,
    platform_collector,
    process_collector,
)
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from services.metrics.aggregates import HISTOGRAM_BUCKETS, CounterFact, Labels
from services.metrics.ikm import Tally, compute
from services.platform.dlq import dead_letter_counter
from services.platform.http import http_latency

EVENT_LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

# Counter totals the store keeps, with their label names and help texts.
COUNTERS: dict[str, tuple[tuple[str, ...], str]] = {
    "qms_tickets_issued_total": (("branch", "agency", "service", "channel"), "Tickets issued."),
    "qms_tickets_called_total": (("branch", "agency", "service", "counter"), "Tickets called (not recalls)."),
    "qms_tickets_recalled_total": (("branch", "agency", "service", "counter"), "Tickets recalled."),
    "qms_tickets_completed_total": (("branch", "agency", "service", "counter"), "Tickets completed."),
    "qms_tickets_no_show_total": (("branch", "agency", "service", "counter"), "Tickets marked no-show."),
    "qms_tickets_transferred_total": (
        ("branch", "agency", "service"),
        "Tickets transferred, by the service they left.",
    ),
    "qms_tickets_cancelled_total": (
        ("branch", "agency", "service", "channel", "reason"),
        "Tickets cancelled, by reason (citizen, day_closed: left waiting when the business day ended).",
    ),
    "qms_tickets_parked_total": (
        ("branch", "agency", "service", "counter"),
        "Called tickets parked (the citizen stepped out).",
    ),
    "qms_tickets_returned_total": (("branch", "agency", "service"), "Parked tickets returned to the queue."),
    "qms_tickets_reactivated_total": (("branch", "agency", "service"), "No-shows reactivated."),
    "qms_appointments_total": (
        ("branch", "agency", "service", "outcome"),
        "Bookings by outcome (booked, cancelled, checked_in, checked_in_late, expired): the check-in"
        " rate is checked_in / booked, the no-show rate expired / booked.",
    ),
    "qms_events_processed_total": (("type",), "Events applied exactly once to the stored aggregates."),
}
HISTOGRAMS: dict[str, tuple[tuple[str, ...], str]] = {
    "qms_slot_punctuality_seconds": (
        ("branch", "agency", "service"),
        "How far from its slot start a checked-in booking was first called (early or late).",
    ),
    "qms_wait_seconds": (("branch", "agency", "service"), "Wait from issue to first call."),
    "qms_walk_seconds": (("branch", "agency", "service", "counter"), "Walk from call to serving."),
    "qms_service_seconds": (("branch", "agency", "service", "counter"), "Service from serving to completed."),
    "qms_wait_estimate_error_seconds": (
        ("branch", "agency", "service"),
        "Absolute difference between the actual wait and the wait estimated at issue.",
    ),
}


@dataclass(frozen=True, slots=True)
class HistogramRow:
    """A stored histogram: non-cumulative bucket counts (last = +Inf), sum and count."""

    metric: str
    labels: Labels
    buckets: tuple[int, ...]
    sum: float
    count: int


@dataclass(frozen=True, slots=True)
class QueueRow:
    """Tickets of one business day waiting for one service, and since when the oldest waits.

    A service with no waiting ticket at all has one row with ``business_date`` None.
    """

    branch: str
    agency: str
    service: str
    business_date: date | None
    waiting: int
    oldest_since: datetime | None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the store holds for the exporter at one moment."""

    totals: list[tuple[str, Labels, float]] = field(default_factory=list)
    histograms: list[HistogramRow] = field(default_factory=list)
    queues: list[QueueRow] = field(default_factory=list)
    counters: list[CounterFact] = field(default_factory=list)
    surveys: list[tuple[str, str, str | None, str, Tally]] = field(default_factory=list)
    """(branch, agency, counter or None, "YYYY-MM" local month, tally)."""


def families(snapshot: Snapshot, now: datetime, zone_of: Callable[[str], tzinfo]) -> Iterator[Metric]:
    """The metric families of ``snapshot`` at ``now``; ``zone_of`` gives a branch's time zone."""
    yield from _counter_families(snapshot)
    yield from _histogram_families(snapshot)
    yield from _queue_families(snapshot, now, zone_of)
    yield from _counter_state_families(snapshot, now)
    yield from _ikm_families(snapshot, now, zone_of)


def _values(labels: Labels, names: Iterable[str]) -> list[str]:
    found = dict(labels)
    return [found.get(name, "") for name in names]


def _counter_families(snapshot: Snapshot) -> Iterator[Metric]:
    built = {
        name: CounterMetricFamily(name.removesuffix("_total"), doc, labels=list(names))
        for name, (names, doc) in COUNTERS.items()
    }
    for metric, labels, value in snapshot.totals:
        if metric in built:
            built[metric].add_metric(_values(labels, COUNTERS[metric][0]), value)
    yield from built.values()


def _histogram_families(snapshot: Snapshot) -> Iterator[Metric]:
    built = {
        name: HistogramMetricFamily(name, doc, labels=list(names))
        for name, (names, doc) in HISTOGRAMS.items()
    }
    for row in snapshot.histograms:
        if row.metric not in built:
            continue
        bounds = HISTOGRAM_BUCKETS[row.metric]
        cumulative, running = [], 0
        for bound, count in zip((*bounds, math.inf), row.buckets, strict=False):
            running += count
            cumulative.append((_le(bound), float(running)))
        built[row.metric].add_metric(_values(row.labels, HISTOGRAMS[row.metric][0]), cumulative, row.sum)
    yield from built.values()


def _le(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(float(bound))


def _queue_families(snapshot: Snapshot, now: datetime, zone_of: Callable[[str], tzinfo]) -> Iterator[Metric]:
    """Waiting tickets of each branch's current business day (yesterday's leftovers are not waiting)."""
    names = ["branch", "agency", "service"]
    waiting = GaugeMetricFamily("qms_queue_waiting", "Tickets waiting now.", labels=names)
    oldest = GaugeMetricFamily(
        "qms_oldest_waiting_seconds", "Age of the oldest waiting ticket (0 when none).", labels=names
    )
    today: dict[str, date] = {}
    queues: dict[tuple[str, str, str], tuple[int, datetime | None]] = {}
    for row in snapshot.queues:
        key = (row.branch, row.agency, row.service)
        count, since = queues.get(key, (0, None))
        day = today.setdefault(row.branch, now.astimezone(zone_of(row.branch)).date())
        if row.business_date == day:
            count += row.waiting
            if row.oldest_since is not None and (since is None or row.oldest_since < since):
                since = row.oldest_since
        queues[key] = (count, since)
    for key, (count, since) in sorted(queues.items()):
        waiting.add_metric(list(key), count)
        oldest.add_metric(list(key), 0.0 if since is None else max(0.0, (now - since).total_seconds()))
    yield waiting
    yield oldest


def _counter_state_families(snapshot: Snapshot, now: datetime) -> Iterator[Metric]:
    opened = GaugeMetricFamily("qms_counters_open", "Counters open now.", labels=["branch"])
    idle = CounterMetricFamily(
        "qms_counter_idle_seconds",
        "Time a counter was open with no active ticket.",
        labels=["branch", "counter"],
    )
    per_branch: dict[str, int] = {}
    for counter in snapshot.counters:
        per_branch[counter.branch_id] = per_branch.get(counter.branch_id, 0) + (counter.status == "open")
        running = 0.0 if counter.idle_since is None else max(0.0, (now - counter.idle_since).total_seconds())
        idle.add_metric([counter.branch_id, counter.counter_id], counter.idle_seconds + running)
    for branch, count in sorted(per_branch.items()):
        opened.add_metric([branch], count)
    yield opened
    yield idle


def _ikm_families(snapshot: Snapshot, now: datetime, zone_of: Callable[[str], tzinfo]) -> Iterator[Metric]:
    # agency="all" and counter="all" is the whole branch; one of them named narrows it.
    names = ["branch", "agency", "counter"]
    score = GaugeMetricFamily(
        "qms_ikm_score",
        "IKM of the current month in the branch's time zone, per branch, agency and counter.",
        labels=names,
    )
    responses = GaugeMetricFamily("qms_ikm_responses", "Survey answers of the current month.", labels=names)
    tallies: dict[tuple[str, str, str], Tally] = {}
    months: dict[str, str] = {}
    for branch, agency, counter, month, tally in snapshot.surveys:
        current = months.setdefault(branch, now.astimezone(zone_of(branch)).strftime("%Y-%m"))
        if month != current:
            continue
        keys = [(branch, agency, "all"), (branch, "all", "all")]
        if counter:
            keys.append((branch, "all", counter))
        for key in keys:
            tallies[key] = tallies.get(key, Tally.empty()).merge(tally)
    for key, tally in sorted(tallies.items()):
        result = compute(tally)
        if result.index is not None:
            score.add_metric(list(key), float(result.index))
        responses.add_metric(list(key), tally.responses)
    yield score
    yield responses


def month_start(now: datetime) -> date:
    """A date early enough to cover the current month in every time zone."""
    return (
        date(now.year, now.month, 1) if now.day > 1 else date.fromordinal(now.toordinal() - 1).replace(day=1)
    )


class StoredCollector(Collector):
    """A collector that exposes the latest snapshot the /metrics handler fetched."""

    def __init__(self, clock: Callable[[], datetime], zone_of: Callable[[str], tzinfo]) -> None:
        self.latest = Snapshot()
        self._clock = clock
        self._zone_of = zone_of

    def collect(self) -> Iterable[Metric]:
        """The families of the latest snapshot (prometheus-client calls this on each scrape)."""
        return list(families(self.latest, self._clock(), self._zone_of))


@dataclass(frozen=True, slots=True)
class ProcessMetrics:
    """Metrics about this process, in the app's own registry."""

    registry: CollectorRegistry
    stored: StoredCollector
    event_lag: Histogram
    consumer_lag: Gauge
    consumer_stuck: Gauge
    dead_lettered: Counter
    http_duration: Histogram


def build_registry(clock: Callable[[], datetime], zone_of: Callable[[str], tzinfo]) -> ProcessMetrics:
    """A fresh registry with the stored collector, process metrics and platform collectors."""
    registry = CollectorRegistry(auto_describe=False)
    process_collector.ProcessCollector(registry=registry)
    platform_collector.PlatformCollector(registry=registry)
    gc_collector.GCCollector(registry=registry)
    stored = StoredCollector(clock, zone_of)
    registry.register(stored)
    return ProcessMetrics(
        registry=registry,
        stored=stored,
        event_lag=Histogram(
            "qms_event_lag_seconds",
            "Time from an event's time to its processing.",
            buckets=EVENT_LAG_BUCKETS,
            registry=registry,
        ),
        consumer_lag=Gauge(
            "qms_consumer_lag",
            "High-water mark minus committed position, per partition.",
            ["partition"],
            registry=registry,
        ),
        consumer_stuck=Gauge(
            "qms_consumer_stuck_seconds",
            "Seconds the consumer has failed to make progress (0 while it advances).",
            registry=registry,
        ),
        dead_lettered=dead_letter_counter(registry),
        http_duration=http_latency(registry),
    )
