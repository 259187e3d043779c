"""HTTP routes of the hall's master data: agencies, services, counters, and the YAML export.

Thin handlers over :mod:`services.ticketing.config`: an admin, or the
branch_admin of the branch, may change it; every change is audited and
announced as ``hall.configured``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

import asyncpg
import yaml
from aiohttp import web
from pydantic import BaseModel

from services.platform import validation
from services.platform.openapi import Content, Handler, Operation, Param
from services.ticketing import admin_schemas as s
from services.ticketing import config
from services.ticketing.api import _BRANCH, _COUNTER, _SERVICE, _json, _path_id, _validated, current_user
from services.ticketing.auth import User
from services.ticketing.keys import CLOCK, POOL

_PROBLEMS = (401, 403, 404, 409, 400, 413, 415, 422, 503)


# What a master-data write of :mod:`services.ticketing.config` looks like.
_Change = Callable[[asyncpg.Pool, datetime, User, str, Mapping[str, Any]], Awaitable[dict[str, Any]]]


def _master_data(
    change: _Change, param: Param, body: type[BaseModel], out: type[BaseModel], status: int, doc: str
) -> Handler:
    """A handler: the actor, the id in the path, the validated ``body``; ``change`` checks the role."""

    async def handler(request: web.Request) -> web.Response:
        actor = await current_user(request)
        target = _path_id(request, param.name)
        fields = (await validation.json_body(request, body)).model_dump(exclude_none=True)
        return _json(
            out, await change(request.app[POOL], request.app[CLOCK](), actor, target, fields), status
        )

    handler.__doc__ = doc
    return handler


async def export_yaml(request: web.Request) -> web.Response:
    """The live configuration of the branch as a hall file (YAML) the loader accepts; no users."""
    actor = await current_user(request)
    branch_id = _path_id(request, "branch_id")
    actor.require_role(branch_id, *config.MASTER_DATA_ROLES, *config.SUPERVISING_ROLES)
    doc = await config.export_hall(request.app[POOL], branch_id)
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    return web.Response(text=text, content_type="application/yaml", charset="utf-8")


def _write(
    method: str,
    path: str,
    change: _Change,
    summary: str,
    param: Param,
    body: type[BaseModel],
    out: type[BaseModel],
    doc: str,
) -> Operation:
    status = 201 if method == "POST" else 200
    return Operation(method, path, _validated(_master_data(change, param, body, out, status, doc)), summary,
                     ("master data",), (param,), body=body,
                     responses={status: Content(out, description="Created" if status == 201 else "OK")},
                     problems=_PROBLEMS, secured=True)  # fmt: skip


def operations() -> list[Operation]:
    """The master-data routes with their contracts."""
    return [
        _write("POST", "/api/v1/branches/{branch_id}/agencies", config.create_agency, "Add an agency",
               _BRANCH, s.AgencyCreate, s.AgencyOut,
               "Add an agency to the branch (admin, or the branch's branch_admin)."),
        _write("POST", "/api/v1/branches/{branch_id}/services", config.create_service, "Add a service",
               _BRANCH, s.ServiceCreate, s.ServiceOut,
               "Add a service to an agency of the branch; the kiosk shows it within seconds."),
        _write("POST", "/api/v1/branches/{branch_id}/counters", config.create_counter, "Add a counter",
               _BRANCH, s.CounterCreate, s.CounterOut,
               "Add a counter (closed) to the branch; the hall screen shows it within seconds."),
        _write("PATCH", "/api/v1/services/{service_id}", config.update_service,
               "Change or delete a service (its history stays)", _SERVICE, s.ServicePatch, s.ServiceOut,
               "Change a service (name, prefix, quota, hours, breaks, holidays, cut-off, times),"
               " or delete it."),
        _write("PATCH", "/api/v1/counters/{counter_id}", config.update_counter,
               "Change or delete a counter (its history stays)", _COUNTER, s.CounterPatch, s.CounterOut,
               "Change a counter (name, zone, services in order of preference), or delete it."),
        Operation("GET", "/api/v1/branches/{branch_id}/export.yaml", _validated(export_yaml),
                  "The live configuration as a hall file (YAML)", ("master data",), (_BRANCH,),
                  responses={200: Content(media_type="application/yaml", description="A hall file")},
                  problems=(401, 403, 404, 503), secured=True),
    ]  # fmt: skip
