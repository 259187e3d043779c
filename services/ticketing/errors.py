"""Errors of the ticketing service.

One root, :class:`TicketingError`; the HTTP edge turns each kind into a problem
details response (RFC 9457)::

    TicketingError
    ├── InvalidRequest       422  a value the caller sent is not acceptable
    │   └── MalformedRequest 400  a body that is not JSON, or not the right shape at all
    ├── NotFound             404  an unknown ticket, branch, service or counter
    ├── Unauthorized         401  no valid bearer token
    ├── Forbidden            403  a valid user without the right to do this
    ├── Conflict             409  the state of things does not allow it
    │   ├── IllegalTransition     a move the ticket or counter state machine refuses
    │   └── IssuingRefused        quota, opening hours, breaks, holidays, cut-off
    └── HallFileError             a hall file that cannot be loaded (seed command)

This module is pure: it imports no I/O library.
"""

from __future__ import annotations

import math
from datetime import datetime


class TicketingError(Exception):
    """Root of every error the ticketing service raises on purpose."""

    status = 500
    title = "Internal error"
    type_slug = "internal"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def extensions(self) -> dict[str, object]:
        """Extra members of the problem document (RFC 9457 extension members)."""
        return {}


class InvalidRequest(TicketingError):
    """A value the caller sent is not acceptable."""

    status = 422
    title = "Invalid request"
    type_slug = "invalid-request"


class MalformedRequest(InvalidRequest):
    """A body that is not JSON or not an object."""

    status = 400
    title = "Malformed request"
    type_slug = "malformed-request"


class NotFound(TicketingError):
    """An id that names nothing."""

    status = 404
    title = "Not found"
    type_slug = "not-found"


class Unauthorized(TicketingError):
    """No valid bearer token."""

    status = 401
    title = "Unauthorized"
    type_slug = "unauthorized"


class Forbidden(TicketingError):
    """A user who may not do this."""

    status = 403
    title = "Forbidden"
    type_slug = "forbidden"


class Conflict(TicketingError):
    """The current state does not allow the request."""

    status = 409
    title = "Conflict"
    type_slug = "conflict"


class IllegalTransition(Conflict):
    """A move the ticket or counter state machine refuses."""

    title = "Illegal state transition"
    type_slug = "illegal-transition"


class IssuingRefused(Conflict):
    """No ticket can be issued now; ``reason`` says why and ``retry_at`` when to come back."""

    title = "Ticket cannot be issued now"
    type_slug = "issuing-refused"

    def __init__(self, detail: str, *, reason: str, retry_at: datetime | None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.retry_at = retry_at

    def extensions(self) -> dict[str, object]:
        """The reason code and, when known, the moment issuing resumes."""
        return {
            "reason": self.reason,
            "retry_at": self.retry_at.isoformat() if self.retry_at is not None else None,
        }


class HallFileError(TicketingError):
    """A hall file that cannot be loaded."""

    status = 422
    title = "Invalid hall file"
    type_slug = "hall-file"


class TooManyRequests(TicketingError):
    """A caller over its limit; ``retry_after`` seconds until it may try again."""

    status = 429
    title = "Too many requests"
    type_slug = "too-many-requests"

    def __init__(self, detail: str, *, retry_after: float) -> None:
        super().__init__(detail)
        self.retry_after = retry_after

    def extensions(self) -> dict[str, object]:
        """How long to wait, also sent as the ``Retry-After`` header."""
        return {"retry_after": max(1, math.ceil(self.retry_after))}
