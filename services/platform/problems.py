"""RFC 9457 problem documents, the one shape every error leaves a service in.

Every 503 carries ``Retry-After``: a client (or a load balancer) learns when
to come back instead of hammering a service whose database is restarting.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

PROBLEM_TYPE = "application/problem+json"
TYPE_BASE = "urn:antrian:problem:"
RETRY_AFTER_SECONDS = 5


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    slug: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> web.Response:
    """A problem details response (``type`` is ``urn:antrian:problem:<slug>`` or ``about:blank``)."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug if slug else "about:blank",
        "title": title,
        "status": status,
    }
    if detail is not None:
        body["detail"] = detail
    body.update(extra)
    response = web.Response(
        status=status,
        text=json.dumps(body, ensure_ascii=False),
        content_type=PROBLEM_TYPE,
        charset="utf-8",
        headers=headers,
    )
    if status == 503 and "Retry-After" not in response.headers:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def unavailable(detail: str, *, retry_after: int = RETRY_AFTER_SECONDS, **extra: Any) -> web.Response:
    """503 Service Unavailable with ``Retry-After``."""
    return problem(503, "Service Unavailable", detail, headers={"Retry-After": str(retry_after)}, **extra)
