"""The ticketing service's domain errors as RFC 9457 problem documents.

The platform's edge middleware (:mod:`services.platform.http`) handles
everything else: aiohttp's HTTP errors, a lost database (503 with
``Retry-After``), request timing and the 500 of last resort.
"""

from __future__ import annotations

import logging
from typing import Any, cast

import asyncpg
from aiohttp import web

from services.platform.problems import problem
from services.ticketing.domain.throttle import retry_after_header
from services.ticketing.errors import TicketingError, TooManyRequests

log = logging.getLogger(__name__)

__all__ = ["from_error", "problem", "translate"]


def from_error(exc: TicketingError) -> web.Response:
    """The problem response for one of the service's errors."""
    response = problem(
        exc.status, exc.title, exc.detail, slug=exc.type_slug, **cast(dict[str, Any], exc.extensions())
    )
    if response.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="antrian"'
    if isinstance(exc, TooManyRequests):
        response.headers["Retry-After"] = retry_after_header(exc.retry_after)
    return response


def translate(exc: Exception) -> web.Response | None:
    """The answer to a domain error, or ``None`` to let the platform decide."""
    if isinstance(exc, TicketingError):
        return from_error(exc)
    if isinstance(exc, asyncpg.DataError):  # a value PostgreSQL cannot store; the edge should catch it first
        log.warning("value refused by the database: %s", exc)
        return problem(422, "Invalid request", "a value in the request is not acceptable")
    return None
