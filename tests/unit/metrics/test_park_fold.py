"""The metrics fold of parking: the counter is free while the citizen is away, parked time is no service."""

from __future__ import annotations

from services.events import EventType
from services.metrics.aggregates import CounterFact, Effect, TicketFact, fold
from tests.unit.metrics.events import counter_event, ticket_event


def _run(events: list[object]) -> tuple[TicketFact | None, CounterFact | None, list[Effect]]:
    ticket: TicketFact | None = None
    counter: CounterFact | None = None
    effects = []
    for event in events:
        effect = fold(event, ticket, counter)  # type: ignore[arg-type]
        ticket = effect.ticket or ticket
        counter = effect.counter or counter
        effects.append(effect)
    return ticket, counter, effects


def test_parked_time_is_not_service_time() -> None:
    ticket, _counter, effects = _run(
        [
            counter_event(EventType.COUNTER_OPENED, 0, sequence=1),
            ticket_event(EventType.TICKET_ISSUED, 0, sequence=2),
            ticket_event(EventType.TICKET_CALLED, 5, sequence=3),
            ticket_event(EventType.TICKET_SERVING, 6, sequence=4),
            ticket_event(EventType.TICKET_PARKED, 8, sequence=5),
            ticket_event(EventType.TICKET_RETURNED, 20, sequence=6),
            ticket_event(EventType.TICKET_CALLED, 21, sequence=7),
            ticket_event(EventType.TICKET_SERVING, 22, sequence=8),
            ticket_event(EventType.TICKET_COMPLETED, 25, sequence=9, serving_at=None),
        ]
    )
    assert ticket is not None
    assert ticket.status == "completed"
    assert effects[4].counter is not None
    assert effects[4].counter.active_ticket_id is None, "a parked ticket frees its counter"
    assert effects[5].queue_key == ("bjb", "disdukcapil", "ktp")
    service = [o.value for e in effects for o in e.observations if o.metric == "qms_service_seconds"]
    assert service == [180.0], "only the span after the return counts (22 → 25 min)"
    waits = [o.value for e in effects for o in e.observations if o.metric == "qms_wait_seconds"]
    assert waits == [300.0], "the wait is measured to the first call only"
    names = {i.metric for e in effects for i in e.increments}
    assert {"qms_tickets_parked_total", "qms_tickets_returned_total"} <= names
