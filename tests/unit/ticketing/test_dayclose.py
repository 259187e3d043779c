"""Closing the day: a ticket is left over once its branch's local day is over, and only while waiting."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.ticketing.domain.dayclose import CancelReason, left_over
from services.ticketing.domain.lifecycle import TicketStatus

WIB, WITA, WIT = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar"), ZoneInfo("Asia/Jayapura")
DAY = date(2026, 11, 30)

# Local midnight between 30 Nov and 1 Dec, in UTC: UTC+7, UTC+8, UTC+9.
MIDNIGHT_UTC = {
    WIB: datetime(2026, 11, 30, 17, 0, tzinfo=UTC),
    WITA: datetime(2026, 11, 30, 16, 0, tzinfo=UTC),
    WIT: datetime(2026, 11, 30, 15, 0, tzinfo=UTC),
}


@pytest.mark.parametrize("zone", [WIB, WITA, WIT], ids=str)
def test_waiting_tickets_are_left_over_from_local_midnight_on(zone: ZoneInfo) -> None:
    midnight = MIDNIGHT_UTC[zone]
    assert midnight.astimezone(zone).time().isoformat() == "00:00:00"
    at_2350 = left_over(midnight - timedelta(minutes=10), zone)
    just_before = left_over(midnight - timedelta(microseconds=1), zone)
    at_midnight = left_over(midnight, zone)
    assert not at_2350.matches(TicketStatus.WAITING, DAY)
    assert not just_before.matches(TicketStatus.WAITING, DAY)
    assert at_midnight.matches(TicketStatus.WAITING, DAY)
    assert at_midnight.matches(TicketStatus.WAITING, DAY - timedelta(days=3))
    assert not at_midnight.matches(TicketStatus.WAITING, DAY + timedelta(days=1))  # today's tickets


def test_the_same_moment_closes_the_day_in_the_east_first() -> None:
    # 15:30 UTC on 30 Nov: already 00:30 on 1 Dec in Jayapura, still 23:30 / 22:30 in the west.
    now = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)
    assert left_over(now, WIT).matches(TicketStatus.WAITING, DAY)
    assert not left_over(now, WITA).matches(TicketStatus.WAITING, DAY)
    assert not left_over(now, WIB).matches(TicketStatus.WAITING, DAY)


def test_the_utc_date_does_not_matter() -> None:
    # 00:10 WITA on 1 Dec is 16:10 UTC on 30 Nov: the UTC date has not changed, the local one has.
    now = datetime(2026, 12, 1, 0, 10, tzinfo=WITA)
    assert now.astimezone(UTC).date() == DAY
    assert left_over(now, WITA).before == date(2026, 12, 1)


@pytest.mark.parametrize(
    "status", [TicketStatus.CALLED, TicketStatus.SERVING, TicketStatus.COMPLETED, TicketStatus.NO_SHOW]
)
def test_tickets_at_a_counter_or_finished_are_never_left_over(status: TicketStatus) -> None:
    # An operator finishes a ticket called before midnight; finished tickets stay as they are.
    rule = left_over(datetime(2026, 12, 2, 9, 0, tzinfo=WITA), WITA)
    assert not rule.matches(status, DAY)


def test_a_cancelled_ticket_is_not_left_over_again() -> None:
    rule = left_over(datetime(2026, 12, 2, 9, 0, tzinfo=WITA), WITA)
    assert not rule.matches(TicketStatus.CANCELLED, DAY)


def test_a_naive_clock_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        left_over(datetime(2026, 12, 1, 0, 10), WITA)


def test_reasons_are_the_documented_codes() -> None:
    assert [r.value for r in CancelReason] == ["citizen", "day_closed", "staff"]


@given(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)),
    st.sampled_from([WIB, WITA, WIT]),
    st.integers(-5, 5),
)
def test_left_over_exactly_when_the_local_day_is_past(now: datetime, zone: ZoneInfo, offset: int) -> None:
    today = now.astimezone(zone).date()
    day = today + timedelta(days=offset)
    assert left_over(now, zone).matches(TicketStatus.WAITING, day) is (offset < 0)
