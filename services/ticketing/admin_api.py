"""HTTP routes of the hall's master data: agencies, services, counters, and the YAML export.

Thin handlers over :mod:`services.ticketing.config`: an admin, or the
branch_admin of the branch, may change it; every change is audited and
announced as ``hall.configured``.
"""

from __future__ import annotations

import yaml
from aiohttp import web

from services.platform import validation
from services.platform.openapi import Content, Operation, Param
from services.ticketing import admin_schemas as s
from services.ticketing import config
from services.ticketing.api import _json, _path_id, _validated, current_user
from services.ticketing.keys import CLOCK, POOL
from services.ticketing.schemas import ID_PATTERN

_BRANCH = Param("branch_id", "path", {"type": "string", "pattern": ID_PATTERN})
_SERVICE = Param("service_id", "path", {"type": "string", "pattern": ID_PATTERN})
_COUNTER = Param("counter_id", "path", {"type": "string", "pattern": ID_PATTERN})
_PROBLEMS = (401, 403, 404, 409, 400, 413, 415, 422, 503)


async def create_agency(request: web.Request) -> web.Response:
    """Add an agency to the branch (admin, or the branch's branch_admin)."""
    actor = await current_user(request)
    branch_id = _path_id(request, "branch_id")
    body = await validation.json_body(request, s.AgencyCreate)
    out = await config.create_agency(
        request.app[POOL], request.app[CLOCK](), actor, branch_id, body.model_dump()
    )
    return _json(s.AgencyOut, out, status=201)


async def create_service(request: web.Request) -> web.Response:
    """Add a service to an agency of the branch; the kiosk shows it within seconds."""
    actor = await current_user(request)
    branch_id = _path_id(request, "branch_id")
    body = await validation.json_body(request, s.ServiceCreate)
    out = await config.create_service(
        request.app[POOL], request.app[CLOCK](), actor, branch_id, body.model_dump(exclude_none=True)
    )
    return _json(s.ServiceOut, out, status=201)


async def update_service(request: web.Request) -> web.Response:
    """Change a service (name, prefix, quota, hours, breaks, holidays, cut-off, times), or delete it."""
    actor = await current_user(request)
    service_id = _path_id(request, "service_id")
    body = await validation.json_body(request, s.ServicePatch)
    changes = body.model_dump(exclude_none=True)
    out = await config.update_service(request.app[POOL], request.app[CLOCK](), actor, service_id, changes)
    return _json(s.ServiceOut, out)


async def create_counter(request: web.Request) -> web.Response:
    """Add a counter (closed) to the branch; the hall screen shows it within seconds."""
    actor = await current_user(request)
    branch_id = _path_id(request, "branch_id")
    body = await validation.json_body(request, s.CounterCreate)
    out = await config.create_counter(
        request.app[POOL], request.app[CLOCK](), actor, branch_id, body.model_dump(exclude_none=True)
    )
    return _json(s.CounterOut, out, status=201)


async def update_counter(request: web.Request) -> web.Response:
    """Change a counter (name, zone, services in order of preference), or delete it."""
    actor = await current_user(request)
    counter_id = _path_id(request, "counter_id")
    body = await validation.json_body(request, s.CounterPatch)
    changes = body.model_dump(exclude_none=True)
    out = await config.update_counter(request.app[POOL], request.app[CLOCK](), actor, counter_id, changes)
    return _json(s.CounterOut, out)


async def export_yaml(request: web.Request) -> web.Response:
    """The live configuration of the branch as a hall file (YAML) the loader accepts; no users."""
    actor = await current_user(request)
    branch_id = _path_id(request, "branch_id")
    actor.require_role(branch_id, *config.MASTER_DATA_ROLES, *config.SUPERVISING_ROLES)
    doc = await config.export_hall(request.app[POOL], branch_id)
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    return web.Response(text=text, content_type="application/yaml", charset="utf-8")


def operations() -> list[Operation]:
    """The master-data routes with their contracts."""
    v = _validated
    return [
        Operation("POST", "/api/v1/branches/{branch_id}/agencies", v(create_agency), "Add an agency",
                  ("master data",), (_BRANCH,), body=s.AgencyCreate,
                  responses={201: Content(s.AgencyOut, description="Created")}, problems=_PROBLEMS,
                  secured=True),
        Operation("POST", "/api/v1/branches/{branch_id}/services", v(create_service), "Add a service",
                  ("master data",), (_BRANCH,), body=s.ServiceCreate,
                  responses={201: Content(s.ServiceOut, description="Created")}, problems=_PROBLEMS,
                  secured=True),
        Operation("POST", "/api/v1/branches/{branch_id}/counters", v(create_counter), "Add a counter",
                  ("master data",), (_BRANCH,), body=s.CounterCreate,
                  responses={201: Content(s.CounterOut, description="Created")}, problems=_PROBLEMS,
                  secured=True),
        Operation("PATCH", "/api/v1/services/{service_id}", v(update_service),
                  "Change or delete a service (its history stays)", ("master data",), (_SERVICE,),
                  body=s.ServicePatch, responses={200: Content(s.ServiceOut)}, problems=_PROBLEMS,
                  secured=True),
        Operation("PATCH", "/api/v1/counters/{counter_id}", v(update_counter),
                  "Change or delete a counter (its history stays)", ("master data",), (_COUNTER,),
                  body=s.CounterPatch, responses={200: Content(s.CounterOut)}, problems=_PROBLEMS,
                  secured=True),
        Operation("GET", "/api/v1/branches/{branch_id}/export.yaml", v(export_yaml),
                  "The live configuration as a hall file (YAML)", ("master data",), (_BRANCH,),
                  responses={200: Content(media_type="application/yaml", description="A hall file")},
                  problems=(401, 403, 404, 503), secured=True),
    ]  # fmt: skip
