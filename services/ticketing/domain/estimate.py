"""Queue position and wait estimates.

The estimate is the work ahead shared by the counters that serve the service:
``people ahead × average service time ÷ open counters``. The average is a moving
average of recent real service times (serving → completed), falling back to the
service's configured expected time until enough tickets were completed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

MIN_SAMPLES = 3
"""Below this many real service times, the configured expected time is used."""


def average_service_seconds(recent: Sequence[float], expected_seconds: float) -> float:
    """Moving average of ``recent`` service times, or ``expected_seconds`` with too few samples.

    Samples that are negative are ignored (clock skew between hosts), and the
    average blends in the expected time so one outlier cannot swing it wildly.
    """
    samples = [s for s in recent if s >= 0]
    if len(samples) < MIN_SAMPLES:
        return float(expected_seconds)
    mean = sum(samples) / len(samples)
    weight = len(samples) / (len(samples) + MIN_SAMPLES)
    return weight * mean + (1 - weight) * float(expected_seconds)


def estimate_wait_seconds(ahead: int, open_counters: int, average_seconds: float) -> int:
    """Seconds until a ticket with ``ahead`` people before it is called.

    With no counter open for the service, one counter is assumed (the hall opens
    one when people wait), so the estimate stays finite and honest about the work.
    """
    if ahead <= 0:
        return 0
    servers = max(open_counters, 1)
    return math.ceil(ahead * max(average_seconds, 0.0) / servers)
