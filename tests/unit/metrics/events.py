"""Builders of valid hall events for the metrics tests (through the event models only)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.events import DATA_MODELS, CloudEvent, CounterData, EventType, new_event, parse_data
from tests.unit.events.kit import ticket_defaults

T0 = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)  # 09:00 WITA
WITA = "Asia/Makassar"
DAY = date(2026, 11, 28)


def at(minutes: float) -> datetime:
    """``minutes`` after 09:00 WITA on 28 Nov 2026."""
    return T0 + timedelta(minutes=minutes)


def ticket_event(
    kind: EventType,
    minutes: float,
    *,
    ticket: str = "t-1",
    branch: str = "bjb",
    agency: str = "disdukcapil",
    service: str = "ktp",
    counter: str | None = None,
    sequence: int = 1,
    timezone: str = WITA,
    business_date: date = DAY,
    **extra: Any,
) -> CloudEvent:
    """A ticket event ``minutes`` after T0, issued at T0 (at ``counter``, or loket-1 where one is needed)."""
    at_counter = kind in (
        EventType.TICKET_CALLED,
        EventType.TICKET_RECALLED,
        EventType.TICKET_SERVING,
        EventType.TICKET_COMPLETED,
        EventType.TICKET_NO_SHOW,
        EventType.TICKET_PARKED,
    )
    counter = counter or ("loket-1" if at_counter else None)
    fields: dict[str, Any] = {
        "ticket_id": ticket,
        "number": "A001",
        "branch_id": branch,
        "timezone": timezone,
        "business_date": business_date,
        "service_id": service,
        "service_name": service.upper(),
        "agency_id": agency,
        "agency_name": agency.title(),
        "counter_id": counter,
        "counter_name": None if counter is None else counter.replace("-", " ").title(),
        "priority": False,
        "channel": "kiosk",
        "issued_at": T0,
        **ticket_defaults(kind, at(minutes)),
        **extra,
    }
    data = parse_data(kind, fields)  # InvalidDataError for what the contract refuses
    return new_event(data, source="/ticketing", subject=ticket, time=at(minutes)).with_sequence(sequence)


def counter_event(
    kind: EventType, minutes: float, *, counter: str = "loket-1", branch: str = "bjb", sequence: int = 1
) -> CloudEvent:
    """A counter event ``minutes`` after T0."""
    model = DATA_MODELS[kind]
    assert issubclass(model, CounterData)
    data = model(
        counter_id=counter,
        counter_name="Loket 1",
        branch_id=branch,
        timezone=WITA,
        business_date=DAY,
        zone=None,
        service_ids=("ktp",),
        status={"opened": "open", "paused": "paused", "closed": "closed"}[kind.value.split(".")[1]],  # type: ignore[arg-type]
        operator=None,
    )
    return new_event(data, source="/ticketing", subject=counter, time=at(minutes)).with_sequence(sequence)


def survey_event(
    minutes: float,
    scores: Any,
    *,
    ticket: str = "t-1",
    branch: str = "bjb",
    counter: str | None = "loket-1",
    sequence: int = 1,
    timezone: str = WITA,
    business_date: date = DAY,
) -> CloudEvent:
    """A ``survey.submitted`` event ``minutes`` after T0."""
    fields = {
        "ticket_id": ticket,
        "number": "A001",
        "branch_id": branch,
        "timezone": timezone,
        "business_date": business_date,
        "agency_id": "disdukcapil",
        "service_id": "ktp",
        "counter_id": counter,
        "scores": scores,
        "submitted_at": at(minutes),
    }
    data = parse_data(EventType.SURVEY_SUBMITTED, fields)
    return new_event(data, source="/ticketing", subject=ticket, time=at(minutes)).with_sequence(sequence)
