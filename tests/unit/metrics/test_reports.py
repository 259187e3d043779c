"""Daily reports: counts, mean and p90 wait, service time, share within target; CSV."""

import csv
import io
from datetime import date, timedelta

from services.metrics.aggregates import TicketFact
from services.metrics.reports import daily_report, percentile
from tests.unit.metrics.events import at

DAY = date(2026, 11, 28)


def _ticket(
    n: int,
    status: str,
    wait_min: float | None,
    service_min: float | None = None,
    *,
    service: str = "ktp",
    agency: str = "disdukcapil",
    target: int | None = 600,
    day: date = DAY,
    branch: str = "bjb",
) -> TicketFact:
    called = None if wait_min is None else at(wait_min)
    serving = None if called is None or service_min is None else called + timedelta(minutes=1)
    done = None if serving is None or service_min is None else serving + timedelta(minutes=service_min)
    return TicketFact(
        ticket_id=f"t-{n}",
        branch_id=branch,
        agency_id=agency,
        service_id=service,
        channel="kiosk",
        business_date=day,
        issued_at=at(0),
        status=status,
        target_wait_seconds=target,
        first_called_at=called,
        called_at=called,
        serving_at=serving,
        completed_at=done,
    )


def _tickets() -> list[TicketFact]:
    return [
        _ticket(1, "completed", 5, 10),  # wait 300 s (within 600), service 600 s
        _ticket(2, "completed", 15, 20),  # wait 900 s (over 600), service 1200 s
        _ticket(3, "no_show", 8),  # wait 480 s
        _ticket(4, "cancelled", None),
        _ticket(5, "waiting", None),
        _ticket(6, "completed", 2, 4, service="jkn", agency="bpjs", target=None),  # wait 120 s, service 240 s
        _ticket(7, "completed", 1, 1, day=date(2026, 11, 27)),  # another day: left out
        _ticket(8, "completed", 1, 1, branch="other"),  # another branch: left out
    ]


def test_branch_row_by_hand() -> None:
    report = daily_report("bjb", DAY, _tickets())
    branch = report.rows[0]
    assert (branch.level, branch.issued, branch.served, branch.no_show, branch.cancelled) == (
        "branch",
        6,
        3,
        1,
        1,
    )
    # Waits of called tickets: 300, 900, 480, 120 → mean 450; nearest-rank p90 of 4 values is the 4th: 900.
    assert branch.mean_wait_seconds == 450.0
    assert branch.p90_wait_seconds == 900.0
    # Service times of completed: 600, 1200, 240 → mean 680.
    assert branch.mean_service_seconds == 680.0
    # Completed with a target: tickets 1 (within) and 2 (over) → 0.5.
    assert branch.served_within_target == 0.5


def test_agency_and_service_rows() -> None:
    report = daily_report("bjb", DAY, _tickets())
    keyed = {(r.level, r.agency, r.service): r for r in report.rows}
    assert set(keyed) == {
        ("branch", None, None),
        ("agency", "bpjs", None),
        ("agency", "disdukcapil", None),
        ("service", "bpjs", "jkn"),
        ("service", "disdukcapil", "ktp"),
    }
    bpjs = keyed[("service", "bpjs", "jkn")]
    assert (bpjs.issued, bpjs.served, bpjs.mean_wait_seconds, bpjs.served_within_target) == (
        1,
        1,
        120.0,
        None,
    )
    assert keyed[("agency", "disdukcapil", None)].issued == 5


def test_empty_day_has_a_branch_row_of_zeros() -> None:
    report = daily_report("bjb", date(2026, 1, 1), _tickets())
    assert len(report.rows) == 1
    assert report.rows[0].issued == 0
    assert report.rows[0].mean_wait_seconds is None


def test_csv_has_a_header_and_one_line_per_row() -> None:
    report = daily_report("bjb", DAY, _tickets())
    rows = list(csv.DictReader(io.StringIO(report.to_csv())))
    assert len(rows) == len(report.rows)
    assert rows[0]["level"] == "branch"
    assert rows[0]["date"] == "2026-11-28"
    assert rows[0]["issued"] == "6"
    assert rows[0]["agency"] == ""
    assert report.to_json()["rows"][0]["issued"] == 6  # type: ignore[index]


def test_percentile_nearest_rank() -> None:
    assert percentile([], 0.9) is None
    assert percentile([5.0], 0.9) == 5.0
    values = [float(v) for v in range(1, 11)]  # 1..10: the 9th value is the p90
    assert percentile(values, 0.9) == 9.0
    assert percentile(list(reversed(values)), 0.5) == 5.0
