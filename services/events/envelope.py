"""CloudEvents 1.0 envelope (structured JSON mode) for Antrian events.

``encode`` and ``decode`` are exact inverses for valid events; ``decode``
rejects anything that is not a well-formed Antrian event with an
:class:`EventError` whose message names the offending attribute.
"""

from __future__ import annotations

import enum
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

SPEC_VERSION = "1.0"
DATA_CONTENT_TYPE = "application/json"

# An Antrian id (branch, counter, service, ...) is a short slug.
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
_REQUIRED = ("specversion", "id", "source", "type", "time", "subject", "branchid", "sequence")


class EventError(ValueError):
    """An event that is not a valid Antrian CloudEvent.

    Tree: ``EventError`` → ``UnknownEventTypeError`` (a well-formed envelope
    whose ``type`` this version does not know: a newer producer, perhaps).
    """


class UnknownEventTypeError(EventError):
    """The ``type`` attribute names no Antrian event type."""


class EventType(enum.StrEnum):
    """Every event type the hall knows."""

    TICKET_ISSUED = "ticket.issued"
    TICKET_CALLED = "ticket.called"
    TICKET_RECALLED = "ticket.recalled"
    TICKET_SERVING = "ticket.serving"
    TICKET_COMPLETED = "ticket.completed"
    TICKET_NO_SHOW = "ticket.no_show"
    TICKET_TRANSFERRED = "ticket.transferred"
    TICKET_CANCELLED = "ticket.cancelled"
    COUNTER_OPENED = "counter.opened"
    COUNTER_PAUSED = "counter.paused"
    COUNTER_CLOSED = "counter.closed"
    SURVEY_SUBMITTED = "survey.submitted"

    @property
    def is_ticket_event(self) -> bool:
        """True for the ``ticket.*`` types, whose data describes one ticket."""
        return self.value.startswith("ticket.")


# Keys a ticket event's data must carry (DESIGN.md, "Kafka").
TICKET_DATA_KEYS = frozenset(
    {"ticket_id", "number", "branch_id", "service_id", "agency_id", "priority", "channel", "issued_at"}
)


@dataclass(frozen=True, slots=True)
class CloudEvent:
    """One Antrian event. ``sequence`` is 0 until the outbox relay assigns it."""

    type: EventType
    source: str
    subject: str
    branchid: str
    time: datetime
    data: Mapping[str, Any]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    sequence: int = 0

    def with_sequence(self, sequence: int) -> CloudEvent:
        """Return this event carrying the branch ``sequence`` the relay gave it."""
        return replace(self, sequence=sequence)

    def to_dict(self) -> dict[str, Any]:
        """The structured-mode JSON object of this event."""
        return {
            "specversion": SPEC_VERSION,
            "id": self.id,
            "source": self.source,
            "type": self.type.value,
            "time": format_time(self.time),
            "subject": self.subject,
            "datacontenttype": DATA_CONTENT_TYPE,
            "branchid": self.branchid,
            "sequence": self.sequence,
            "data": dict(self.data),
        }


def new_event(
    event_type: EventType | str,
    *,
    source: str,
    subject: str,
    branch_id: str,
    data: Mapping[str, Any],
    time: datetime,
) -> CloudEvent:
    """Build a validated event (without a sequence yet)."""
    event = CloudEvent(
        type=_event_type(event_type),
        source=source,
        subject=subject,
        branchid=branch_id,
        time=time,
        data=data,
    )
    _validate(event, sequenced=False)
    return event


def encode(event: CloudEvent) -> bytes:
    """Serialise a sequenced event to UTF-8 JSON bytes."""
    _validate(event, sequenced=True)
    return json.dumps(event.to_dict(), separators=(",", ":"), ensure_ascii=False).encode()


def decode(raw: bytes | str | Mapping[str, Any]) -> CloudEvent:
    """Parse and validate one event; raise :class:`EventError` when it is not one."""
    obj = _load(raw)
    missing = [name for name in _REQUIRED if name not in obj]
    if missing:
        raise EventError(f"missing attribute(s): {', '.join(missing)}")
    if obj["specversion"] != SPEC_VERSION:
        raise EventError(f"specversion must be {SPEC_VERSION!r}, got {obj['specversion']!r}")
    content_type = obj.get("datacontenttype", DATA_CONTENT_TYPE)
    if content_type != DATA_CONTENT_TYPE:
        raise EventError(f"datacontenttype must be {DATA_CONTENT_TYPE!r}, got {content_type!r}")
    for name in ("id", "source", "subject", "branchid"):
        if not isinstance(obj[name], str) or not obj[name]:
            raise EventError(f"{name} must be a non-empty string")
    sequence = obj["sequence"]
    if isinstance(sequence, bool) or not isinstance(sequence, int):
        raise EventError("sequence must be an integer")
    data = obj.get("data", {})
    if not isinstance(data, dict):
        raise EventError("data must be a JSON object")
    event = CloudEvent(
        type=_event_type(obj["type"]),
        source=obj["source"],
        subject=obj["subject"],
        branchid=obj["branchid"],
        time=parse_time(obj["time"]),
        data=data,
        id=obj["id"],
        sequence=sequence,
    )
    _validate(event, sequenced=True)
    return event


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` suffix; naive datetimes are refused."""
    if moment.tzinfo is None:
        raise EventError("time must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_time(text: object) -> datetime:
    """Parse an RFC 3339 timestamp that carries an offset."""
    if not isinstance(text, str):
        raise EventError("time must be an RFC 3339 string")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise EventError(f"time is not RFC 3339: {text!r}") from exc
    if moment.tzinfo is None:
        raise EventError(f"time has no offset: {text!r}")
    return moment.astimezone(UTC)


def _load(raw: bytes | str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(raw, Mapping):
        return raw
    try:
        obj = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EventError(f"not JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise EventError("an event must be a JSON object")
    return obj


def _event_type(value: object) -> EventType:
    if not isinstance(value, str):
        raise UnknownEventTypeError(f"unknown event type: {value!r}")
    try:
        return EventType(value)
    except ValueError as exc:
        raise UnknownEventTypeError(f"unknown event type: {value!r}") from exc


def _validate(event: CloudEvent, *, sequenced: bool) -> None:
    try:
        uuid.UUID(event.id)
    except (ValueError, AttributeError, TypeError) as exc:
        raise EventError(f"id must be a UUID, got {event.id!r}") from exc
    if not event.source.startswith("/"):
        raise EventError(f"source must be a URI reference like '/ticketing', got {event.source!r}")
    if not _ID_RE.match(event.branchid):
        raise EventError(f"branchid is not a valid id: {event.branchid!r}")
    if not event.subject:
        raise EventError("subject must not be empty")
    if event.time.tzinfo is None:
        raise EventError("time must be timezone-aware")
    if sequenced and event.sequence < 1:
        raise EventError(f"sequence must be a positive integer, got {event.sequence}")
    if event.type.is_ticket_event:
        missing = sorted(TICKET_DATA_KEYS - set(event.data))
        if missing:
            raise EventError(f"{event.type.value} data lacks: {', '.join(missing)}")
        if event.data.get("branch_id") != event.branchid:
            raise EventError("data.branch_id must equal branchid")
