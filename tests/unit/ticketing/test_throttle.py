"""The abuse-limit rules: token buckets per key and the log-in back-off."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.ticketing.domain.throttle import Backoff, Limit, RateLimiter, login_delay, retry_after_header


def test_a_burst_is_allowed_then_refused_with_the_time_to_the_next_token() -> None:
    limiter = RateLimiter(Limit(rate=2.0, burst=3))
    assert [limiter.take("a", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a", 0.0) == pytest.approx(0.5)
    assert limiter.take("a", 0.5) == 0.0


def test_keys_do_not_share_a_bucket() -> None:
    limiter = RateLimiter(Limit(rate=1.0, burst=1))
    assert limiter.take("a", 0.0) == 0.0
    assert limiter.take("a", 0.0) > 0
    assert limiter.take("b", 0.0) == 0.0


def test_the_table_of_buckets_stays_bounded_and_forgets_idle_clients_first() -> None:
    limiter = RateLimiter(Limit(rate=1.0, burst=1), max_keys=3)
    limiter.take("busy", 0.0)
    for i in range(50):
        limiter.take(f"idle{i}", float(i))
        assert len(limiter) <= 3
    # an exhausted bucket is still remembered while it carries information
    limiter = RateLimiter(Limit(rate=0.001, burst=1), max_keys=2)
    limiter.take("x", 0.0)
    limiter.take("y", 0.0)
    assert limiter.take("x", 1.0) > 0


@given(
    rate=st.floats(0.1, 50),
    burst=st.integers(1, 20),
    gaps=st.lists(st.floats(0, 2), min_size=1, max_size=200),
)
def test_allowed_requests_never_exceed_burst_plus_rate_times_elapsed(
    rate: float, burst: int, gaps: list[float]
) -> None:
    limiter = RateLimiter(Limit(rate=rate, burst=burst))
    now, allowed = 0.0, 0
    for gap in gaps:
        now += gap
        wait = limiter.take("k", now)
        assert wait >= 0
        allowed += wait == 0.0
    assert allowed <= burst + rate * now + 1e-6


@given(st.floats(0, 10_000))
def test_retry_after_is_a_positive_whole_number_not_below_the_wait(wait: float) -> None:
    header = int(retry_after_header(wait))
    assert header >= 1
    assert header >= wait


def test_login_back_off_is_free_at_first_then_doubles_up_to_the_ceiling() -> None:
    policy = Backoff(free=3, base=1.0, ceiling=60.0)
    delays = [login_delay(n, policy) for n in range(0, 12)]
    assert delays[:4] == [0.0, 0.0, 0.0, 0.0]
    assert delays[4:9] == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert delays[-1] == 60.0
    assert login_delay(10**9, policy) == 60.0


def test_a_limit_needs_a_positive_rate_and_burst() -> None:
    with pytest.raises(ValueError, match="rate > 0"):
        Limit(rate=0, burst=1)
