"""Properties of the batch fold: batching and redelivery never change what is stored."""

from __future__ import annotations

import random
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from services.events import CloudEvent, EventType
from services.metrics.aggregates import CounterFact, Labels, TicketFact
from services.metrics.batch import event_key, fold_batch
from tests.unit.metrics.events import counter_event, ticket_event

WITA = ZoneInfo("Asia/Makassar")
Stored = tuple[
    dict[str, TicketFact],
    dict[tuple[str, str], CounterFact],
    dict[tuple[str, Labels], float],
    dict[tuple[str, Labels], tuple[list[int], float, int]],
]


def random_day(seed: int, tickets: int) -> list[CloudEvent]:
    """A plausible day: counters open, tickets go through random but legal lifecycles."""
    rng = random.Random(seed)
    timed: list[tuple[float, int, CloudEvent]] = []
    order = 0

    def add(minute: float, event: CloudEvent) -> None:
        nonlocal order
        order += 1
        timed.append((minute, order, event))

    for c in range(3):
        add(0, counter_event(EventType.COUNTER_OPENED, 0, counter=f"loket-{c}"))
    for n in range(tickets):
        t, issued = f"t{n}", rng.uniform(0, 100)
        common = {"ticket": t, "issued_at": ticket_event(EventType.TICKET_ISSUED, issued).time.isoformat()}
        add(
            issued,
            ticket_event(
                EventType.TICKET_ISSUED, issued, estimated_wait_seconds=rng.randrange(900), **common
            ),
        )
        if rng.random() < 0.1:
            add(issued + 1, ticket_event(EventType.TICKET_CANCELLED, issued + 1, **common))
            continue
        counter, at = f"loket-{rng.randrange(3)}", issued + rng.uniform(0, 60)
        add(at, ticket_event(EventType.TICKET_CALLED, at, counter=counter, **common))
        if rng.random() < 0.2:
            add(at + 1, ticket_event(EventType.TICKET_RECALLED, at + 1, counter=counter, **common))
        end = rng.random()
        if end < 0.1:
            add(at + 2, ticket_event(EventType.TICKET_NO_SHOW, at + 2, counter=counter, **common))
        elif end < 0.2:
            add(
                at + 2,
                ticket_event(
                    EventType.TICKET_TRANSFERRED,
                    at + 2,
                    service="kk",
                    from_counter_id=counter,
                    from_service_id="ktp",
                    from_agency_id="disdukcapil",
                    **common,
                ),
            )
        else:
            add(at + 1.5, ticket_event(EventType.TICKET_SERVING, at + 1.5, counter=counter, **common))
            add(at + 9, ticket_event(EventType.TICKET_COMPLETED, at + 9, counter=counter, **common))
    add(200, counter_event(EventType.COUNTER_PAUSED, 200, counter="loket-0"))
    return [event for _, _, event in sorted(timed, key=lambda x: (x[0], x[1]))]


def store(stream: list[CloudEvent], sizes: list[int]) -> Stored:
    """Fold ``stream`` in consecutive batches of the given sizes, as the store would."""
    tickets: dict[str, TicketFact] = {}
    counters: dict[tuple[str, str], CounterFact] = {}
    totals: dict[tuple[str, Labels], float] = {}
    histograms: dict[tuple[str, Labels], tuple[list[int], float, int]] = {}
    processed: set[str] = set()
    start, cycle = 0, iter(sizes * (len(stream) + 1))
    while start < len(stream):
        batch = stream[start : start + next(cycle)]
        start += len(batch)
        fresh = {event_key(e) for e in batch} - processed
        result = fold_batch(list(batch), fresh, tickets, counters)
        processed |= {event_key(o.event) for o in result.outcomes if o.applied}
        tickets.update(result.tickets)
        counters.update(result.counters)
        for k, v in result.totals.items():
            totals[k] = totals.get(k, 0.0) + v
        for k, d in result.histograms.items():
            buckets, total, count = histograms.get(k, ([0] * len(d.buckets), 0.0, 0))
            histograms[k] = (
                [a + b for a, b in zip(buckets, d.buckets, strict=True)],
                total + d.sum,
                count + d.count,
            )
    return tickets, counters, totals, {k: (b, round(s, 6), c) for k, (b, s, c) in histograms.items()}


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    tickets=st.integers(1, 30),
    sizes=st.lists(st.integers(1, 25), min_size=1, max_size=5),
)
def test_batching_never_changes_the_result(seed: int, tickets: int, sizes: list[int]) -> None:
    stream = random_day(seed, tickets)
    assert store(stream, sizes) == store(stream, [len(stream)])


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000), tickets=st.integers(1, 20), sizes=st.lists(st.integers(1, 25), min_size=1)
)
def test_redelivered_events_change_nothing(seed: int, tickets: int, sizes: list[int]) -> None:
    stream = random_day(seed, tickets)
    rng = random.Random(seed)
    # Redeliver random runs of earlier events (as after a crash before the offset commit) and replay all.
    redelivered: list[CloudEvent] = []
    for i, event in enumerate(stream):
        redelivered.append(event)
        if rng.random() < 0.2:
            redelivered.extend(stream[rng.randrange(i + 1) : i + 1])
    redelivered.extend(stream)
    assert store(redelivered, sizes) == store(stream, [len(stream)])
