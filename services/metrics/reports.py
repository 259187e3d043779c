"""Daily reports per branch, agency and service (pure: no I/O).

Definitions (what a supervisor reads):

- *issued*: tickets of the business day; a transferred ticket counts under
  the service it ended at.
- *served*: tickets completed; *no_show* and *cancelled* likewise by final status.
- *wait*: issued → first call, over the tickets that were called;
  *p90* by the nearest-rank method.
- *service time*: serving → completed, over completed tickets.
- *walk_in* / *online*: issued tickets by channel (kiosk walk-ins, and
  online: same-day online tickets and checked-in bookings).
- *served within target*: among completed tickets whose service has a
  target wait, the share whose wait was at most that target (null when none).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime

from services.metrics.aggregates import TicketFact

COLUMNS = (
    "level",
    "branch",
    "agency",
    "service",
    "issued",
    "walk_in",
    "online",
    "served",
    "no_show",
    "cancelled",
    "mean_wait_seconds",
    "p90_wait_seconds",
    "mean_service_seconds",
    "served_within_target",
)


@dataclass(frozen=True, slots=True)
class ReportRow:
    """The figures of one branch, agency or service for one business day."""

    level: str
    branch: str
    agency: str | None
    service: str | None
    issued: int
    walk_in: int
    online: int
    served: int
    no_show: int
    cancelled: int
    mean_wait_seconds: float | None
    p90_wait_seconds: float | None
    mean_service_seconds: float | None
    served_within_target: float | None


SUGGESTION_COLUMNS = (
    "submitted_at",
    "agency",
    "service",
    "counter",
    "sex",
    "age_group",
    "education",
    "occupation",
    "saran",
)


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A survey answer's respondent profile and suggestion (*saran*), each optional."""

    submitted_at: datetime
    agency: str
    service: str
    counter: str | None
    sex: str | None
    age_group: str | None
    education: str | None
    occupation: str | None
    saran: str | None


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` in (0, 1]) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def _mean(values: Sequence[float]) -> float | None:
    return None if not values else sum(values) / len(values)


def _wait(ticket: TicketFact) -> float | None:
    if ticket.first_called_at is None:
        return None
    return max(0.0, (ticket.first_called_at - ticket.issued_at).total_seconds())


def summarise(
    level: str, branch: str, agency: str | None, service: str | None, tickets: Sequence[TicketFact]
) -> ReportRow:
    """One report row over ``tickets``."""
    waits = [w for w in map(_wait, tickets) if w is not None]
    completed = [t for t in tickets if t.status == "completed"]
    durations = [
        max(0.0, (t.completed_at - t.serving_at).total_seconds())
        for t in completed
        if t.completed_at is not None and t.serving_at is not None
    ]
    targeted = [(t, _wait(t)) for t in completed if t.target_wait_seconds is not None]
    within = [
        w is not None and t.target_wait_seconds is not None and w <= t.target_wait_seconds
        for t, w in targeted
    ]
    mean_wait = _mean(waits)
    mean_service = _mean(durations)
    p90 = percentile(waits, 0.9)
    return ReportRow(
        level=level,
        branch=branch,
        agency=agency,
        service=service,
        issued=len(tickets),
        walk_in=sum(1 for t in tickets if t.channel != "online"),
        online=sum(1 for t in tickets if t.channel == "online"),
        served=len(completed),
        no_show=sum(1 for t in tickets if t.status == "no_show"),
        cancelled=sum(1 for t in tickets if t.status == "cancelled"),
        mean_wait_seconds=None if mean_wait is None else round(mean_wait, 1),
        p90_wait_seconds=None if p90 is None else round(p90, 1),
        mean_service_seconds=None if mean_service is None else round(mean_service, 1),
        served_within_target=None if not within else round(sum(within) / len(within), 4),
    )


@dataclass(frozen=True, slots=True)
class DailyReport:
    """A branch's daily report: the branch row first, then agencies, then services."""

    branch: str
    day: date
    rows: tuple[ReportRow, ...]
    suggestions: tuple[Suggestion, ...] = ()

    def to_json(self) -> dict[str, object]:
        """The JSON body of the report: its rows and the day's suggestions and respondent profiles."""
        suggestions = [{**asdict(s), "submitted_at": s.submitted_at.isoformat()} for s in self.suggestions]
        return {
            "branch": self.branch,
            "date": self.day.isoformat(),
            "rows": [asdict(r) for r in self.rows],
            "suggestions": suggestions,
        }

    def to_csv(self) -> str:
        """The report as CSV with a header row; empty cells for nulls."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=["date", *COLUMNS], lineterminator="\r\n")
        writer.writeheader()
        for row in self.rows:
            cells = {k: ("" if v is None else v) for k, v in asdict(row).items()}
            writer.writerow({"date": self.day.isoformat(), **cells})
        if self.suggestions:
            # A second section after an empty line: the day's suggestions (saran) and profiles.
            out.write("\r\n")
            section = csv.DictWriter(out, fieldnames=["section", *SUGGESTION_COLUMNS], lineterminator="\r\n")
            section.writeheader()
            for item in self.suggestions:
                cells = {k: ("" if v is None else v) for k, v in asdict(item).items()}
                section.writerow(
                    {"section": "suggestions", **cells, "submitted_at": item.submitted_at.isoformat()}
                )
        return out.getvalue()


def daily_report(
    branch: str, day: date, tickets: Iterable[TicketFact], suggestions: Iterable[Suggestion] = ()
) -> DailyReport:
    """The daily report of ``branch`` on business day ``day`` (with the day's survey suggestions)."""
    chosen = [t for t in tickets if t.branch_id == branch and t.business_date == day]
    rows = [summarise("branch", branch, None, None, chosen)]
    rows += _grouped(chosen, lambda t: (t.agency_id, None), "agency", branch)
    rows += _grouped(chosen, lambda t: (t.agency_id, t.service_id), "service", branch)
    return DailyReport(branch, day, tuple(rows), tuple(suggestions))


def _grouped(
    tickets: Sequence[TicketFact],
    key: Callable[[TicketFact], tuple[str, str | None]],
    level: str,
    branch: str,
) -> list[ReportRow]:
    groups: dict[tuple[str, str | None], list[TicketFact]] = {}
    for ticket in tickets:
        groups.setdefault(key(ticket), []).append(ticket)
    return [
        summarise(level, branch, agency, service, groups[(agency, service)])
        for agency, service in sorted(groups, key=lambda k: (k[0], k[1] or ""))
    ]
