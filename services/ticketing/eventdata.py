"""The ``data`` of every event ticketing emits, exactly as ``docs/events.md`` fixes it.

Pure functions from database rows (any mapping) to event ``data`` and to the
CloudEvent itself; the stores call them inside the transaction of the change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from services.events import CloudEvent, EventType, new_event
from services.events.envelope import format_time

SOURCE = "/ticketing"


def rfc3339(moment: datetime | None) -> str | None:
    """UTC RFC 3339 text of an aware moment, or None."""
    return format_time(moment) if moment is not None else None


def ticket_data(row: Mapping[str, Any], *, with_counter: bool = True, **extra: Any) -> dict[str, Any]:
    """The fields every ticket event carries, from a joined ticket row (see ``tickets.TICKET_SELECT``)."""
    day = row["business_date"]
    data: dict[str, Any] = {
        "ticket_id": str(row["id"]),
        "number": row["number"],
        "branch_id": row["branch_id"],
        "business_date": day.isoformat() if isinstance(day, date) else str(day),
        "service_id": row["service_id"],
        "service_name": row["service_name"],
        "agency_id": row["agency_id"],
        "agency_name": row["agency_name"],
        "counter_id": row["counter_id"] if with_counter else None,
        "counter_name": row["counter_name"] if with_counter else None,
        "zone": row["zone"] if with_counter else None,
        "priority": row["priority"],
        "priority_group": row["priority_group"],
        "channel": row["channel"],
        "issued_at": rfc3339(row["issued_at"]),
        "status": row["status"],
    }
    data.update(extra)
    return data


def ticket_event(
    event_type: EventType, row: Mapping[str, Any], now: datetime, data: dict[str, Any]
) -> CloudEvent:
    """A ticket event whose subject is the ticket id."""
    return new_event(
        event_type, source=SOURCE, subject=str(row["id"]), branch_id=row["branch_id"], data=data, time=now
    )


def counter_event(
    event_type: EventType, counter: Mapping[str, Any], status: str, operator: str | None, now: datetime
) -> CloudEvent:
    """``counter.opened`` / ``counter.paused`` / ``counter.closed`` for a counter row."""
    data = {
        "counter_id": counter["id"],
        "counter_name": counter["name"],
        "branch_id": counter["branch_id"],
        "zone": counter["zone"],
        "service_ids": list(counter["service_ids"]),
        "status": status,
        "operator": operator,
    }
    return new_event(
        event_type, source=SOURCE, subject=counter["id"], branch_id=counter["branch_id"], data=data, time=now
    )


def survey_event(row: Mapping[str, Any], scores: Sequence[int], now: datetime) -> CloudEvent:
    """``survey.submitted`` for a completed ticket row."""
    data = {
        "ticket_id": str(row["id"]),
        "number": row["number"],
        "branch_id": row["branch_id"],
        "agency_id": row["agency_id"],
        "service_id": row["service_id"],
        "counter_id": row["counter_id"],
        "scores": list(scores),
        "submitted_at": rfc3339(now),
    }
    return new_event(
        EventType.SURVEY_SUBMITTED,
        source=SOURCE,
        subject=str(row["id"]),
        branch_id=row["branch_id"],
        data=data,
        time=now,
    )
