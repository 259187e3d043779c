"""The events ticketing emits, built only through the typed models of ``services.events``.

Pure functions from database rows (any mapping) to the CloudEvent; the stores
call them inside the transaction of the change. A ticket row is the joined
row of ``tickets.TICKET_SELECT`` (with the branch's ``timezone``); a counter
row carries its branch's ``timezone`` too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.events import (
    DATA_MODELS,
    CloudEvent,
    CounterData,
    EventType,
    SurveySubmitted,
    TicketData,
    new_event,
)
from services.events.types import format_time

SOURCE = "/ticketing"


def rfc3339(moment: datetime | None) -> str | None:
    """UTC RFC 3339 text of an aware moment, or None."""
    return format_time(moment) if moment is not None else None


def ticket_data(
    event_type: EventType, row: Mapping[str, Any], *, with_counter: bool = True, **extra: Any
) -> TicketData:
    """The data of a ticket event from a joined ticket row, plus the type's own ``extra`` fields."""
    model = DATA_MODELS[event_type]
    assert issubclass(model, TicketData), event_type
    fields = dict(
        ticket_id=str(row["id"]),
        number=row["number"],
        branch_id=row["branch_id"],
        timezone=row["timezone"],
        business_date=row["business_date"],
        service_id=row["service_id"],
        service_name=row["service_name"],
        agency_id=row["agency_id"],
        agency_name=row["agency_name"],
        counter_id=row["counter_id"] if with_counter else None,
        counter_name=row["counter_name"] if with_counter else None,
        zone=row["zone"] if with_counter else None,
        priority=row["priority"],
        priority_group=row["priority_group"],
        channel=row["channel"],
        issued_at=row["issued_at"],
        status=row["status"],
    )
    fields.update(extra)
    return model.model_validate(fields)


def ticket_event(
    event_type: EventType, row: Mapping[str, Any], now: datetime, *, with_counter: bool = True, **extra: Any
) -> CloudEvent:
    """A ticket event whose subject is the ticket id (see :func:`ticket_data`)."""
    data = ticket_data(event_type, row, with_counter=with_counter, **extra)
    return new_event(data, source=SOURCE, subject=str(row["id"]), time=now)


def counter_event(
    event_type: EventType,
    counter: Mapping[str, Any],
    status: str,
    operator: str | None,
    now: datetime,
    **extra: Any,
) -> CloudEvent:
    """``counter.opened`` / ``.paused`` (``extra``: its ``reason``) / ``.closed`` for a counter row."""
    model = DATA_MODELS[event_type]
    assert issubclass(model, CounterData), event_type
    data = model(
        counter_id=counter["id"],
        counter_name=counter["name"],
        branch_id=counter["branch_id"],
        timezone=counter["timezone"],
        business_date=now.astimezone(ZoneInfo(counter["timezone"])).date(),
        zone=counter["zone"],
        service_ids=tuple(counter["service_ids"]),
        status=status,  # type: ignore[arg-type]  # the model checks it
        operator=operator,
        **extra,
    )
    return new_event(data, source=SOURCE, subject=counter["id"], time=now)


def survey_event(row: Mapping[str, Any], scores: Sequence[int], now: datetime) -> CloudEvent:
    """``survey.submitted`` for a completed ticket row."""
    data = SurveySubmitted(
        ticket_id=str(row["id"]),
        number=row["number"],
        branch_id=row["branch_id"],
        timezone=row["timezone"],
        business_date=now.astimezone(ZoneInfo(row["timezone"])).date(),  # the IKM counts the day it was given
        agency_id=row["agency_id"],
        service_id=row["service_id"],
        counter_id=row["counter_id"],
        scores=tuple(scores),
        submitted_at=now,
    )
    return new_event(data, source=SOURCE, subject=str(row["id"]), time=now)
