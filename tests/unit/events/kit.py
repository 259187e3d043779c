"""Valid event data for the contract's own tests, built through the models."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from services.events import CounterPaused, EventType, TicketIssued

ISSUED_AT = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)


def issued(**overrides: Any) -> TicketIssued:
    """A ``ticket.issued`` data in branch bjb (WITA), optionally changed."""
    fields: dict[str, Any] = {
        "ticket_id": "t-1",
        "number": "A012",
        "branch_id": "bjb",
        "timezone": "Asia/Makassar",
        "business_date": date(2026, 11, 28),
        "service_id": "ktp",
        "service_name": "KTP-el",
        "agency_id": "disdukcapil",
        "agency_name": "Disdukcapil",
        "priority": False,
        "channel": "kiosk",
        "issued_at": ISSUED_AT,
        "status": "waiting",
        "position": 1,
        "estimated_wait_seconds": 0,
        **overrides,
    }
    return TicketIssued.model_validate(fields)


def paused(**overrides: Any) -> CounterPaused:
    """A ``counter.paused`` data for loket-1 of bjb."""
    fields: dict[str, Any] = {
        "counter_id": "loket-1",
        "counter_name": "Loket 1",
        "branch_id": "bjb",
        "timezone": "Asia/Makassar",
        "business_date": date(2026, 11, 28),
        "service_ids": ["ktp"],
        "status": "paused",
        **overrides,
    }
    return CounterPaused.model_validate(fields)


_STATUS = {
    EventType.TICKET_ISSUED: "waiting",
    EventType.TICKET_CALLED: "called",
    EventType.TICKET_RECALLED: "called",
    EventType.TICKET_SERVING: "serving",
    EventType.TICKET_COMPLETED: "completed",
    EventType.TICKET_NO_SHOW: "no_show",
    EventType.TICKET_TRANSFERRED: "waiting",
    EventType.TICKET_CANCELLED: "cancelled",
    EventType.TICKET_PARKED: "parked",
    EventType.TICKET_RETURNED: "waiting",
    EventType.TICKET_REACTIVATED: "waiting",
}


def ticket_defaults(kind: EventType, when: datetime) -> dict[str, Any]:
    """The status and the type's own required fields of a ticket event at ``when``, for test kits."""
    own: dict[EventType, dict[str, Any]] = {
        EventType.TICKET_ISSUED: {"position": 1, "estimated_wait_seconds": 0},
        EventType.TICKET_CALLED: {"called_at": when},
        EventType.TICKET_RECALLED: {"recall_count": 1},
        EventType.TICKET_SERVING: {"serving_at": when},
        EventType.TICKET_COMPLETED: {"completed_at": when},
        EventType.TICKET_NO_SHOW: {"recall_count": 2},
        EventType.TICKET_TRANSFERRED: {"from_service_id": "kk", "from_agency_id": "disdukcapil"},
        EventType.TICKET_PARKED: {"parked_at": when, "return_by": when},
        EventType.TICKET_RETURNED: {"returned_at": when, "parked_at": when},
        EventType.TICKET_REACTIVATED: {"reactivated_at": when},
    }
    return {"status": _STATUS[kind], **own.get(kind, {})}
