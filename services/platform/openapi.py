"""OpenAPI 3.1 documents generated from pydantic models and a service's operations.

A service lists its HTTP operations once, as :class:`Operation` values: the
method, the route pattern, the handler, the request and response models. From
that one list :func:`register` adds the routes to the aiohttp router and
:func:`document` writes the OpenAPI document; the JSON Schemas of the bodies
come from the models (``pydantic.json_schema``), never by hand. Routes that
another module registers (pages, health) are listed with ``handler=None`` so
that they are documented too. A test compares the router with the document
both ways.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import JsonSchemaMode, models_json_schema

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Location = Literal["path", "query", "header"]

REF_TEMPLATE = "#/components/schemas/{model}"
PROBLEM_MEDIA_TYPE = "application/problem+json"
OPERATIONS: web.AppKey[list[Operation]] = web.AppKey("openapi_operations", list)

_REASONS = {
    400: "Malformed request (not JSON, not an object)",
    401: "No valid bearer token",
    403: "Not allowed for this user",
    404: "Not found",
    409: "The current state does not allow it",
    413: "Request body too large",
    415: "Content-Type must be application/json",
    422: "A value in the request is not acceptable; `errors` names each field",
    429: "Too many requests from this address; `Retry-After` says when to try again",
    503: "A dependency (the database) does not answer; try again shortly",
}


class FieldError(BaseModel):
    """One offending value: where it is (a JSON pointer into the body, or a parameter) and why."""

    pointer: str | None = Field(default=None, description="JSON pointer (RFC 6901) into the request body")
    parameter: str | None = Field(default=None, description="the header or query parameter at fault")
    detail: str


class Problem(BaseModel):
    """An RFC 9457 problem document; extension members are allowed."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str
    title: str
    status: int
    detail: str = ""
    errors: list[FieldError] | None = Field(default=None, description="each offending field (422 only)")


class Health(BaseModel):
    """A health or readiness answer: a status, and whatever each check reports."""

    model_config = ConfigDict(extra="allow", title="Health")

    status: str


class OpenApiDocument(BaseModel):
    """An OpenAPI 3.1 document (this one)."""

    model_config = ConfigDict(extra="allow", title="OpenApiDocument")

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]


def health(path: str, summary: str, handler: Handler | None = None) -> Operation:
    """The operation of ``/healthz`` or ``/readyz`` (a 503 problem when not ready)."""
    return Operation(
        "GET", path, handler, summary, ("operations",), responses={200: Content(Health)}, problems=(503,)
    )


@dataclass(frozen=True, slots=True)
class Param:
    """A path, query or header parameter."""

    name: str
    location: Location
    schema: Mapping[str, Any]
    required: bool = True
    description: str = ""

    def spec(self) -> dict[str, Any]:
        """The OpenAPI parameter object."""
        out: dict[str, Any] = {
            "name": self.name,
            "in": self.location,
            "required": self.required,
            "schema": dict(self.schema),
        }
        if self.description:
            out["description"] = self.description
        return out


@dataclass(frozen=True, slots=True)
class Content:
    """A response: a model as JSON, or a raw media type (HTML, SVG, text) without a model."""

    model: type[BaseModel] | None = None
    media_type: str = "application/json"
    description: str = "OK"
    headers: Mapping[str, str] = field(default_factory=dict)
    alternatives: tuple[str, ...] = ()  # other media types the same response may take (CSV, ...)


@dataclass(frozen=True, slots=True)
class Operation:
    """One HTTP operation: route, handler (None when registered elsewhere) and its contract."""

    method: str
    path: str
    handler: Handler | None
    summary: str
    tags: tuple[str, ...] = ()
    params: tuple[Param, ...] = ()
    body: type[BaseModel] | None = None
    body_required: bool = True
    responses: Mapping[int, Content] = field(default_factory=lambda: {200: Content()})
    problems: tuple[int, ...] = ()
    secured: bool = False


def register(app: web.Application, operations: Iterable[Operation]) -> None:
    """Add each operation with a handler to the router; remember all of them for :func:`document`."""
    known = app.setdefault(OPERATIONS, [])
    for op in operations:
        if op.handler is not None:
            app.router.add_route(op.method, op.path, op.handler)
        known.append(op)


def serve(app: web.Application, *, title: str, version: str, description: str) -> None:
    """Register ``GET /openapi.json``: the document of every operation registered on ``app``."""
    rendered: list[bytes] = []

    async def openapi_json(request: web.Request) -> web.Response:
        if not rendered:  # built once, on first use, when every operation is registered
            ops: list[Operation] = request.app[OPERATIONS]
            doc = document(ops, title=title, version=version, description=description)
            rendered.append(json.dumps(doc, ensure_ascii=False).encode())
        return web.Response(body=rendered[0], content_type="application/json", charset="utf-8")

    own = Operation(
        "GET",
        "/openapi.json",
        openapi_json,
        "This OpenAPI 3.1 document",
        ("operations",),
        responses={200: Content(OpenApiDocument)},
    )
    register(app, [own])


def document(
    operations: Iterable[Operation], *, title: str, version: str, description: str
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``operations``."""
    ops = list(operations)
    refs, schemas = _schemas(ops)
    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, refs)
    components: dict[str, Any] = {"schemas": schemas}
    if any(op.secured for op in ops):
        components["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "from POST /api/v1/auth/login"}
        }
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "paths": paths,
        "components": components,
    }


_Key = tuple[type[BaseModel], JsonSchemaMode]


def _schemas(ops: list[Operation]) -> tuple[dict[_Key, dict[str, Any]], dict[str, Any]]:
    """The ``$ref`` of every (model, mode) used, and the component schemas they point to."""
    wanted: dict[_Key, None] = {(Problem, "serialization"): None}
    for op in ops:
        if op.body is not None:
            wanted[(op.body, "validation")] = None
        for content in op.responses.values():
            if content.model is not None:
                wanted[(content.model, "serialization")] = None
    refs, top = models_json_schema(list(wanted), ref_template=REF_TEMPLATE)
    return {key: refs[key] for key in wanted}, dict(top.get("$defs", {}))


def _operation(op: Operation, refs: Mapping[_Key, dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "summary": op.summary,
        "operationId": _operation_id(op),
        "tags": list(op.tags),
        "responses": {str(code): _response(content, refs) for code, content in op.responses.items()},
    }
    if op.handler is not None and op.handler.__doc__:
        spec["description"] = op.handler.__doc__.strip()
    if op.params:
        spec["parameters"] = [p.spec() for p in op.params]
    if op.body is not None:
        spec["requestBody"] = {
            "required": op.body_required,
            "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
        }
    problem_ref = refs[(Problem, "serialization")]
    for code in op.problems:
        spec["responses"][str(code)] = {
            "description": _REASONS.get(code, "Problem details (RFC 9457)"),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": problem_ref}},
        }
    if op.secured:
        spec["security"] = [{"bearer": []}]
    return spec


def _response(content: Content, refs: Mapping[_Key, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"description": content.description}
    if content.model is not None:
        out["content"] = {content.media_type: {"schema": refs[(content.model, "serialization")]}}
    elif content.media_type:
        out["content"] = {content.media_type: {}}
    for media_type in content.alternatives:
        out.setdefault("content", {})[media_type] = {}
    if content.headers:
        out["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in content.headers.items()
        }
    return out


def _operation_id(op: Operation) -> str:
    words = [part.strip("{}") for part in op.path.split("/") if part and part not in ("api", "v1")]
    return "_".join([op.method.lower(), *words]).replace("-", "_").replace(".", "_") or op.method.lower()
