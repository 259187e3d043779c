"""HTTP routes of accounts: log out, one's sessions, password change, staff users.

Thin handlers over :mod:`services.ticketing.sessions` and
:mod:`services.ticketing.users`, where the rules live (who may manage whom,
revocation, the audit entry written in the same transaction).
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from services.platform import validation
from services.platform.openapi import Content, Operation, Param
from services.ticketing import admin_schemas as s
from services.ticketing import sessions, users
from services.ticketing.api import _json, _validated, current_user
from services.ticketing.auth import Role
from services.ticketing.errors import NotFound, Unauthorized
from services.ticketing.keys import CLOCK, POOL

_USERNAME = Param("username", "path", {"type": "string", "pattern": r"^[a-z0-9][a-z0-9._-]{0,62}$"})
_SESSION = Param("session_id", "path", {"type": "string", "format": "uuid"})
_BRANCH_QUERY = Param(
    "branch_id",
    "query",
    {"type": "string", "pattern": r"^[a-z0-9][a-z0-9-]{0,62}$"},
    required=False,
    description="only this branch's users (an admin's filter; others see their own branch)",
)
_BODY = (400, 413, 415, 422)


def bearer_token(request: web.Request) -> str:
    """The request's bearer token (already checked by :func:`current_user`)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("this action needs 'Authorization: Bearer <token>'")
    return token.strip()


def account_json(account: users.Account) -> dict[str, Any]:
    """An account as the API shows it."""
    return {
        "username": account.username,
        "role": account.role,
        "branch_id": account.branch_id,
        "counter_ids": list(account.counter_ids),
        "disabled": account.disabled,
        "created_at": account.created_at.isoformat(),
    }


async def logout(request: web.Request) -> web.Response:
    """End the caller's session; its token is refused from now on."""
    await current_user(request)
    await validation.no_body(request)
    await sessions.logout(request.app[POOL], bearer_token(request))
    return web.Response(status=204)


async def list_sessions(request: web.Request) -> web.Response:
    """The caller's open sessions, newest first (never a token)."""
    user = await current_user(request)
    found = await sessions.list_sessions(
        request.app[POOL], request.app[CLOCK](), user.username, bearer_token(request)
    )
    items = [
        {
            "id": str(x.id),
            "created_at": x.created_at.isoformat(),
            "expires_at": x.expires_at.isoformat(),
            "last_seen_at": x.last_seen_at.isoformat() if x.last_seen_at else None,
            "client": x.client,
            "current": x.current,
        }
        for x in found
    ]
    return _json(s.SessionList, {"items": items})


async def end_session(request: web.Request) -> web.Response:
    """End one of the caller's own sessions (e.g. a forgotten counter PC)."""
    user = await current_user(request)
    raw = request.match_info["session_id"]
    try:
        session_id = uuid.UUID(raw)
    except ValueError:
        raise NotFound(f"no session {raw!r}") from None
    if not await sessions.end_session(request.app[POOL], user.username, session_id):
        raise NotFound(f"no session {raw!r}")
    return web.Response(status=204)


async def change_password(request: web.Request) -> web.Response:
    """Change the caller's password; every other session of theirs ends."""
    user = await current_user(request)
    body = await validation.json_body(request, s.PasswordChange)
    await sessions.change_password(
        request.app[POOL],
        request.app[CLOCK](),
        user.username,
        body.current_password,
        body.new_password,
        bearer_token(request),
    )
    return web.Response(status=204)


async def create_user(request: web.Request) -> web.Response:
    """Create a staff account (admin: any; branch_admin: supervisors and operators of their branch)."""
    actor = await current_user(request)
    body = await validation.json_body(request, s.UserCreate)
    account = await users.create(
        request.app[POOL],
        request.app[CLOCK](),
        actor,
        username=body.username,
        password=body.password,
        role=body.role,
        branch_id=body.branch_id,
        counter_ids=body.counter_ids,
    )
    return _json(s.Account, account_json(account), status=201)


async def update_user(request: web.Request) -> web.Response:
    """Change an account: role, branch, counters, ``disabled``, or reset its password."""
    actor = await current_user(request)
    username = request.match_info["username"]
    body = await validation.json_body(request, s.UserPatch)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("role") is None:
        changes.pop("role", None)
    for key in ("counter_ids", "disabled", "password"):
        if key in changes and changes[key] is None:
            changes.pop(key)
    account = await users.update(request.app[POOL], request.app[CLOCK](), actor, username, changes)
    return _json(s.Account, account_json(account))


async def list_users(request: web.Request) -> web.Response:
    """Staff accounts: every one for an admin, the own branch's for a branch_admin or supervisor."""
    actor = await current_user(request)
    if not actor.is_admin:
        actor.require_role(None, Role.BRANCH_ADMIN, Role.SUPERVISOR)
    branch_id = validation.validate_param("branch_id", request.query.get("branch_id"), s.BranchQuery).value
    found = await users.listing(request.app[POOL], actor, branch_id)
    return _json(s.AccountList, {"items": [account_json(a) for a in found]})


def operations() -> list[Operation]:
    """The accounts routes with their contracts."""
    v = _validated
    no_content = {204: Content(media_type="", description="Done")}
    return [
        Operation("POST", "/api/v1/auth/logout", v(logout), "Log out: the token is refused afterwards",
                  ("auth",), responses=no_content, problems=(401, 403, 413, 415, 503), secured=True),
        Operation("GET", "/api/v1/auth/sessions", v(list_sessions), "The caller's open sessions", ("auth",),
                  responses={200: Content(s.SessionList)}, problems=(401, 403, 503), secured=True),
        Operation("DELETE", "/api/v1/auth/sessions/{session_id}", v(end_session),
                  "End one of the caller's own sessions", ("auth",), (_SESSION,), responses=no_content,
                  problems=(401, 403, 404, 503), secured=True),
        Operation("POST", "/api/v1/auth/password", v(change_password),
                  "Change one's password (other sessions end)", ("auth",), body=s.PasswordChange,
                  responses=no_content, problems=(401, 403, *_BODY, 503), secured=True),
        Operation("GET", "/api/v1/users", v(list_users), "Staff accounts the caller may see", ("users",),
                  (_BRANCH_QUERY,), responses={200: Content(s.AccountList)}, problems=(401, 403, 422, 503),
                  secured=True),
        Operation("POST", "/api/v1/users", v(create_user), "Create a staff account", ("users",),
                  body=s.UserCreate, responses={201: Content(s.Account, description="Created")},
                  problems=(401, 403, 409, *_BODY, 503), secured=True),
        Operation("PATCH", "/api/v1/users/{username}", v(update_user),
                  "Change an account (disable, role, branch, counters, password reset)", ("users",),
                  (_USERNAME,), body=s.UserPatch, responses={200: Content(s.Account)},
                  problems=(401, 403, 404, *_BODY, 503), secured=True),
    ]  # fmt: skip
