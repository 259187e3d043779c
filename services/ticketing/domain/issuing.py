"""Whether a service issues tickets now, and if not why and when it opens again (before the tap).

The same rules as issuing itself: :func:`~services.ticketing.domain.schedule.check_issuing`
for hours, breaks, holidays and the cut-off, and
:func:`~services.ticketing.domain.numbering.quota_allows` for the daily quota,
whose refusal points to the first opening of the next day. Pure code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from services.ticketing.domain.numbering import MAX_NUMBER, quota_allows
from services.ticketing.domain.schedule import Schedule, check_issuing, come_back, next_opening
from services.ticketing.errors import IssuingRefused


@dataclass(frozen=True, slots=True)
class IssuingState:
    """``open`` or closed with a reason code (as the 409 problem's), a sentence and ``retry_at``."""

    open: bool
    reason: str | None = None
    detail: str | None = None
    retry_at: datetime | None = None


def quota_retry_at(schedule: Schedule, day: date) -> datetime | None:
    """When a service whose quota of ``day`` is used up issues again: the next day's first opening."""
    tomorrow = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=schedule.timezone)
    return next_opening(schedule, tomorrow)


def issuing_state(
    schedule: Schedule, now: datetime, *, issued_today: int, daily_quota: int, service_name: str = ""
) -> IssuingState:
    """The issuing state of a service at ``now`` with ``issued_today`` numbers given out today."""
    try:
        check_issuing(schedule, now)
    except IssuingRefused as refused:
        return IssuingState(False, refused.reason, refused.detail, refused.retry_at)
    if not quota_allows(issued_today + 1, daily_quota):
        retry_at = quota_retry_at(schedule, now.astimezone(schedule.timezone).date())
        quota = min(daily_quota, MAX_NUMBER)
        detail = f"Kuota harian layanan {service_name} ({quota}) sudah habis." + come_back(schedule, retry_at)
        return IssuingState(False, "quota", detail, retry_at)
    return IssuingState(True)
