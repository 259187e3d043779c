"""Builders of valid hall events for the metrics tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.events import CloudEvent, EventType, new_event

T0 = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)  # 09:00 WITA


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
    **extra: Any,
) -> CloudEvent:
    """A ticket event ``minutes`` after T0, issued at T0."""
    data: dict[str, Any] = {
        "ticket_id": ticket,
        "number": "A001",
        "branch_id": branch,
        "business_date": "2026-11-28",
        "service_id": service,
        "agency_id": agency,
        "counter_id": counter,
        "priority": False,
        "channel": "kiosk",
        "issued_at": T0.isoformat(),
        **extra,
    }
    return new_event(
        kind, source="/ticketing", subject=ticket, branch_id=branch, data=data, time=at(minutes)
    ).with_sequence(sequence)


def counter_event(
    kind: EventType, minutes: float, *, counter: str = "loket-1", branch: str = "bjb", sequence: int = 1
) -> CloudEvent:
    """A counter event ``minutes`` after T0."""
    data = {
        "counter_id": counter,
        "counter_name": "Loket 1",
        "branch_id": branch,
        "zone": None,
        "service_ids": ["ktp"],
        "status": kind.value.split(".")[1],
        "operator": None,
    }
    return new_event(
        kind, source="/ticketing", subject=counter, branch_id=branch, data=data, time=at(minutes)
    ).with_sequence(sequence)


def survey_event(
    minutes: float,
    scores: Any,
    *,
    ticket: str = "t-1",
    branch: str = "bjb",
    counter: str | None = "loket-1",
    sequence: int = 1,
) -> CloudEvent:
    """A ``survey.submitted`` event ``minutes`` after T0."""
    data = {
        "ticket_id": ticket,
        "number": "A001",
        "branch_id": branch,
        "agency_id": "disdukcapil",
        "service_id": "ktp",
        "counter_id": counter,
        "scores": scores,
        "submitted_at": at(minutes).isoformat(),
    }
    return new_event(
        EventType.SURVEY_SUBMITTED,
        source="/ticketing",
        subject=ticket,
        branch_id=branch,
        data=data,
        time=at(minutes),
    ).with_sequence(sequence)
