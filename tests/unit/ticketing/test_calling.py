"""The call-next choice: priority first, bounded streaks, FCFS, transfers keep their place."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.ticketing.domain.calling import Candidate, choose_next, class_order, next_streak

T0 = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
SERVICES = ["bjb-ktp", "bjb-kk"]


def cand(n: int, *, priority: bool = False, service: str = "bjb-ktp", minute: int | None = None) -> Candidate:
    at = T0 + timedelta(minutes=n if minute is None else minute)
    return Candidate(f"t{n:03d}", service, priority, at, f"A{n:03d}")


def test_nobody_waiting() -> None:
    assert choose_next([], SERVICES, priority_streak=0, max_priority_streak=3) is None
    other = [cand(1, service="bjb-paspor")]
    assert choose_next(other, SERVICES, priority_streak=0, max_priority_streak=3) is None


def test_priority_first_then_fcfs() -> None:
    queue = [cand(1), cand(2, priority=True), cand(3, priority=True)]
    assert choose_next(queue, SERVICES, priority_streak=0, max_priority_streak=3) == queue[1]


def test_fcfs_across_the_counters_services() -> None:
    queue = [cand(5, service="bjb-ktp"), cand(2, service="bjb-kk")]
    assert choose_next(queue, SERVICES, priority_streak=0, max_priority_streak=3) == queue[1]


def test_transferred_ticket_keeps_original_place() -> None:
    transferred = cand(1, service="bjb-kk")  # issued first, arrived in this queue last
    queue = [cand(7), cand(8), transferred]
    assert choose_next(queue, SERVICES, priority_streak=0, max_priority_streak=3) == transferred


def test_ties_go_by_service_preference_then_number_as_the_sql_orders_them() -> None:
    kk = Candidate("t001", "bjb-kk", False, T0, "B001")
    ktp_later_number = Candidate("t002", "bjb-ktp", False, T0, "A002")
    ktp_earlier_number = Candidate("t003", "bjb-ktp", False, T0, "A001")  # the larger id, the smaller number
    queue = [kk, ktp_later_number, ktp_earlier_number]
    assert choose_next(queue, SERVICES, priority_streak=0, max_priority_streak=3) == ktp_earlier_number


def test_streak_cap_lets_a_normal_ticket_through() -> None:
    assert class_order(2, 3) == (True, False)
    assert class_order(3, 3) == (False, True)
    queue = [cand(1), cand(2, priority=True)]
    assert choose_next(queue, SERVICES, priority_streak=3, max_priority_streak=3) == queue[0]


def test_streak_cap_does_not_idle_when_only_priority_waits() -> None:
    queue = [cand(2, priority=True)]
    assert choose_next(queue, SERVICES, priority_streak=9, max_priority_streak=3) == queue[0]


@given(
    st.lists(st.booleans(), min_size=1, max_size=60),
    st.integers(1, 5),
)
def test_simulated_day_is_fair(priorities: list[bool], cap: int) -> None:
    """Drain a queue; check order within classes and the streak cap while normal tickets wait."""
    queue = [cand(i, priority=p) for i, p in enumerate(priorities)]
    streak, order = 0, []
    while (pick := choose_next(queue, SERVICES, priority_streak=streak, max_priority_streak=cap)) is not None:
        normal_waiting = any(not c.priority for c in queue)
        if pick.priority and normal_waiting:
            assert streak < cap, "priority streak exceeded the cap while a normal ticket waited"
        queue.remove(pick)
        order.append(pick)
        streak = next_streak(streak, called_priority=pick.priority)
    assert len(order) == len(priorities)
    for group in (True, False):
        times = [c.queued_at for c in order if c.priority is group]
        assert times == sorted(times), "first come first served broken within a class"
