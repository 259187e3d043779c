"""Request bodies parsed through pydantic models, with errors an HTTP edge can answer.

:func:`json_body` reads a request's body into a model. What can go wrong is
one of three :class:`RequestError` kinds, each the material of an RFC 9457
problem: a body that is not ``application/json`` (415), one that is not a JSON
object at all (400), and values the model refuses (422, with ``errors``
naming each offending field by its JSON pointer). The edge turns them into
problem documents with its own helper; this module writes no response.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

JSON_MEDIA_TYPE = "application/json"

M = TypeVar("M", bound=BaseModel)


class RequestError(Exception):
    """A request the edge refuses; ``status``, ``title``, ``slug`` and ``errors`` make its problem."""

    status = 400
    title = "Malformed request"
    slug = "malformed-request"

    def __init__(self, detail: str, errors: Sequence[dict[str, str]] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)

    def extensions(self) -> dict[str, Any]:
        """Extra members of the problem document: the offending fields, when there are any."""
        return {"errors": self.errors} if self.errors else {}


class MalformedBody(RequestError):
    """Not JSON, or JSON that is not an object (400)."""


class UnsupportedMediaType(RequestError):
    """A body sent as anything but ``application/json`` (415)."""

    status = 415
    title = "Unsupported media type"
    slug = "unsupported-media-type"


class InvalidFields(RequestError):
    """Values the model refuses (422); ``errors`` holds one entry per field."""

    status = 422
    title = "Invalid request"
    slug = "invalid-request"


def pointer(location: Sequence[int | str]) -> str:
    """The JSON pointer (RFC 6901) of a pydantic error location: ``("scores", 3)`` is ``/scores/3``."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in location)


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    """One ``{"pointer", "detail"}`` per error pydantic found."""
    return [{"pointer": pointer(e["loc"]), "detail": e["msg"]} for e in exc.errors(include_url=False)]


def require_json(request: web.Request, raw: bytes) -> None:
    """UnsupportedMediaType when a body is present and not declared ``application/json``."""
    if raw and request.content_type != JSON_MEDIA_TYPE:
        raise UnsupportedMediaType(
            f"the body must be sent as Content-Type: {JSON_MEDIA_TYPE}, not {request.content_type!r}"
        )


async def no_body(request: web.Request) -> None:
    """For operations that take no body: refuse one that is not JSON (a form posted from another site)."""
    require_json(request, await request.read())


async def json_body(request: web.Request, model: type[M], *, required: bool = True) -> M:
    """The request's JSON object body as ``model``; an empty optional body gives the model's defaults."""
    raw = await request.read()
    if required and not raw.strip():
        require_json(request, b" ")
        raise MalformedBody("a JSON object body is required")
    require_json(request, raw)
    try:
        return model.model_validate_json(raw if raw.strip() else b"{}")
    except ValidationError as exc:
        raise _classify(exc) from None
    except RecursionError:
        raise MalformedBody("the body is nested too deeply") from None


def _classify(exc: ValidationError) -> RequestError:
    """400 when the body is not a JSON object at all, 422 naming each field otherwise."""
    errors = exc.errors(include_url=False)
    if any(e["type"] == "json_invalid" for e in errors):
        return MalformedBody(f"the body is not valid JSON: {errors[0]['msg']}")
    if any(not e["loc"] for e in errors):
        return MalformedBody("the body must be a JSON object")
    fields = field_errors(exc)
    summary = "; ".join(f"{f['pointer']}: {f['detail']}" for f in fields[:5])
    return InvalidFields(summary, fields)


def validate_param(name: str, value: str | None, model: type[M]) -> M:
    """A header or query value checked by a one-field ``model``; InvalidFields naming the parameter."""
    try:
        return model.model_validate({"value": value})
    except ValidationError as exc:
        errors = [{"parameter": name, "detail": e["msg"]} for e in exc.errors(include_url=False)]
        raise InvalidFields(f"{name}: {errors[0]['detail']}", errors) from None
