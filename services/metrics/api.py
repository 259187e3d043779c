"""HTTP handlers: the Prometheus exposition, daily reports and the IKM."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import date, datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict, Field

from services.events.types import ID_PATTERN
from services.metrics import keys
from services.metrics.errors import StoreError
from services.metrics.ikm import compute
from services.metrics.reports import ReportRow, Suggestion, daily_report
from services.platform import openapi
from services.platform.openapi import Content, Operation, Param
from services.platform.problems import problem

logger = logging.getLogger(__name__)

_ID_RE = re.compile(ID_PATTERN)
SNAPSHOT_TIMEOUT = 5.0


class BadParameter(Exception):
    """A query parameter the caller got wrong (answered with 400)."""


def _required_id(request: web.Request, name: str) -> str:
    value = _id_param(request, name, required=True)
    if value is None:  # _id_param raised already; this keeps the type exact
        raise BadParameter(f"query parameter {name!r} is required")
    return value


def _id_param(request: web.Request, name: str, *, required: bool = True) -> str | None:
    value = request.query.get(name)
    if value is None or value == "":
        if required:
            raise BadParameter(f"query parameter {name!r} is required")
        return None
    if not _ID_RE.match(value):
        raise BadParameter(f"query parameter {name!r} is not a valid id")
    return value


def _date_param(request: web.Request, name: str, default: date | None = None) -> date:
    value = request.query.get(name)
    if value is None or value == "":
        if default is None:
            raise BadParameter(f"query parameter {name!r} is required (YYYY-MM-DD)")
        return default
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise BadParameter(f"query parameter {name!r} must be a date YYYY-MM-DD") from None


async def metrics(request: web.Request) -> web.Response:
    """The Prometheus exposition; stored figures are re-read from PostgreSQL on each scrape."""
    app = request.app
    process = app[keys.PROCESS_METRICS]
    now: datetime = app[keys.CLOCK]()
    try:
        process.stored.latest = await asyncio.wait_for(app[keys.STORE].snapshot(now), SNAPSHOT_TIMEOUT)
    except (StoreError, TimeoutError, OSError) as exc:
        # Serve the last snapshot rather than nothing; /readyz tells the database is down.
        logger.warning("metrics snapshot failed, serving the previous one: %s", exc)
    body = generate_latest(process.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def daily(request: web.Request) -> web.Response:
    """``GET /api/v1/reports/daily?branch=…&date=…`` as JSON, or CSV by ``format=csv`` / ``Accept``."""
    try:
        branch = _required_id(request, "branch")
        day = _date_param(request, "date")
        fmt = request.query.get("format")
        if fmt not in (None, "json", "csv"):
            raise BadParameter("query parameter 'format' must be 'json' or 'csv'")
    except BadParameter as exc:
        return problem(400, "Bad Request", str(exc))
    wants_csv = fmt == "csv" or (fmt is None and "text/csv" in request.headers.get("Accept", ""))
    tickets = await request.app[keys.STORE].tickets_of_day(branch, day)
    suggestions = await request.app[keys.STORE].suggestions_of_day(branch, day)
    report = daily_report(branch, day, tickets, suggestions)
    if wants_csv:
        filename = f"antrian-{branch}-{day.isoformat()}.csv"
        return web.Response(
            text=report.to_csv(),
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return web.json_response(report.to_json())


async def ikm(request: web.Request) -> web.Response:
    """``GET /api/v1/branches/{branch_id}/ikm?from=…&to=…[&agency=…|&counter=…]``."""
    branch = request.match_info["branch_id"]
    app = request.app
    # Only the zone already known (from the branch's events): a request never triggers a lookup.
    zone = app[keys.ZONES].cached(branch) if _ID_RE.match(branch) else None
    try:
        if zone is None:
            raise BadParameter("branch_id is not a valid id")
        today = app[keys.CLOCK]().astimezone(zone).date()
        first = _date_param(request, "from", today.replace(day=1))
        last = _date_param(request, "to", today)
        agency = _id_param(request, "agency", required=False)
        counter = _id_param(request, "counter", required=False)
        if first > last:
            raise BadParameter("'from' must not be after 'to'")
        if agency is not None and counter is not None:
            raise BadParameter("give at most one of 'agency' and 'counter'")
    except BadParameter as exc:
        return problem(400, "Bad Request", str(exc))
    tally = await app[keys.STORE].survey_tally(branch, first, last, agency, counter)
    body = {
        "branch_id": branch,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "agency": agency,
        "counter": counter,
        **compute(tally).to_json(),
    }
    return web.json_response(body)


# -- the contract: the routes, registered and documented from one table -----------------------


class DailyReportBody(BaseModel):
    """The daily report: one row for the branch, one per agency, one per service."""

    branch: str
    date: date
    rows: list[ReportRow]
    suggestions: list[Suggestion] = Field(
        default_factory=list, description="the day's survey suggestions (saran) and respondent profiles"
    )


class IkmBody(BaseModel):
    """The IKM (Indeks Kepuasan Masyarakat) of a branch over a date range."""

    model_config = ConfigDict(populate_by_name=True)

    branch_id: str
    from_: date = Field(alias="from")
    to: date
    agency: str | None
    counter: str | None
    responses: int
    elements: list[float] | None
    element_names: list[str]
    index: float | None
    grade: str | None
    grade_label: str | None


_ID = {"type": "string", "pattern": _ID_RE.pattern}
_DATE = {"type": "string", "format": "date"}


def operations() -> list[Operation]:
    """Every route of the metrics service with its contract."""
    report = Content(DailyReportBody, description="JSON, or CSV (format=csv or Accept: text/csv)",
                     alternatives=("text/csv",))  # fmt: skip
    return [
        openapi.health("/healthz", "Alive"),
        openapi.health("/readyz", "Ready when PostgreSQL, Kafka and the consumer are up (503 otherwise)"),
        Operation("GET", "/metrics", metrics, "Prometheus exposition", ("operations",),
                  responses={200: Content(media_type="text/plain")}),
        Operation(
            "GET", "/api/v1/reports/daily", daily, "A branch's daily report", ("reports",),
            (Param("branch", "query", _ID), Param("date", "query", _DATE),
             Param("format", "query", {"enum": ["json", "csv"]}, required=False)),
            responses={200: report},
            problems=(400, 503),
        ),
        Operation(
            "GET", "/api/v1/branches/{branch_id}/ikm", ikm, "A branch's IKM over a date range", ("reports",),
            (Param("branch_id", "path", _ID), Param("from", "query", _DATE, required=False),
             Param("to", "query", _DATE, required=False), Param("agency", "query", _ID, required=False),
             Param("counter", "query", _ID, required=False)),
            responses={200: Content(IkmBody)},
            problems=(400, 503),
        ),
    ]  # fmt: skip


def add_routes(app: web.Application) -> None:
    """Register every route and ``/openapi.json``."""
    openapi.register(app, operations())
    openapi.serve(
        app, title="Antrian metrics", version="1.0.0",
        description="Daily reports and the IKM of the halls; Prometheus figures at /metrics.",
    )  # fmt: skip
