"""The issuing state a kiosk shows before the tap: the same rules and reasons as issuing's 409."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.ticketing.domain.issuing import issuing_state
from services.ticketing.domain.numbering import quota_allows
from services.ticketing.domain.schedule import check_issuing, parse_schedule
from services.ticketing.errors import IssuingRefused

WITA = ZoneInfo("Asia/Makassar")
SCHEDULE = parse_schedule(
    {
        "timezone": "Asia/Makassar",
        "hours": {d: "08:00-15:00" for d in ("mon", "tue", "wed", "thu", "fri")},
        "breaks": [{"name": "Jumatan", "days": ["fri"], "time": "11:30-13:00"}],
        "holidays": [{"date": "2026-12-25", "name": "Hari Raya Natal"}],
        "issuing_cutoff_minutes": 30,
    }
)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """December 2026, WITA (1 Dec is a Tuesday)."""
    return datetime(2026, 12, day, hour, minute, tzinfo=WITA)


def _refusal(now: datetime) -> IssuingRefused | None:
    try:
        check_issuing(SCHEDULE, now)
    except IssuingRefused as refused:
        return refused
    return None


def test_open_within_hours_and_quota() -> None:
    state = issuing_state(SCHEDULE, at(1, 9), issued_today=3, daily_quota=10)
    assert state.open
    assert (state.reason, state.retry_at) == (None, None)


@pytest.mark.parametrize(
    ("moment", "reason", "retry"),
    [
        (at(1, 7), "not_open_yet", at(1, 8)),
        (at(1, 14, 45), "cutoff", at(2, 8)),
        (at(4, 12), "break", at(4, 13)),
        (at(25, 9), "holiday", at(28, 8)),
        (at(5, 9), "closed", at(7, 8)),
    ],
)
def test_closed_says_why_and_when_it_opens(moment: datetime, reason: str, retry: datetime) -> None:
    state = issuing_state(SCHEDULE, moment, issued_today=0, daily_quota=10)
    assert not state.open
    assert state.reason == reason
    assert state.retry_at == retry
    assert state.detail


def test_a_used_up_quota_opens_the_next_business_day() -> None:
    state = issuing_state(SCHEDULE, at(4, 9), issued_today=10, daily_quota=10, service_name="KTP-el")
    assert (state.open, state.reason, state.retry_at) == (False, "quota", at(7, 8))
    assert state.detail is not None
    assert "KTP-el" in state.detail


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 24 * 60 * 40),
    st.integers(0, 30),
    st.integers(1, 30),
)
def test_the_state_agrees_with_issuing_itself(minutes: int, issued: int, quota: int) -> None:
    """Open exactly when issuing accepts; a schedule refusal carries issuing's own reason and retry_at."""
    now = at(1, 0) + timedelta(minutes=minutes)
    state = issuing_state(SCHEDULE, now, issued_today=issued, daily_quota=quota)
    refused = _refusal(now)
    if refused is not None:
        assert (state.open, state.reason, state.retry_at) == (False, refused.reason, refused.retry_at)
        return
    assert state.open == quota_allows(issued + 1, quota)
    if not state.open:
        assert state.reason == "quota"
        assert state.retry_at is not None
        assert state.retry_at.date() > now.date()
