"""The HTTP handlers of ``/api/v1``: thin, they parse, call a store function and shape JSON."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from aiohttp import web

from services.ticketing import counters, directory, sessions, tickets
from services.ticketing.auth import User
from services.ticketing.domain import qr
from services.ticketing.domain.calling import PriorityGroup
from services.ticketing.domain.lifecycle import CounterAction, TicketAction
from services.ticketing.errors import InvalidRequest, MalformedRequest, NotFound, Unauthorized
from services.ticketing.eventdata import rfc3339
from services.ticketing.keys import CLOCK, POOL, SETTINGS

_KEY_RE = re.compile(r"^[\x21-\x7e]{1,200}$")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")

TICKET_ACTIONS = {
    "recall": TicketAction.RECALL,
    "start": TicketAction.START,
    "complete": TicketAction.COMPLETE,
    "no-show": TicketAction.NO_SHOW,
    "transfer": TicketAction.TRANSFER,
}
COUNTER_ACTIONS = {"open": CounterAction.OPEN, "pause": CounterAction.PAUSE, "close": CounterAction.CLOSE}


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(
        data, status=status, headers=headers, dumps=lambda o: json.dumps(o, ensure_ascii=False)
    )


async def read_body(request: web.Request, *, required: bool = True) -> dict[str, Any]:
    """The JSON object in the body; MalformedRequest (400) for anything else."""
    raw = await request.read()
    if not raw.strip():
        if required:
            raise MalformedRequest("a JSON object body is required")
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise MalformedRequest(f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise MalformedRequest("the body must be a JSON object")
    return body


def _string(body: dict[str, Any], name: str, *, default: str | None = None) -> str:
    value = body.get(name, default)
    if not isinstance(value, str) or not value or len(value) > 1000:
        raise InvalidRequest(f"'{name}' must be a non-empty string of at most 1000 characters")
    if "\x00" in value:
        raise InvalidRequest(f"'{name}' must not contain NUL characters")
    return value


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
    """POST /api/v1/auth/login"""
    body = await read_body(request)
    username, password = _string(body, "username"), _string(body, "password")
    now = request.app[CLOCK]()
    token, expires, user = await sessions.login(
        request.app[POOL], now, username, password, request.app[SETTINGS].token_ttl_seconds
    )
    return _json(
        {
            "token": token,
            "token_type": "Bearer",
            "expires_at": rfc3339(expires),
            "username": user.username,
            "role": user.role,
            "counter_ids": list(user.counter_ids),
        }
    )


async def issue_ticket(request: web.Request) -> web.Response:
    """POST /api/v1/branches/{branch_id}/tickets"""
    body = await read_body(request)
    service_id = _string(body, "service_id")
    channel = _string(body, "channel", default="kiosk")
    if channel not in tickets.CHANNELS:
        raise InvalidRequest(f"'channel' must be one of {', '.join(tickets.CHANNELS)}")
    priority = body.get("priority", False)
    if not isinstance(priority, bool):
        raise InvalidRequest("'priority' must be true or false")
    group_raw = body.get("priority_group")
    group = None
    if group_raw is not None:
        try:
            group = PriorityGroup(group_raw)
        except ValueError:
            groups = ", ".join(g.value for g in PriorityGroup)
            raise InvalidRequest(f"'priority_group' must be null or one of {groups}") from None
    key = request.headers.get("Idempotency-Key")
    if key is not None and not _KEY_RE.match(key):
        raise InvalidRequest("Idempotency-Key must be 1-200 visible ASCII characters")
    ticket, created = await tickets.issue_ticket_idempotent(
        request.app[POOL],
        request.app[CLOCK](),
        branch_id=_path_id(request, "branch_id"),
        service_id=service_id,
        channel=channel,
        priority=priority,
        priority_group=group,
        idempotency_key=key,
    )
    headers = {"Location": f"/api/v1/tickets/{ticket['id']}"}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    return _json(ticket, status=201, headers=headers)


async def get_ticket(request: web.Request) -> web.Response:
    """GET /api/v1/tickets/{ticket_id}"""
    return _json(await tickets.get_ticket(request.app[POOL], _ticket_id(request)))


async def ticket_qr(request: web.Request) -> web.Response:
    """GET /api/v1/tickets/{ticket_id}/qr.svg: a QR code of the citizen's ticket page."""
    ticket = await tickets.get_ticket(request.app[POOL], _ticket_id(request))
    base = request.app[SETTINGS].public_url or str(request.url.origin())
    svg = qr.to_svg(qr.encode(f"{base}/t/{ticket['id']}"))
    return web.Response(text=svg, content_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


async def cancel_ticket(request: web.Request) -> web.Response:
    """POST /api/v1/tickets/{ticket_id}/cancel"""
    ticket_id = _ticket_id(request)
    return _json(await tickets.cancel_ticket(request.app[POOL], request.app[CLOCK](), ticket_id))


async def submit_survey(request: web.Request) -> web.Response:
    """POST /api/v1/tickets/{ticket_id}/survey"""
    ticket_id = _ticket_id(request)
    scores = tickets.validate_scores((await read_body(request)).get("scores"))
    result = await tickets.submit_survey(request.app[POOL], request.app[CLOCK](), ticket_id, scores)
    return _json(result, status=201)


async def _counter_user(request: web.Request) -> tuple[str, User]:
    user = await current_user(request)
    counter_id = _path_id(request, "counter_id")
    user.require_counter(counter_id)
    return counter_id, user


async def get_counter(request: web.Request) -> web.Response:
    """GET /api/v1/counters/{counter_id}"""
    counter_id = _path_id(request, "counter_id")
    row = await request.app[POOL].fetchrow("SELECT * FROM counters WHERE id = $1", counter_id)
    if row is None:
        raise NotFound(f"no counter {counter_id!r}")
    return _json(counters.counter_view(row))


async def call_next(request: web.Request) -> web.Response:
    """POST /api/v1/counters/{counter_id}/call-next (an admin may name a ``ticket_id``)."""
    counter_id, user = await _counter_user(request)
    body = await read_body(request, required=False)
    ticket_id = None
    if body.get("ticket_id") is not None:
        try:
            ticket_id = uuid.UUID(str(body["ticket_id"]))
        except ValueError:
            raise InvalidRequest("'ticket_id' must be a ticket UUID") from None
    called = await counters.call_next(request.app[POOL], request.app[CLOCK](), counter_id, user, ticket_id)
    if called is None:
        return web.Response(status=204)
    return _json(called)


def ticket_action_handler(name: str) -> Any:
    """A handler for POST /api/v1/counters/{counter_id}/<name> acting on the active ticket."""
    action = TICKET_ACTIONS[name]

    async def handler(request: web.Request) -> web.Response:
        counter_id, user = await _counter_user(request)
        to_service = None
        if action is TicketAction.TRANSFER:
            to_service = _string(await read_body(request), "service_id")
        ticket = await counters.ticket_action(
            request.app[POOL], request.app[CLOCK](), counter_id, action, user, to_service_id=to_service
        )
        return _json(ticket)

    handler.__doc__ = f"POST /api/v1/counters/{{counter_id}}/{name}"
    return handler


def counter_action_handler(name: str) -> Any:
    """A handler for POST /api/v1/counters/{counter_id}/<open|pause|close>."""
    action = COUNTER_ACTIONS[name]

    async def handler(request: web.Request) -> web.Response:
        counter_id, user = await _counter_user(request)
        return _json(
            await counters.counter_action(request.app[POOL], request.app[CLOCK](), counter_id, action, user)
        )

    handler.__doc__ = f"POST /api/v1/counters/{{counter_id}}/{name}"
    return handler


async def list_branches(request: web.Request) -> web.Response:
    """GET /api/v1/branches"""
    return _json(await directory.list_branches(request.app[POOL]))


async def get_branch(request: web.Request) -> web.Response:
    """GET /api/v1/branches/{branch_id}"""
    return _json(await directory.get_branch(request.app[POOL], _path_id(request, "branch_id")))


async def branch_queue(request: web.Request) -> web.Response:
    """GET /api/v1/branches/{branch_id}/queue"""
    now = request.app[CLOCK]()
    return _json(await directory.branch_queue(request.app[POOL], now, _path_id(request, "branch_id")))


def add_routes(app: web.Application) -> None:
    """Register every ``/api/v1`` route."""
    r = app.router
    r.add_post("/api/v1/auth/login", login)
    r.add_get("/api/v1/branches", list_branches)
    r.add_get("/api/v1/branches/{branch_id}", get_branch)
    r.add_get("/api/v1/branches/{branch_id}/queue", branch_queue)
    r.add_post("/api/v1/branches/{branch_id}/tickets", issue_ticket)
    r.add_get("/api/v1/tickets/{ticket_id}", get_ticket)
    r.add_get("/api/v1/tickets/{ticket_id}/qr.svg", ticket_qr)
    r.add_post("/api/v1/tickets/{ticket_id}/cancel", cancel_ticket)
    r.add_post("/api/v1/tickets/{ticket_id}/survey", submit_survey)
    r.add_get("/api/v1/counters/{counter_id}", get_counter)
    r.add_post("/api/v1/counters/{counter_id}/call-next", call_next)
    for name in TICKET_ACTIONS:
        r.add_post(f"/api/v1/counters/{{counter_id}}/{name}", ticket_action_handler(name))
    for name in COUNTER_ACTIONS:
        r.add_post(f"/api/v1/counters/{{counter_id}}/{name}", counter_action_handler(name))
