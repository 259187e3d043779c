"""Wait estimates from people ahead, open counters and recent service times."""

from hypothesis import given
from hypothesis import strategies as st

from services.ticketing.domain.estimate import average_service_seconds, estimate_wait_seconds


def test_falls_back_to_expected_time_without_samples() -> None:
    assert average_service_seconds([], 600) == 600
    assert average_service_seconds([100, 200], 600) == 600


def test_moves_towards_real_times() -> None:
    avg = average_service_seconds([120] * 30, 600)
    assert 120 < avg < 200


def test_estimate_shares_work_between_counters() -> None:
    assert estimate_wait_seconds(0, 3, 300) == 0
    assert estimate_wait_seconds(6, 3, 300) == 600
    assert estimate_wait_seconds(6, 0, 300) == 1800


@given(st.integers(0, 500), st.integers(0, 20), st.floats(0, 7200))
def test_estimate_is_monotonic_in_people_ahead(ahead: int, counters: int, avg: float) -> None:
    assert estimate_wait_seconds(ahead, counters, avg) <= estimate_wait_seconds(ahead + 1, counters, avg)
    assert estimate_wait_seconds(ahead, counters + 1, avg) <= estimate_wait_seconds(ahead, counters, avg)
