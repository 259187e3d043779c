"""Abuse limits as pure rules: a token bucket per client and the login back-off.

No I/O and no clock of its own: every call takes ``now`` (seconds on any
monotonic scale), so the rules are tested without an event loop and without
sleeping.

* :class:`RateLimiter` keeps one token bucket per key (a client address, a
  hashed NIK, ...). A bucket holds ``burst`` tokens and refills at ``rate``
  tokens a second; a request that finds no token is refused with the number of
  seconds after which one will be there (the ``Retry-After`` of a 429). The
  table of buckets is bounded: when it is full, buckets that have refilled
  completely carry no information and are dropped first, then the oldest.
* :func:`login_delay` is the exponential back-off after failed log-ins: the
  first ``free`` failures cost nothing (typing mistakes), then each further
  failure doubles the wait up to ``ceiling`` seconds.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limit:
    """``burst`` requests at once, then ``rate`` requests a second on average."""

    rate: float
    burst: int

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError(f"a limit needs rate > 0 and burst >= 1, not {self.rate}/{self.burst}")


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """Token buckets per key, bounded to ``max_keys`` entries."""

    def __init__(self, limit: Limit, *, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def _refilled(self, bucket: _Bucket, now: float) -> float:
        elapsed = max(0.0, now - bucket.stamp)
        return min(float(self.limit.burst), bucket.tokens + elapsed * self.limit.rate)

    def take(self, key: str, now: float, cost: float = 1.0) -> float:
        """Spend ``cost`` tokens of ``key``'s bucket: 0.0 when allowed, else seconds to wait."""
        bucket = self._buckets.get(key)
        if bucket is None:
            self._make_room(now)
            bucket = _Bucket(float(self.limit.burst), now)
            self._buckets[key] = bucket
        else:
            self._buckets.move_to_end(key)
        bucket.tokens, bucket.stamp = self._refilled(bucket, now), now
        if bucket.tokens >= cost:
            bucket.tokens -= cost
            return 0.0
        return (cost - bucket.tokens) / self.limit.rate

    def _make_room(self, now: float) -> None:
        if len(self._buckets) < self.max_keys:
            return
        for key in [k for k, b in self._buckets.items() if self._refilled(b, now) >= self.limit.burst]:
            del self._buckets[key]
        while len(self._buckets) >= self.max_keys:
            self._buckets.popitem(last=False)


def retry_after_header(wait_seconds: float) -> str:
    """Whole seconds for ``Retry-After`` (at least 1: 0 would invite an immediate retry)."""
    return str(max(1, math.ceil(wait_seconds)))


@dataclass(frozen=True, slots=True)
class Backoff:
    """Log-in back-off: ``free`` failures without delay, then ``base`` doubling up to ``ceiling``."""

    free: int = 3
    base: float = 1.0
    ceiling: float = 900.0


def login_delay(failures: int, policy: Backoff = Backoff()) -> float:
    """Seconds a user or address must wait after ``failures`` failed log-ins in a row."""
    if failures <= policy.free:
        return 0.0
    exponent = min(failures - policy.free - 1, 32)
    return min(policy.ceiling, policy.base * 2.0**exponent)
