"""Ticket numbers: a service prefix and three digits, per service per business day.

The business day is the calendar day in the branch's own time zone, so numbering
restarts at local midnight without any scheduled job: the day is part of the key
under which numbers are counted. Numbers run from 1 to :data:`MAX_NUMBER`; a
service's daily quota may not exceed it, and a request past the quota or past
999 is refused (it never wraps around and never produces a four-digit number).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

MAX_NUMBER = 999
"""The highest number of a business day: three digits."""

_PREFIX_RE = re.compile(r"^[A-Z]{1,3}$")
_NUMBER_RE = re.compile(r"^([A-Z]{1,3})(\d{3})$")


def business_date(now: datetime, timezone: ZoneInfo) -> date:
    """The branch-local calendar day of the aware moment ``now``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(timezone).date()


def is_valid_prefix(prefix: str) -> bool:
    """A prefix is one to three upper-case ASCII letters."""
    return bool(_PREFIX_RE.match(prefix))


def format_number(prefix: str, sequence: int) -> str:
    """The number as shown, e.g. ``format_number("A", 12) == "A012"``."""
    if not is_valid_prefix(prefix):
        raise ValueError(f"invalid prefix {prefix!r}")
    if not 1 <= sequence <= MAX_NUMBER:
        raise ValueError(f"sequence {sequence} outside 1..{MAX_NUMBER}")
    return f"{prefix}{sequence:03d}"


def parse_number(number: str) -> tuple[str, int]:
    """Split a shown number into its prefix and sequence; the inverse of :func:`format_number`."""
    match = _NUMBER_RE.match(number)
    if match is None or int(match.group(2)) == 0:
        raise ValueError(f"not a ticket number: {number!r}")
    return match.group(1), int(match.group(2))


def quota_allows(sequence: int, daily_quota: int) -> bool:
    """True when the day's ``sequence``-th ticket of a service is within its quota and three digits."""
    return 1 <= sequence <= min(daily_quota, MAX_NUMBER)


def next_sequence(last_issued: int, daily_quota: int) -> int | None:
    """The next sequence after ``last_issued`` for the day, or None when the quota is used up.

    The store allocates the same way (an upsert adding one to the day's last
    number, in the issuing transaction) and refuses with :func:`quota_allows`.
    """
    candidate = last_issued + 1
    return candidate if quota_allows(candidate, daily_quota) else None
