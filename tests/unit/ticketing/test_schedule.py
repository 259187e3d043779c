"""Opening hours, Friday prayers, holidays and the cut-off, with the time to come back."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.ticketing.domain.schedule import Schedule, check_issuing, next_opening, parse_schedule
from services.ticketing.errors import IssuingRefused

WITA = ZoneInfo("Asia/Makassar")
CONFIG = {
    "timezone": "Asia/Makassar",
    "hours": {d: "08:00-15:00" for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": "08:00-12:00"},
    "breaks": [{"name": "Jumatan", "days": ["fri"], "time": "11:30-13:00"}],
    "holidays": ["2026-12-25"],
    "holiday_names": {"2026-12-25": "Hari Raya Natal"},
    "issuing_cutoff_minutes": 30,
}
SCHEDULE = parse_schedule(CONFIG)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in December 2026 (1 Dec is a Tuesday), local WITA time."""
    return datetime(2026, 12, day, hour, minute, tzinfo=WITA)


def refusal(moment: datetime) -> IssuingRefused:
    return _refused(SCHEDULE, moment)


def test_open_during_hours() -> None:
    check_issuing(SCHEDULE, at(1, 9))
    check_issuing(SCHEDULE, at(1, 9).astimezone(UTC))


def test_before_opening_says_when() -> None:
    err = refusal(at(1, 7, 15))
    assert err.reason == "not_open_yet"
    assert err.retry_at == at(1, 8)


def test_cutoff_sends_to_next_morning() -> None:
    err = refusal(at(1, 14, 45))
    assert err.reason == "cutoff"
    assert err.retry_at == at(2, 8)


def test_friday_prayer_break() -> None:
    err = refusal(at(4, 12))  # 4 Dec 2026 is a Friday
    assert err.reason == "break"
    assert "Jumatan" in err.detail
    assert err.retry_at == at(4, 13)
    check_issuing(SCHEDULE, at(3, 12))  # Thursday noon is fine


def test_a_service_adds_its_own_breaks_and_holidays_and_may_set_its_cutoff() -> None:
    service = SCHEDULE.with_service_rules(
        {
            "breaks": [{"name": "Apel pagi", "days": ["mon"], "time": "08:00-08:30"}],
            "holidays": ["2026-12-24"],
            "holiday_names": {"2026-12-24": "Cuti bersama"},
            "issuing_cutoff_minutes": 60,
        }
    )
    err = _refused(service, at(7, 8, 10))  # Monday 7 Dec
    assert (err.reason, err.retry_at) == ("break", at(7, 8, 30))
    assert _refused(service, at(4, 12)).reason == "break"  # the branch's Friday prayers still hold
    assert _refused(service, at(24, 9)).detail.startswith("Hari libur: Cuti bersama.")
    assert _refused(service, at(25, 9)).reason == "holiday"  # and the branch's holidays
    err = _refused(service, at(1, 14, 10))
    assert (err.reason, err.retry_at) == ("cutoff", at(2, 8))
    check_issuing(SCHEDULE, at(1, 14, 10))  # the branch's own cut-off is 30 minutes
    check_issuing(SCHEDULE, at(24, 9))
    no_cutoff = SCHEDULE.with_service_rules({"issuing_cutoff_minutes": 0})
    check_issuing(no_cutoff, at(1, 14, 50))
    assert SCHEDULE.with_service_rules({"breaks": []}).cutoff_minutes == 30  # unset: the branch's


def _refused(schedule: Schedule, moment: datetime) -> IssuingRefused:
    with pytest.raises(IssuingRefused) as info:
        check_issuing(schedule, moment)
    return info.value


def test_holiday_and_sunday() -> None:
    err = refusal(at(25, 9))
    assert err.reason == "holiday"
    assert "Natal" in err.detail
    assert err.retry_at == at(26, 8)  # Saturday
    sunday = refusal(at(27, 9))
    assert sunday.reason == "closed"
    assert sunday.retry_at == at(28, 8)


def test_retry_at_is_always_an_open_moment() -> None:
    moment = at(1, 0)
    for _ in range(24 * 14):
        moment += timedelta(minutes=37)
        retry = next_opening(SCHEDULE, moment)
        assert retry is not None
        assert retry >= moment
        check_issuing(SCHEDULE, retry)


def test_24_00_means_end_of_day() -> None:
    always = parse_schedule({"timezone": "Asia/Jayapura", "hours": {"sun": "00:00-24:00"}})
    check_issuing(always, datetime(2026, 11, 29, 23, 59, 59, tzinfo=ZoneInfo("Asia/Jayapura")))


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "time zone"),
        ({"timezone": "Asia/Jakarta", "hours": {"mon": "9-5"}}, "time span"),
        ({"timezone": "Asia/Jakarta", "hours": {"moon": "08:00-09:00"}}, "unknown day"),
        ({"timezone": "Asia/Jakarta", "hours": {"mon": "10:00-09:00"}}, "end after"),
        ({"timezone": "Asia/Jakarta", "holidays": ["25-12-2026"]}, "YYYY-MM-DD"),
    ],
)
def test_bad_config_names_the_problem(config: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_schedule(config)
