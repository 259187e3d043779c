"""The merge rule of checked-in bookings and walk-ins, held to the call-next choice."""

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from services.ticketing.domain import merge
from services.ticketing.domain.calling import Candidate, choose_next

T0 = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
SLOT = timedelta(minutes=30)


def test_the_window() -> None:
    start = T0 + timedelta(hours=10)
    assert merge.arrival(start, start - timedelta(minutes=31)) is merge.Arrival.TOO_EARLY
    assert merge.arrival(start, start - timedelta(minutes=30)) is merge.Arrival.ON_TIME
    assert merge.arrival(start, start + timedelta(minutes=15)) is merge.Arrival.ON_TIME
    assert merge.arrival(start, start + timedelta(minutes=16)) is merge.Arrival.LATE
    assert merge.queued_at(start, start - timedelta(minutes=20)) == start
    assert merge.queued_at(start, start + timedelta(minutes=10)) == start
    late = start + timedelta(minutes=20)
    assert merge.queued_at(start, late) == late
    assert merge.lapsed(start, late)
    assert not merge.lapsed(start, start)


# A day: walk-ins arrive at minutes; bookings hold slot indexes and check in at an offset (minutes).
walk_ins = st.lists(st.integers(0, 600), max_size=40)
bookings = st.lists(st.tuples(st.integers(0, 19), st.integers(-30, 30), st.booleans()), max_size=40)


def _queue(walks: list[int], books: list[tuple[int, int, bool]]) -> tuple[list[Candidate], dict[str, Any]]:
    candidates, info = [], {}
    for i, minute in enumerate(walks):
        at = T0 + timedelta(minutes=minute)
        candidates.append(Candidate(f"w{i:03d}", "svc", False, at, f"w{i:03d}"))
        info[f"w{i:03d}"] = ("walk", at, at)
    for i, (slot, offset, priority) in enumerate(books):
        start = T0 + slot * SLOT
        arrived = start + timedelta(minutes=offset)
        at = merge.queued_at(start, arrived)
        candidates.append(Candidate(f"b{i:03d}", "svc", priority, at, f"b{i:03d}"))
        info[f"b{i:03d}"] = ("book", start, arrived)
    return candidates, info


def _drain(candidates: list[Candidate], cap: int) -> list[Candidate]:
    queue, order, streak = list(candidates), [], 0
    while (pick := choose_next(queue, ["svc"], priority_streak=streak, max_priority_streak=cap)) is not None:
        order.append(pick)
        queue.remove(pick)
        streak = streak + 1 if pick.priority else 0
    return order


@given(walk_ins, bookings)
def test_no_booking_overtakes_a_walk_in_who_came_before_its_slot(walks: list[int], books: Any) -> None:
    candidates, info = _queue(walks, [(s, o, False) for s, o, _ in books])
    order = _drain(candidates, cap=3)
    for i, first in enumerate(order):
        kind, start, arrived = info[first.ticket_id]
        if kind != "book" or merge.lapsed(start, arrived):
            continue
        for later in order[i + 1 :]:
            if info[later.ticket_id][0] == "walk":
                assert info[later.ticket_id][1] >= start


@given(walk_ins, bookings)
def test_a_walk_in_is_overtaken_only_by_slots_starting_just_before_it(walks: list[int], books: Any) -> None:
    """Starvation bound: a booking checked in after walk-in w but called first has a slot in [w-LATE, w]."""
    candidates, info = _queue(walks, [(s, o, False) for s, o, _ in books])
    order = _drain(candidates, cap=3)
    position = {c.ticket_id: n for n, c in enumerate(order)}
    for wid, (kind, walked, _) in info.items():
        if kind != "walk":
            continue
        for bid, (bkind, start, arrived) in info.items():
            if bkind == "book" and arrived > walked and position[bid] < position[wid]:
                assert walked - merge.LATE <= start <= walked


@given(walk_ins, bookings, st.integers(1, 4))
def test_the_priority_rule_still_holds_for_online_tickets(walks: list[int], books: Any, cap: int) -> None:
    candidates, _ = _queue(walks, books)
    order = _drain(candidates, cap)
    streak = 0
    remaining = list(candidates)
    for pick in order:
        normals_wait = any(not c.priority for c in remaining)
        if pick.priority and normals_wait:
            assert streak < cap
        streak = streak + 1 if pick.priority else 0
        remaining.remove(pick)
    for cls in (True, False):
        times = [c.queued_at for c in order if c.priority is cls]
        assert times == sorted(times)
