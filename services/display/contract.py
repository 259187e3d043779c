"""The HTTP contract of the display service, published at ``/openapi.json``.

The routes are registered in :mod:`services.display.app`; they are listed here
once more, with their responses, for the generated OpenAPI document (a test
compares the two both ways). The websocket protocol itself is described in
docs, not here: ``/ws/{branch_id}`` over plain HTTP only answers a problem.
"""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from services.platform import openapi
from services.platform.openapi import Content, Operation, Param


class ScreenSnapshot(BaseModel):
    """What a screen starts from: the hall, the counters, the latest calls and the waiting counts."""

    model_config = ConfigDict(extra="allow")

    type: Literal["snapshot"]
    seq: int
    branch_id: str
    business_date: str
    zone: str | None
    hall: dict[str, Any]
    counters: list[dict[str, Any]]
    calls: list[dict[str, Any]]
    waiting: dict[str, Any]
    counters_open: int


_BRANCH = Param("branch_id", "path", {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"})
_ZONE = Param("zone", "query", {"type": "string"}, required=False, description="only this zone's counters")


def _get(
    path: str, summary: str, content: Content, *params: Param, problems: tuple[int, ...] = ()
) -> Operation:
    return Operation(
        "GET", path, None, summary, ("display",), params, responses={200: content}, problems=problems
    )


OPERATIONS = [
    openapi.health("/healthz", "Alive"),
    openapi.health(
        "/readyz", "Ready when Kafka answers and today's state is rebuilt (503 names what is not)"
    ),
    _get("/metrics", "Prometheus exposition", Content(media_type="text/plain")),
    _get("/display/{branch_id}", "The hall page", Content(media_type="text/html"), _BRANCH, problems=(404,)),
    _get(
        "/api/v1/branches/{branch_id}/screen",
        "The snapshot a screen starts from, as JSON",
        Content(ScreenSnapshot),
        _BRANCH,
        _ZONE,
        problems=(400, 404, 503),
    ),
    _get(
        "/audio/{audio_id}.wav",
        "An announcement as WAV, synthesized once and cached",
        Content(media_type="audio/wav"),
        Param("audio_id", "path", {"type": "string", "pattern": "^[0-9a-f]+$"}),
        problems=(404, 503),
    ),
    _get(
        "/ws/{branch_id}",
        "The screen's websocket (a websocket upgrade; plain HTTP gets a problem)",
        Content(media_type="", description="Switching protocols"),
        _BRANCH,
        problems=(400, 404, 426),
    ),
    _get(
        "/static/{filename}",
        "The hall page's script and stylesheet",
        Content(media_type="text/css", alternatives=("text/javascript", "text/html")),
        Param("filename", "path", {"type": "string"}),
        problems=(404,),
    ),
]


def add_documentation(app: web.Application) -> None:
    """Document the routes :mod:`services.display.app` registers and serve ``/openapi.json``."""
    openapi.register(app, OPERATIONS)
    openapi.serve(
        app, title="Antrian display", version="1.0.0", description="The hall screens of each branch."
    )
