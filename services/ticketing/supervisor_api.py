"""HTTP routes of supervision: the issuing switch, moving and cancelling tickets, announcements, audit.

A supervisor (or the branch_admin) acts on their own branch only; the admin
everywhere. Every action is written to the audit trail in its transaction.
"""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from services.platform import validation
from services.platform.openapi import Content, Operation, Param
from services.ticketing import admin_schemas as s
from services.ticketing import audit, config, supervision
from services.ticketing.api import (
    _BRANCH,
    _SERVICE,
    _TICKET,
    _json,
    _path_id,
    _ticket_id,
    _validated,
    current_user,
)
from services.ticketing.auth import Role
from services.ticketing.errors import InvalidRequest
from services.ticketing.keys import CLOCK, POOL
from services.ticketing.schemas import ID_PATTERN

_AUDIT_PARAMS = (
    Param("branch_id", "query", {"type": "string", "pattern": ID_PATTERN}, required=False,
          description="the branch (required unless the caller is the admin)"),
    Param("before", "query", {"type": "string", "format": "date-time"}, required=False,
          description="only entries older than this moment (paging)"),
    Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 500}, required=False),
)  # fmt: skip
_BODY = (400, 413, 415, 422)


async def set_issuing(request: web.Request) -> web.Response:
    """Stop issuing for a service for the rest of today (the kiosk shows the reason), or resume it."""
    actor = await current_user(request)
    service_id = _path_id(request, "service_id")
    body = await validation.json_body(request, s.IssuingSwitch)
    out = await config.set_issuing(
        request.app[POOL], request.app[CLOCK](), actor, service_id, body.open, body.reason
    )
    return _json(s.IssuingState, out)


async def staff_cancel(request: web.Request) -> web.Response:
    """A supervisor cancels a waiting ticket with a reason."""
    actor = await current_user(request)
    ticket_id = _ticket_id(request)
    body = await validation.json_body(request, s.TicketCancel)
    out = await supervision.cancel_ticket(
        request.app[POOL], request.app[CLOCK](), actor, ticket_id, body.reason
    )
    return _json(s.Ticket, out)


async def move_ticket(request: web.Request) -> web.Response:
    """A supervisor moves a waiting ticket to another service; it keeps its number and place."""
    actor = await current_user(request)
    ticket_id = _ticket_id(request)
    body = await validation.json_body(request, s.TicketMove)
    out = await supervision.move_ticket(
        request.app[POOL], request.app[CLOCK](), actor, ticket_id, body.service_id
    )
    return _json(s.Ticket, out)


async def announce(request: web.Request) -> web.Response:
    """Put a running text on the branch's hall screens, or have it spoken once."""
    actor = await current_user(request)
    branch_id = _path_id(request, "branch_id")
    body = await validation.json_body(request, s.Announcement)
    out = await supervision.announce(
        request.app[POOL], request.app[CLOCK](), actor, branch_id, body.text, body.mode, body.until
    )
    return _json(s.AnnouncementOut, out, status=201)


async def monitor(request: web.Request) -> web.Response:
    """The hall floor now, for the supervisor's monitor (poll it, or follow the display websocket)."""
    actor = await current_user(request)
    branch_id = _path_id(request, "branch_id")
    out = await supervision.monitor(request.app[POOL], request.app[CLOCK](), actor, branch_id)
    return _json(s.Monitor, out)


def _audit_query(request: web.Request) -> tuple[str | None, datetime | None, int]:
    branch_id = validation.validate_param("branch_id", request.query.get("branch_id"), s.BranchQuery).value
    raw_before = request.query.get("before")
    before = None
    if raw_before is not None:
        try:
            before = datetime.fromisoformat(raw_before)
        except ValueError:
            raise InvalidRequest(f"before: not an RFC 3339 moment: {raw_before!r}") from None
        if before.tzinfo is None:
            raise InvalidRequest("before: the moment needs a UTC offset")
    raw_limit = request.query.get("limit", "100")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 500:
        raise InvalidRequest("limit: an integer from 1 to 500")
    return branch_id, before, int(raw_limit)


async def audit_log(request: web.Request) -> web.Response:
    """The audit trail of a branch, newest first (admin; the branch's supervisor or branch_admin)."""
    actor = await current_user(request)
    branch_id, before, limit = _audit_query(request)
    if not actor.is_admin:
        if branch_id is None:
            raise InvalidRequest("branch_id: required")
        actor.require_role(branch_id, Role.SUPERVISOR, Role.BRANCH_ADMIN)
    found = await audit.entries(request.app[POOL], branch_id=branch_id, before=before, limit=limit)
    items = [
        {"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "target": e.target,
         "branch_id": e.branch_id, "before": e.before, "after": e.after}
        for e in found
    ]  # fmt: skip
    return _json(s.AuditList, {"items": items})


def operations() -> list[Operation]:
    """The supervision routes with their contracts."""
    v = _validated
    problems = (401, 403, 404, 409, *_BODY, 503)
    return [
        Operation("PUT", "/api/v1/services/{service_id}/issuing", v(set_issuing),
                  "Stop or resume issuing for a service today", ("supervision",), (_SERVICE,),
                  body=s.IssuingSwitch, responses={200: Content(s.IssuingState)}, problems=problems,
                  secured=True),
        Operation("POST", "/api/v1/tickets/{ticket_id}/staff-cancel", v(staff_cancel),
                  "Cancel a waiting ticket with a reason (supervisor)", ("supervision",), (_TICKET,),
                  body=s.TicketCancel, responses={200: Content(s.Ticket)}, problems=problems, secured=True),
        Operation("POST", "/api/v1/tickets/{ticket_id}/move", v(move_ticket),
                  "Move a waiting ticket to another service (supervisor)", ("supervision",), (_TICKET,),
                  body=s.TicketMove, responses={200: Content(s.Ticket)}, problems=problems, secured=True),
        Operation("POST", "/api/v1/branches/{branch_id}/announcements", v(announce),
                  "Running text or a spoken announcement on the hall screens", ("supervision",), (_BRANCH,),
                  body=s.Announcement, responses={201: Content(s.AnnouncementOut, description="Sent")},
                  problems=problems, secured=True),
        Operation("GET", "/api/v1/branches/{branch_id}/monitor", v(monitor),
                  "The hall floor now (supervisor)", ("supervision",), (_BRANCH,),
                  responses={200: Content(s.Monitor)}, problems=(401, 403, 404, 503), secured=True),
        Operation("GET", "/api/v1/audit", v(audit_log), "The audit trail, newest first", ("audit",),
                  _AUDIT_PARAMS, responses={200: Content(s.AuditList)}, problems=(401, 403, 422, 503),
                  secured=True),
    ]  # fmt: skip
