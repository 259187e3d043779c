"""The HTTP handlers of ``/api/v1``: thin, they parse, call a store function and shape JSON."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from services.platform import openapi, validation
from services.platform.openapi import Content, Handler, Operation, Param
from services.ticketing import booking_api, counters, directory, limits, problems, schemas, sessions, tickets
from services.ticketing.auth import User
from services.ticketing.domain import qr
from services.ticketing.domain.lifecycle import CounterAction, TicketAction
from services.ticketing.errors import NotFound, Unauthorized
from services.ticketing.eventdata import rfc3339
from services.ticketing.keys import CLOCK, LIMITS, POOL, SETTINGS

_ID_RE = re.compile(schemas.ID_PATTERN)

TICKET_ACTIONS = {
    "recall": TicketAction.RECALL,
    "start": TicketAction.START,
    "complete": TicketAction.COMPLETE,
    "no-show": TicketAction.NO_SHOW,
    "transfer": TicketAction.TRANSFER,
}
COUNTER_ACTIONS = {"open": CounterAction.OPEN, "pause": CounterAction.PAUSE, "close": CounterAction.CLOSE}


def _json(
    model: type[BaseModel], data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """``data`` as JSON, after checking it against its documented ``model`` (a mismatch is our bug)."""
    model.model_validate(data)
    return web.json_response(
        data, status=status, headers=headers, dumps=lambda o: json.dumps(o, ensure_ascii=False)
    )


def _validated(handler: Handler) -> Handler:
    """``handler`` with request errors (415, 400, 422 naming each field) answered as problems."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except validation.RequestError as exc:
            return problems.problem(exc.status, exc.title, exc.detail, slug=exc.slug, **exc.extensions())

    wrapped.__doc__ = handler.__doc__
    return wrapped


def _path_id(request: web.Request, name: str) -> str:
    """A branch, counter or service id from the path; NotFound unless it looks like one."""
    value = request.match_info[name]
    if not _ID_RE.match(value):
        raise NotFound(f"no {name.removesuffix('_id')} {value!r}")
    return value


def _ticket_id(request: web.Request) -> uuid.UUID:
    raw = request.match_info["ticket_id"]
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound(f"no ticket {raw!r}") from None


async def current_user(request: web.Request) -> User:
    """The user behind the request's bearer token; Unauthorized without a valid one."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("this action needs 'Authorization: Bearer <token>' from POST /api/v1/auth/login")
    return await sessions.authenticate(request.app[POOL], request.app[CLOCK](), token.strip())


async def login(request: web.Request) -> web.Response:
    """Check the password and open a session; the token expires at ``expires_at``."""
    body = await validation.json_body(request, schemas.LoginRequest)
    now = request.app[CLOCK]()
    client = limits.client_address(request, request.app[LIMITS].trusted_proxies)
    token, expires, user = await sessions.login(
        request.app[POOL],
        now,
        body.username,
        body.password,
        request.app[SETTINGS].token_ttl_seconds,
        client=client,
    )
    result = {
        "token": token,
        "token_type": "Bearer",
        "expires_at": rfc3339(expires),
        "username": user.username,
        "role": user.role,
        "counter_ids": list(user.counter_ids),
        "branch_id": user.branch_id,
    }
    return _json(schemas.Token, result)


async def issue_ticket(request: web.Request) -> web.Response:
    """Take a ticket (public). A repeated ``Idempotency-Key`` returns the same ticket."""
    branch_id = _path_id(request, "branch_id")
    header = request.headers.get("Idempotency-Key")
    key = validation.validate_param("Idempotency-Key", header, schemas.IdempotencyKey).value
    body = await validation.json_body(request, schemas.IssueTicketRequest)
    await booking_api.require_kiosk(request, body.channel)
    ticket, created = await tickets.issue_ticket_idempotent(
        request.app[POOL],
        request.app[CLOCK](),
        branch_id=branch_id,
        service_id=body.service_id,
        channel=body.channel,
        priority=body.priority,
        priority_group=body.priority_group,
        idempotency_key=key,
        client_key=limits.limited_client(request),
        share=request.app[SETTINGS].issue_share,
    )
    headers = {"Location": f"/api/v1/tickets/{ticket['id']}"}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    return _json(schemas.Ticket, ticket, status=201, headers=headers)


async def get_ticket(request: web.Request) -> web.Response:
    """A ticket as it stands now, with live position and wait estimate."""
    return _json(schemas.Ticket, await tickets.get_ticket(request.app[POOL], _ticket_id(request)))


async def ticket_qr(request: web.Request) -> web.Response:
    """A QR code (SVG) of the link to the citizen's ticket page, for the printed ticket."""
    ticket = await tickets.get_ticket(request.app[POOL], _ticket_id(request))
    base = request.app[SETTINGS].public_url or str(request.url.origin())
    svg = qr.svg(f"{base}/t/{ticket['id']}")
    return web.Response(text=svg, content_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


async def cancel_ticket(request: web.Request) -> web.Response:
    """The citizen cancels a waiting ticket."""
    ticket_id = _ticket_id(request)
    await validation.no_body(request)
    cancelled = await tickets.cancel_ticket(request.app[POOL], request.app[CLOCK](), ticket_id)
    return _json(schemas.Ticket, cancelled)


async def submit_survey(request: web.Request) -> web.Response:
    """Rate a completed ticket (IKM: nine elements scored 1-4), once."""
    ticket_id = _ticket_id(request)
    body = await validation.json_body(request, schemas.SurveyRequest)
    result = await tickets.submit_survey(request.app[POOL], request.app[CLOCK](), ticket_id, body.scores)
    return _json(schemas.SurveyReceipt, result, status=201)


async def _counter_user(request: web.Request) -> tuple[str, User]:
    user = await current_user(request)
    counter_id = _path_id(request, "counter_id")
    if user.is_admin or counter_id in user.counter_ids:
        return counter_id, user
    user.require_counter(counter_id, await counters.counter_branch(request.app[POOL], counter_id))
    return counter_id, user


async def get_counter(request: web.Request) -> web.Response:
    """A counter and its active ticket."""
    counter_id = _path_id(request, "counter_id")
    row = await request.app[POOL].fetchrow("SELECT * FROM counters WHERE id = $1", counter_id)
    if row is None:
        raise NotFound(f"no counter {counter_id!r}")
    return _json(schemas.Counter, counters.counter_view(row))


async def call_next(request: web.Request) -> web.Response:
    """Call the next ticket; an admin may name a ``ticket_id`` (recorded as forced); 204 when none waits."""
    counter_id, user = await _counter_user(request)
    body = await validation.json_body(request, schemas.CallNextRequest, required=False)
    pool, now = request.app[POOL], request.app[CLOCK]()
    called = await counters.call_next(pool, now, counter_id, user, body.ticket_id)
    if called is None:
        return web.Response(status=204)
    return _json(schemas.Ticket, called)


def ticket_action_handler(name: str) -> Handler:
    """A handler for POST /api/v1/counters/{counter_id}/<name> acting on the active ticket."""
    action = TICKET_ACTIONS[name]

    async def handler(request: web.Request) -> web.Response:
        counter_id, user = await _counter_user(request)
        to_service = None
        if action is TicketAction.TRANSFER:
            to_service = (await validation.json_body(request, schemas.TransferRequest)).service_id
        else:
            await validation.no_body(request)
        ticket = await counters.ticket_action(
            request.app[POOL], request.app[CLOCK](), counter_id, action, user, to_service_id=to_service
        )
        return _json(schemas.Ticket, ticket)

    return handler


def counter_action_handler(name: str) -> Handler:
    """A handler for POST /api/v1/counters/{counter_id}/<open|pause|close>."""
    action = COUNTER_ACTIONS[name]

    async def handler(request: web.Request) -> web.Response:
        counter_id, user = await _counter_user(request)
        reason = None
        if action is CounterAction.PAUSE:
            reason = (await validation.json_body(request, schemas.PauseRequest, required=False)).reason
        else:
            await validation.no_body(request)
        pool, now = request.app[POOL], request.app[CLOCK]()
        changed = await counters.counter_action(pool, now, counter_id, action, user, reason=reason)
        return _json(schemas.Counter, changed)

    return handler


async def list_branches(request: web.Request) -> web.Response:
    """Every branch this deployment serves."""
    return _json(schemas.BranchList, await directory.list_branches(request.app[POOL]))


async def get_branch(request: web.Request) -> web.Response:
    """A branch with its schedule, agencies, services and counters."""
    branch = await directory.get_branch(
        request.app[POOL], _path_id(request, "branch_id"), request.app[CLOCK]()
    )
    return _json(schemas.Branch, branch)


async def branch_queue(request: web.Request) -> web.Response:
    """Waiting counts per service for the branch's current business day."""
    pool, now = request.app[POOL], request.app[CLOCK]()
    return _json(schemas.Queue, await directory.branch_queue(pool, now, _path_id(request, "branch_id")))


# -- the contract: every route of the service, registered and documented from one table -------

_BRANCH = Param("branch_id", "path", {"type": "string", "pattern": schemas.ID_PATTERN})
_COUNTER = Param("counter_id", "path", {"type": "string", "pattern": schemas.ID_PATTERN})
_SERVICE = Param("service_id", "path", {"type": "string", "pattern": schemas.ID_PATTERN})
_TICKET = Param("ticket_id", "path", {"type": "string", "format": "uuid"})
_IDEMPOTENCY = Param(
    "Idempotency-Key",
    "header",
    {"type": "string", "pattern": schemas.IDEMPOTENCY_KEY_PATTERN},
    required=False,
    description="a retry with the same key returns the same ticket",
)
_TICKET_OK = {200: Content(schemas.Ticket)}
_COUNTER_OK = {200: Content(schemas.Counter)}
_BODY_PROBLEMS = (400, 413, 415, 422)
_ACTION_SUMMARIES = {
    "recall": "Recall the active ticket",
    "start": "The citizen arrived: start serving",
    "complete": "Complete the active ticket",
    "no-show": "Mark a no-show (after enough recalls and time)",
    "transfer": "Transfer the ticket to another service; it keeps its number and place",
    "open": "Open the counter",
    "pause": "Pause the counter, with a reason (istirahat, sholat, rapat, gangguan) the supervisor sees",
    "close": "Close the counter",
}


def _ticket_action(name: str) -> Operation:
    body, handler = schemas.TransferRequest if name == "transfer" else None, ticket_action_handler(name)
    return Operation("POST", f"/api/v1/counters/{{counter_id}}/{name}", _validated(handler),
                     _ACTION_SUMMARIES[name], ("counters",), (_COUNTER,), body=body, responses=_TICKET_OK,
                     problems=(400, 401, 403, 404, 409, 413, 415, 422, 503), secured=True)  # fmt: skip


def _counter_action(name: str) -> Operation:
    pause = name == "pause"
    problems_ = (401, 403, 404, 409, *_BODY_PROBLEMS, 503) if pause else (401, 403, 404, 409, 413, 415, 503)
    handler = _validated(counter_action_handler(name))
    return Operation("POST", f"/api/v1/counters/{{counter_id}}/{name}", handler, _ACTION_SUMMARIES[name],
                     ("counters",), (_COUNTER,),
                     body=schemas.PauseRequest if pause else None, body_required=False, responses=_COUNTER_OK,
                     problems=problems_, secured=True)  # fmt: skip


def _get(path: str, handler: Handler, summary: str, tag: str, model: type[BaseModel], *p: Param) -> Operation:
    problems_ = (404, 503) if p else (503,)
    return Operation("GET", path, _validated(handler), summary, (tag,), p, responses={200: Content(model)},
                     problems=problems_)  # fmt: skip


def operations() -> list[Operation]:
    """Every ``/api/v1`` operation with its handler and contract."""
    return [*_directory_operations(), *_ticket_operations(), *_counter_operations()]


def _directory_operations() -> list[Operation]:
    return [
        Operation("POST", "/api/v1/auth/login", _validated(login), "Log in an operator or admin", ("auth",),
                  body=schemas.LoginRequest, responses={200: Content(schemas.Token)},
                  problems=(401, 403, *_BODY_PROBLEMS, 429, 503)),
        _get("/api/v1/branches", list_branches, "Every branch", "branches", schemas.BranchList),
        _get("/api/v1/branches/{branch_id}", get_branch, "A branch with its agencies, services and counters",
             "branches", schemas.Branch, _BRANCH),
        _get("/api/v1/branches/{branch_id}/queue", branch_queue, "Waiting counts per service today",
             "branches", schemas.Queue, _BRANCH),
    ]  # fmt: skip


_ISSUED = Content(
    schemas.Ticket,
    description="Issued (or replayed)",
    headers={
        "Location": "the ticket's URL",
        "Idempotent-Replayed": "`true` when an earlier request with this key issued it",
    },
)


def _ticket_operations() -> list[Operation]:
    public = (403, 404, 409, *_BODY_PROBLEMS, 429, 503)
    return [
        Operation("POST", "/api/v1/branches/{branch_id}/tickets", _validated(issue_ticket),
                  "Take a ticket (public); a repeated Idempotency-Key returns the same ticket", ("tickets",),
                  (_BRANCH, _IDEMPOTENCY), body=schemas.IssueTicketRequest, responses={201: _ISSUED},
                  problems=public),
        _get("/api/v1/tickets/{ticket_id}", get_ticket,
             "A ticket as it stands now, with live position and wait estimate", "tickets", schemas.Ticket,
             _TICKET),
        Operation("GET", "/api/v1/tickets/{ticket_id}/qr.svg", _validated(ticket_qr),
                  "A QR code (SVG) of the link to the citizen's ticket page", ("tickets",), (_TICKET,),
                  responses={200: Content(media_type="image/svg+xml", description="SVG image")},
                  problems=(404, 503)),
        Operation("POST", "/api/v1/tickets/{ticket_id}/cancel", _validated(cancel_ticket),
                  "The citizen cancels a waiting ticket", ("tickets",), (_TICKET,), responses=_TICKET_OK,
                  problems=(403, 404, 409, 413, 415, 429, 503)),
        Operation("POST", "/api/v1/tickets/{ticket_id}/survey", _validated(submit_survey),
                  "Rate a completed ticket (IKM, nine elements scored 1-4), once", ("tickets",), (_TICKET,),
                  body=schemas.SurveyRequest,
                  responses={201: Content(schemas.SurveyReceipt, description="Recorded")}, problems=public),
    ]  # fmt: skip


def _counter_operations() -> list[Operation]:
    nobody = Content(media_type="", description="Nobody waits for this counter's services")
    return [
        _get("/api/v1/counters/{counter_id}", get_counter, "A counter and its active ticket", "counters",
             schemas.Counter, _COUNTER),
        Operation("POST", "/api/v1/counters/{counter_id}/call-next", _validated(call_next),
                  "Call the next ticket (an admin may name a ticket_id; recorded as forced)", ("counters",),
                  (_COUNTER,), body=schemas.CallNextRequest, body_required=False,
                  responses={**_TICKET_OK, 204: nobody}, problems=(401, 403, 404, 409, *_BODY_PROBLEMS, 503),
                  secured=True),
        *(_ticket_action(name) for name in TICKET_ACTIONS),
        *(_counter_action(name) for name in COUNTER_ACTIONS),
    ]  # fmt: skip


def _page(path: str, summary: str, media_type: str, *params: Param, tag: str = "pages") -> Operation:
    return Operation(
        "GET", path, None, summary, (tag,), params, responses={200: Content(media_type=media_type)}
    )


# The pages are static: they take any id and ask the API, which answers 404 for an unknown one.
_ANY_BRANCH = Param("branch_id", "path", {"type": "string"})
_ANY_TICKET = Param("ticket_id", "path", {"type": "string"})

# Routes that app.py and pages.py register: documented here so that none goes undocumented.
ELSEWHERE = [
    openapi.health("/healthz", "Alive"),
    openapi.health("/readyz", "Ready when PostgreSQL answers (503 problem otherwise); reports Kafka"),
    _page("/metrics", "Prometheus exposition", "text/plain", tag="operations"),
    _page("/kiosk/{branch_id}", "Kiosk page: choose a service, take a ticket", "text/html", _ANY_BRANCH),
    _page("/counter", "Counter client page for operators", "text/html"),
    _page("/t/{ticket_id}", "Citizen's ticket page: live status, cancel, survey", "text/html", _ANY_TICKET),
    Operation(
        "GET",
        "/static/{filename}",
        None,
        "The pages' scripts, stylesheets and images",
        ("pages",),
        (Param("filename", "path", {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_.-]{0,80}$"}),),
        responses={200: Content(media_type="*/*", description="the file")},
        problems=(404,),
    ),
    _page("/admin", "Admin console: branches, agencies, services, counters, users", "text/html"),
    _page("/supervisor/{branch_id}", "Supervisor's hall monitor", "text/html", _ANY_BRANCH),
]


def add_routes(app: web.Application) -> None:
    """Register every ``/api/v1`` route and serve ``/openapi.json`` documenting every route of the app."""
    openapi.register(app, [*operations(), *booking_api.operations(), *ELSEWHERE, *booking_api.PAGES])
    openapi.serve(
        app,
        title="Antrian ticketing",
        version="1.0.0",
        description="Tickets, counters and queues of Mal Pelayanan Publik halls. Errors are RFC 9457"
        " problem details; a refused value is a 422 whose `errors` name each field by its JSON pointer.",
    )
