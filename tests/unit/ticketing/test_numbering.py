"""Ticket numbers: format, business day in the branch's zone, quota and the 999 ceiling."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.ticketing.domain.numbering import (
    MAX_NUMBER,
    business_date,
    format_number,
    next_sequence,
    parse_number,
    quota_allows,
)

WIB, WITA, WIT = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar"), ZoneInfo("Asia/Jayapura")


def test_format_pads_to_three_digits() -> None:
    assert format_number("A", 12) == "A012"
    assert format_number("KTP", 999) == "KTP999"


@pytest.mark.parametrize(
    ("prefix", "seq"), [("A", 0), ("A", 1000), ("a", 1), ("ABCD", 1), ("", 1), ("A1", 1)]
)
def test_format_refuses_what_cannot_be_shown(prefix: str, seq: int) -> None:
    with pytest.raises(ValueError, match=r"prefix|sequence"):
        format_number(prefix, seq)


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=3), st.integers(1, MAX_NUMBER))
def test_parse_inverts_format(prefix: str, seq: int) -> None:
    assert parse_number(format_number(prefix, seq)) == (prefix, seq)


@given(st.integers(0, 2000), st.integers(1, 2000))
def test_next_sequence_never_passes_quota_or_999(last: int, quota: int) -> None:
    nxt = next_sequence(last, quota)
    if nxt is None:
        assert last + 1 > min(quota, MAX_NUMBER)
    else:
        assert nxt == last + 1
        assert nxt <= min(quota, MAX_NUMBER)


@given(st.integers(-5, 2000), st.integers(0, 2000))
def test_the_quota_admits_exactly_the_first_quota_numbers_up_to_999(sequence: int, quota: int) -> None:
    assert quota_allows(sequence, quota) == (1 <= sequence <= quota and sequence <= MAX_NUMBER)
    if quota_allows(sequence, quota):
        assert len(format_number("A", sequence)) == 4


@given(st.integers(1, 300))
def test_a_day_of_issuing_yields_unique_consecutive_numbers(quota: int) -> None:
    issued, last = [], 0
    while (nxt := next_sequence(last, quota)) is not None:
        issued.append(format_number("B", nxt))
        last = nxt
    assert len(issued) == quota == len(set(issued))
    assert issued[0] == "B001"


@pytest.mark.parametrize(
    ("zone", "offset_hours"),
    [(WIB, 7), (WITA, 8), (WIT, 9)],
)
def test_business_day_turns_at_local_midnight(zone: ZoneInfo, offset_hours: int) -> None:
    local_midnight_utc = datetime(2026, 11, 28, 0, 0, tzinfo=UTC) - timedelta(hours=offset_hours)
    before = local_midnight_utc - timedelta(microseconds=1)
    assert business_date(before, zone) == date(2026, 11, 27)
    assert business_date(local_midnight_utc, zone) == date(2026, 11, 28)


def test_same_instant_is_a_different_day_in_different_zones() -> None:
    moment = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)  # 23:30 WIB, 00:30 WITA, 01:30 WIT
    assert business_date(moment, WIB) == date(2026, 11, 27)
    assert business_date(moment, WITA) == date(2026, 11, 28)
    assert business_date(moment, WIT) == date(2026, 11, 28)


@given(st.datetimes(timezones=st.just(UTC)), st.sampled_from([WIB, WITA, WIT]))
def test_business_day_is_the_local_calendar_day(moment: datetime, zone: ZoneInfo) -> None:
    assert business_date(moment, zone) == moment.astimezone(zone).date()


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        business_date(datetime(2026, 1, 1), WIB)
