"""The kiosk's routes: the service board with issuing state, the search, the printed ticket.

``GET /api/v1/branches/{branch_id}/kiosk`` lists every service with its
waiting count, the estimated wait of a ticket taken now and whether it issues
now (else why and when it opens again), computed by the same pure rules as
issuing (:mod:`services.ticketing.domain.issuing`). The search ranks services
with :mod:`services.ticketing.domain.search`. ``/print/{ticket_id}`` is the
printable ticket page and ``/api/v1/tickets/{ticket_id}/escpos`` the same
ticket as ESC/POS bytes for a print agent.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import asyncpg
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.events.data import Respondent
from services.platform import validation
from services.platform.openapi import Content, Handler, Operation, Param
from services.ticketing import escpos_ticket, schemas, survey, tickets
from services.ticketing.api import _BRANCH, _COUNTER, _TICKET, _json, _path_id, _ticket_id, _validated
from services.ticketing.domain import qr
from services.ticketing.domain.estimate import average_service_seconds, estimate_wait_seconds
from services.ticketing.domain.issuing import issuing_state
from services.ticketing.domain.numbering import business_date
from services.ticketing.domain.search import Searchable, search
from services.ticketing.errors import NotFound
from services.ticketing.eventdata import rfc3339
from services.ticketing.keys import CLOCK, POOL, SETTINGS
from services.ticketing.pages import PAGES

# -- models -------------------------------------------------------------------------------


class _Response(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Issuing(_Response):
    """Whether a service issues now; when closed, why (the 409's reason code) and when it opens."""

    state: Literal["open", "closed"]
    reason: str | None = Field(description="holiday, closed, not_open_yet, cutoff, break or quota")
    detail: str | None = Field(description="the refusal's sentence, in Indonesian")
    retry_at: datetime | None = Field(description="when issuing resumes (null: not within a month)")


class KioskService(_Response):
    """A service on the kiosk: its queue now and whether it issues."""

    service_id: str
    agency_id: str
    name: str
    prefix: str
    waiting: int
    estimated_wait_seconds: int = Field(description="the wait of a ticket taken now")
    issuing: Issuing


class KioskBoard(_Response):
    """Everything the kiosk shows, for the branch's current business day."""

    branch_id: str
    name: str
    timezone: str
    business_date: str
    agencies: list[schemas.Agency]
    services: list[KioskService]


class SearchHit(_Response):
    """A service found by a search, with its score in [0, 1]."""

    service_id: str
    agency_id: str
    name: str
    agency_name: str
    score: float


class SearchResult(_Response):
    """The services that answer a query, best first."""

    query: str
    items: list[SearchHit]


class SearchQuery(BaseModel):
    """The ``q`` parameter: 1-200 characters, no control characters."""

    model_config = ConfigDict(strict=True, frozen=True)
    value: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]


Saran = Annotated[str, StringConstraints(max_length=1000, pattern=r"^[^\x00-\x09\x0b-\x1f\x7f]*$")]


class DeskSurveyRequest(BaseModel):
    """A desk answer: the nine IKM scores, the ticket it rates (as the page was told) or none, the profile."""

    model_config = ConfigDict(strict=True, frozen=True)
    ticket_id: uuid.UUID | None = None
    scores: Annotated[
        list[schemas.Score], Field(min_length=schemas.SURVEY_ELEMENTS, max_length=schemas.SURVEY_ELEMENTS)
    ]
    respondent: Respondent | None = None
    saran: Saran | None = Field(default=None, description="a suggestion; no control characters but newlines")


class DeskSurveyTarget(_Response):
    """What the desk's survey rates now: the latest unrated ticket completed there, else the desk."""

    counter_id: str
    counter_name: str
    branch_id: str
    branch_name: str
    ticket_id: str | None
    number: str | None
    service_name: str | None


class DeskSurveyReceipt(_Response):
    """A desk answer as recorded."""

    survey_id: str
    counter_id: str
    ticket_id: str | None
    scores: list[int]
    submitted_at: datetime


# -- store --------------------------------------------------------------------------------

_BOARD = """
SELECT s.id, s.agency_id, s.name, s.prefix, s.daily_quota, s.hours, s.schedule, s.expected_service_seconds,
       a.name AS agency_name,
       (SELECT count(*) FROM tickets t
         WHERE t.service_id = s.id AND t.business_date = $2 AND t.status = 'waiting') AS waiting,
       (SELECT count(*) FROM counters c
         WHERE c.status = 'open' AND s.id = ANY (c.service_ids)) AS open_counters,
       COALESCE((SELECT d.last_number FROM daily_numbers d
                  WHERE d.service_id = s.id AND d.business_date = $2), 0) AS issued,
       ARRAY(SELECT extract(epoch FROM r.completed_at - r.serving_at)::float8 FROM tickets r
              WHERE r.service_id = s.id AND r.status = 'completed' AND r.serving_at IS NOT NULL
              ORDER BY r.completed_at DESC LIMIT $3) AS recent
  FROM services s JOIN agencies a ON a.id = s.agency_id
 WHERE s.branch_id = $1
 ORDER BY a.position, a.id, s.position, s.id
"""


async def _branch(conn: asyncpg.Connection, branch_id: str) -> asyncpg.Record:
    branch = await conn.fetchrow("SELECT id, name, timezone, schedule FROM branches WHERE id = $1", branch_id)
    if branch is None:
        raise NotFound(f"no branch {branch_id!r}")
    return branch


def _service_view(branch: asyncpg.Record, row: asyncpg.Record, now: datetime) -> dict[str, Any]:
    schedule = tickets.branch_schedule(branch, row["hours"], row["schedule"])
    state = issuing_state(
        schedule, now, issued_today=row["issued"], daily_quota=row["daily_quota"], service_name=row["name"]
    )
    average = average_service_seconds(list(row["recent"]), row["expected_service_seconds"])
    return {
        "service_id": row["id"],
        "agency_id": row["agency_id"],
        "name": row["name"],
        "prefix": row["prefix"],
        "waiting": row["waiting"],
        "estimated_wait_seconds": estimate_wait_seconds(row["waiting"], row["open_counters"], average),
        "issuing": {
            "state": "open" if state.open else "closed",
            "reason": state.reason,
            "detail": state.detail,
            "retry_at": rfc3339(state.retry_at),
        },
    }


async def kiosk_board(pool: asyncpg.Pool, now: datetime, branch_id: str) -> dict[str, Any]:
    """The kiosk's board of a branch at ``now``."""
    async with pool.acquire() as conn:
        branch = await _branch(conn, branch_id)
        day = business_date(now, tickets.branch_schedule(branch).timezone)
        agencies = await conn.fetch(
            "SELECT id, name FROM agencies WHERE branch_id = $1 ORDER BY position, id", branch_id
        )
        rows = await conn.fetch(_BOARD, branch_id, day, tickets.RECENT_SAMPLES)
    return {
        "branch_id": branch["id"],
        "name": branch["name"],
        "timezone": branch["timezone"],
        "business_date": day.isoformat(),
        "agencies": [dict(a) for a in agencies],
        "services": [_service_view(branch, r, now) for r in rows],
    }


async def search_services(pool: asyncpg.Pool, branch_id: str, query: str) -> dict[str, Any]:
    """The branch's services that answer ``query``, best first."""
    async with pool.acquire() as conn:
        await _branch(conn, branch_id)
        rows = await conn.fetch(
            "SELECT s.id, s.agency_id, s.name, s.prefix, a.name AS agency_name FROM services s"
            " JOIN agencies a ON a.id = s.agency_id WHERE s.branch_id = $1",
            branch_id,
        )
    by_id = {r["id"]: r for r in rows}
    found = search(query, (Searchable(r["id"], r["name"], r["agency_name"], r["prefix"]) for r in rows))
    items = [
        {
            "service_id": s.service_id,
            "agency_id": by_id[s.service_id]["agency_id"],
            "name": s.name,
            "agency_name": s.agency_name,
            "score": round(score, 3),
        }
        for s, score in found
    ]
    return {"query": query, "items": items}


# -- handlers -----------------------------------------------------------------------------


async def get_board(request: web.Request) -> web.Response:
    """Every service of the branch with its queue and issuing state now."""
    board = await kiosk_board(request.app[POOL], request.app[CLOCK](), _path_id(request, "branch_id"))
    return _json(KioskBoard, board)


async def get_search(request: web.Request) -> web.Response:
    """The services that answer ``q`` (typos and missing words forgiven)."""
    branch_id = _path_id(request, "branch_id")
    query = validation.validate_param("q", request.query.get("q"), SearchQuery).value
    return _json(SearchResult, await search_services(request.app[POOL], branch_id, query))


def page_url(request: web.Request, ticket_id: str) -> str:
    """The citizen page of a ticket, on the public URL when one is configured."""
    base = request.app[SETTINGS].public_url or str(request.url.origin())
    return f"{base}/t/{ticket_id}"


async def get_escpos(request: web.Request) -> web.Response:
    """The ticket as ESC/POS bytes for a thermal printer (a print agent writes them out)."""
    pool = request.app[POOL]
    ticket = await tickets.get_ticket(pool, _ticket_id(request))
    branch = await pool.fetchrow("SELECT name, timezone FROM branches WHERE id = $1", ticket["branch_id"])
    printed = escpos_ticket.from_ticket(
        ticket, branch["name"], branch["timezone"], page_url(request, ticket["id"])
    )
    return web.Response(
        body=escpos_ticket.ticket_bytes(printed),
        content_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{ticket["number"]}.bin"'},
    )


def _window(request: web.Request) -> timedelta:
    return timedelta(minutes=request.app[SETTINGS].survey_desk_window_minutes)


async def get_desk_target(request: web.Request) -> web.Response:
    """What the desk's survey rates now."""
    now = request.app[CLOCK]()
    target = await survey.desk_target(
        request.app[POOL], now, _path_id(request, "counter_id"), _window(request)
    )
    return _json(DeskSurveyTarget, target)


async def post_desk_survey(request: web.Request) -> web.Response:
    """Record a desk answer (public: the citizen scanned the desk's code)."""
    counter_id = _path_id(request, "counter_id")
    body = await validation.json_body(request, DeskSurveyRequest)
    receipt = await survey.submit_desk(
        request.app[POOL],
        request.app[CLOCK](),
        counter_id,
        ticket_id=body.ticket_id,
        scores=body.scores,
        respondent=body.respondent,
        saran=body.saran,
        window=_window(request),
    )
    DeskSurveyReceipt.model_validate(receipt)
    return web.json_response(receipt, status=201)


def public_base(request: web.Request) -> str:
    """The public URL of the service, else the request's origin."""
    return request.app[SETTINGS].public_url or str(request.url.origin())


async def survey_sign(request: web.Request) -> web.Response:
    """An A5 sign for the counter's desk with a QR code of its survey link."""
    counter_id = _path_id(request, "counter_id")
    target = await survey.desk_target(request.app[POOL], request.app[CLOCK](), counter_id, _window(request))
    link = f"{public_base(request)}/survey/desk/{counter_id}"
    page = _SIGN.format(
        hall=html.escape(target["branch_name"]),
        counter=html.escape(target["counter_name"]),
        qr=qr.svg(link, scale=8),
        link=html.escape(link),
    )
    return web.Response(text=page, content_type="text/html", charset="utf-8")


_SIGN = """<!doctype html>
<html lang="id"><head><meta charset="utf-8"><title>Survei Kepuasan Masyarakat: {counter}</title>
<link rel="stylesheet" href="/static/survey.css"></head>
<body class="tanda"><main>
<p class="aula">{hall}</p>
<h1>Survei Kepuasan Masyarakat</h1>
<p class="loket">{counter}</p>
<div class="qr" role="img" aria-label="Kode QR survei">{qr}</div>
<p>Pindai kode QR ini setelah dilayani untuk menilai layanan kami.</p>
<p lang="en">Scan after your service to rate it.</p>
<p class="tautan">{link}</p>
</main></body></html>
"""


_STATIC = {
    "print.html": "text/html",
    "print.css": "text/css",
    "print.js": "text/javascript",
    "survey.html": "text/html",
    "survey.css": "text/css",
    "survey.js": "text/javascript",
}


def _file(name: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    body = (PAGES / name).read_bytes()
    content_type = _STATIC[name]

    async def handler(request: web.Request) -> web.Response:
        return web.Response(
            body=body, content_type=content_type, charset="utf-8", headers={"Cache-Control": "no-cache"}
        )

    handler.__doc__ = f"The page file {name}."
    return handler


# -- the contract -------------------------------------------------------------------------

_ANY_COUNTER = Param("counter_id", "path", {"type": "string"})
_ANY_TICKET = Param("ticket_id", "path", {"type": "string"})
_Q = Param(
    "q", "query", {"type": "string", "minLength": 1, "maxLength": 200}, description="what the citizen typed"
)


def _page(path: str, handler: Handler | None, summary: str, media: str, *params: Param) -> Operation:
    return Operation(
        "GET", path, handler, summary, ("pages",), params, responses={200: Content(media_type=media)}
    )


def _public_get(
    path: str,
    handler: Handler,
    summary: str,
    tag: str,
    params: tuple[Param, ...],
    content: Content,
    problems: tuple[int, ...] = (404, 503),
) -> Operation:
    return Operation("GET", path, _validated(handler), summary, (tag,), params, responses={200: content},
                     problems=problems)  # fmt: skip


def operations() -> list[Operation]:
    """The kiosk's routes with their contract."""
    escpos = Content(media_type="application/octet-stream", description="ESC/POS bytes")
    return [
        _public_get("/api/v1/branches/{branch_id}/kiosk", get_board, "Every service with its queue, the wait"
                    " of a ticket taken now, and whether it issues now", "branches", (_BRANCH,),
                    Content(KioskBoard)),
        _public_get("/api/v1/branches/{branch_id}/services/search", get_search, "Find a service by what a"
                    " citizen types (Indonesian, typos and missing words forgiven)", "branches",
                    (_BRANCH, _Q), Content(SearchResult), (404, 422, 503)),
        _public_get("/api/v1/tickets/{ticket_id}/escpos", get_escpos,
                    "The printed ticket as ESC/POS bytes, for a print agent", "tickets", (_TICKET,), escpos),
        _page("/print/{ticket_id}", _file("print.html"), "Printable ticket (80/58 mm roll)", "text/html",
              _ANY_TICKET),
        _public_get("/api/v1/counters/{counter_id}/survey", get_desk_target, "What the desk's survey code"
                    " rates now: the latest unrated ticket completed there, else the desk", "surveys",
                    (_COUNTER,), Content(DeskSurveyTarget)),
        Operation("POST", "/api/v1/counters/{counter_id}/survey", _validated(post_desk_survey), "Answer the"
                  " desk's survey (IKM nine elements, optional profile and saran); once per ticket",
                  ("surveys",), (_COUNTER,), body=DeskSurveyRequest,
                  responses={201: Content(DeskSurveyReceipt, description="Recorded")},
                  problems=(400, 404, 409, 413, 415, 422, 503)),
        _public_get("/counter/{counter_id}/survey-sign", survey_sign,
                    "A printable A5 sign with the QR code of the desk's survey", "pages", (_COUNTER,),
                    Content(media_type="text/html")),
        _page("/survey/desk/{counter_id}", _file("survey.html"), "The desk's survey form", "text/html",
              _ANY_COUNTER),
        # The pages' scripts and styles are served by pages.py's /static/{filename}.
    ]  # fmt: skip
