"""Reading typed fields out of an event's ``data`` (pure: no I/O).

Every reader raises :class:`InvalidEventData` naming the field, so a badly
shaped event is dead-lettered with a reason instead of stopping the consumer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from services.events import EventError
from services.events.envelope import parse_time
from services.metrics.errors import InvalidEventData

MAX_INT = 2**31 - 1  # the stored columns are PostgreSQL integers


def text(data: Mapping[str, Any], key: str) -> str:
    """A required non-empty string."""
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidEventData(f"data.{key} must be a non-empty string")
    return _storable(key, value)


def _storable(key: str, value: str) -> str:
    if "\x00" in value:  # PostgreSQL text cannot hold NUL
        raise InvalidEventData(f"data.{key} contains a NUL character")
    return value


def opt_str(data: Mapping[str, Any], key: str) -> str | None:
    """An optional string (empty counts as absent)."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidEventData(f"data.{key} must be a string or null")
    return _storable(key, value) or None


def opt_int(data: Mapping[str, Any], key: str) -> int | None:
    """An optional non-negative number that fits a PostgreSQL integer, as an int."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_INT:
        raise InvalidEventData(f"data.{key} must be a number from 0 to {MAX_INT} or null")
    return int(value)


def opt_time(data: Mapping[str, Any], key: str) -> datetime | None:
    """An optional RFC 3339 timestamp with an offset."""
    value = data.get(key)
    if value is None:
        return None
    try:
        return parse_time(value)
    except EventError as exc:
        raise InvalidEventData(f"data.{key}: {exc}") from exc


def time(data: Mapping[str, Any], key: str, default: datetime) -> datetime:
    """A timestamp, or ``default`` when absent."""
    return opt_time(data, key) or default


def opt_date(data: Mapping[str, Any], key: str) -> date | None:
    """An optional ``YYYY-MM-DD`` date."""
    value = data.get(key)
    if value is None:
        return None
    try:
        return date.fromisoformat(value) if isinstance(value, str) else _bad_date(key)
    except ValueError as exc:
        raise InvalidEventData(f"data.{key} must be YYYY-MM-DD") from exc


def _bad_date(key: str) -> date:
    raise InvalidEventData(f"data.{key} must be YYYY-MM-DD")
