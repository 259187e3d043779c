"""Prometheus metrics of one display instance, in a registry of its own.

A registry per app (not the global one) lets tests run several instances in
one process. Names are fixed in DESIGN.md and the lead's metric list.
The HTTP latency histogram and the dead-letter counter are the platform's,
so their names are the same in every service.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

from services.platform.dlq import dead_letter_counter
from services.platform.http import http_latency

LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class DisplayMetrics:
    """Every metric the display service exports."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        r = self.registry
        self.http_duration = http_latency(r)
        self.connections = Gauge(
            "qms_display_connections", "Open hall screen websockets", ["branch"], registry=r
        )
        self.messages_sent = Counter(
            "qms_display_messages_sent", "Websocket messages written to screens", registry=r
        )
        self.clients_dropped = Counter(
            "qms_display_clients_dropped", "Screens dropped by the server", ["reason"], registry=r
        )
        self.consumer_lag = Gauge(
            "qms_display_consumer_lag",
            "High-water mark minus the display consumer's position",
            ["partition"],
            registry=r,
        )
        self.events_processed = Counter(
            "qms_display_events_processed", "Events folded into screens", ["type"], registry=r
        )
        self.dead_lettered = dead_letter_counter(r)
        self.event_lag = Histogram(
            "qms_display_event_lag_seconds",
            "Event time to the moment screens were sent the change",
            buckets=LAG_BUCKETS,
            registry=r,
        )
