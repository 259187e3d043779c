"""Responses checked against the service's own ``/openapi.json``, by an independent validator.

:class:`Contract` finds the documented operation of a request, then checks the
response's status, media type and body (with ``jsonschema``, not pydantic,
which wrote the schemas). :func:`checking` is an aiohttp client middleware that
checks every response a test client receives.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import ClientHandlerType, ClientRequest, ClientResponse, web
from jsonschema import Draft202012Validator

ClientMiddleware = Callable[[ClientRequest, ClientHandlerType], Awaitable[ClientResponse]]


def _template_regex(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", path)
    return re.compile("^" + "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$")


class Contract:
    """The operations of one OpenAPI document, and a check of responses against them."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        # Literal paths before templated ones: /counter is not /counter/{id}.
        self.paths = sorted(doc["paths"], key=lambda p: (p.count("{"), p))
        self.regexes = {p: _template_regex(p) for p in self.paths}
        self.checked: set[tuple[str, str, int]] = set()

    def operation(self, method: str, path: str) -> tuple[str | None, dict[str, Any] | None]:
        """The documented path template and operation of a request (None, None when unknown)."""
        for template in self.paths:
            if self.regexes[template].match(path):
                return template, self.doc["paths"][template].get(method.lower())
        return None, None

    def check(self, method: str, path: str, status: int, media_type: str, body: bytes) -> None:
        """Fail unless the response is what the document promises for this request."""
        template, op = self.operation(method, path)
        if template is None or op is None:  # an unknown route or method: only a 404 or 405 problem
            assert status in (404, 405), f"{method} {path} is undocumented but answered {status}"
            assert media_type == "application/problem+json", media_type
            self._validate({"$ref": "#/components/schemas/Problem"}, body, f"{method} {path}")
            return
        where = f"{method} {template} -> {status}"
        response = op["responses"].get(str(status))
        assert response is not None, f"{where}: status not documented"
        self.checked.add((method, template, status))
        content = response.get("content")
        if not content:
            assert body == b"", f"{where}: documented without a body, got {body[:100]!r}"
            return
        if media_type not in content and "*/*" in content:  # a file route: any media type
            media_type = "*/*"
        assert media_type in content, f"{where}: {media_type} not in {sorted(content)}"
        schema = content[media_type].get("schema")
        if schema is not None:
            self._validate(schema, body, where)

    def _validate(self, schema: dict[str, Any], body: bytes, where: str) -> None:
        validator = Draft202012Validator(
            {**schema, "components": self.doc["components"]},
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        errors = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(json.loads(body))
        ]
        assert not errors, f"{where}: body does not match its schema: {errors[:5]}"


class ContractHolder:
    """A contract set once the server runs (its document is read through the same client)."""

    def __init__(self) -> None:
        self.contract: Contract | None = None

    def middleware(self) -> ClientMiddleware:
        """A client middleware checking each response once the contract is known."""

        async def check(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
            response = await handler(request)
            if self.contract is not None:
                body = await response.read()
                self.contract.check(
                    request.method, request.url.path, response.status, response.content_type, body
                )
            return response

        return check


def served_routes(app: web.Application) -> set[tuple[str, str]]:
    """(path template, method) of every route on the router; a static directory as ``prefix/{filename}``."""
    served = set()
    for route in app.router.routes():
        if route.method == "HEAD":
            continue
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or f"{info['prefix']}/{{filename}}"
        served.add((path, route.method))
    return served


def documented_routes(doc: dict[str, Any]) -> set[tuple[str, str]]:
    """(path template, method) of every operation in an OpenAPI document."""
    return {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
