"""The OpenAPI 3.1 document of the ticketing service, written by hand.

A test compares its paths and methods with the application's router both ways,
so a route cannot go undocumented and a documented route cannot vanish.
"""

from __future__ import annotations

from typing import Any

PROBLEM = {"$ref": "#/components/schemas/Problem"}
_TICKET_ID = {
    "name": "ticket_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}
_COUNTER_ID = {"name": "counter_id", "in": "path", "required": True, "schema": {"type": "string"}}
_BRANCH_ID = {"name": "branch_id", "in": "path", "required": True, "schema": {"type": "string"}}
_BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


def _problems(*codes: int) -> dict[str, Any]:
    return {
        str(code): {
            "description": "Problem details (RFC 9457)",
            "content": {"application/problem+json": {"schema": PROBLEM}},
        }
        for code in codes
    }


def _ok(ref: str, code: int = 200, description: str = "OK") -> dict[str, Any]:
    return {
        str(code): {"description": description, "content": {"application/json": {"schema": {"$ref": ref}}}}
    }


def _body(schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def _ticket_action(summary: str, *, body: dict[str, Any] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "tags": ["counters"],
        "security": _BEARER,
        "parameters": [_COUNTER_ID],
        "responses": {**_ok("#/components/schemas/Ticket"), **_problems(400, 401, 403, 404, 409, 422)},
    }
    if body is not None:
        op["requestBody"] = body
    return {"post": op}


def _counter_action(summary: str) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "tags": ["counters"],
            "security": _BEARER,
            "parameters": [_COUNTER_ID],
            "responses": {**_ok("#/components/schemas/Counter"), **_problems(401, 403, 404, 409)},
        }
    }


def _plain(summary: str, content_type: str = "application/json") -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "tags": ["operations"],
            "responses": {"200": {"description": "OK", "content": {content_type: {}}}},
        }
    }


def _page(summary: str, *parameters: dict[str, Any]) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "tags": ["pages"],
            "parameters": list(parameters),
            "responses": {"200": {"description": "HTML page", "content": {"text/html": {}}}},
        }
    }


_SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "reason": {
                "type": "string",
                "description": "why issuing was refused: quota, closed, break, holiday, cutoff, not_open_yet",
            },
            "retry_at": {
                "type": ["string", "null"],
                "format": "date-time",
                "description": "when issuing resumes",
            },
        },
    },
    "Ticket": {
        "type": "object",
        "required": ["id", "number", "status", "issued_at", "position", "estimated_wait_seconds"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "number": {"type": "string", "examples": ["A012"]},
            "status": {"enum": ["waiting", "called", "serving", "completed", "no_show", "cancelled"]},
            "branch_id": {"type": "string"},
            "business_date": {"type": "string", "format": "date"},
            "service_id": {"type": "string"},
            "service_name": {"type": "string"},
            "agency_id": {"type": "string"},
            "agency_name": {"type": "string"},
            "priority": {"type": "boolean"},
            "priority_group": {"enum": [None, "lansia", "disabilitas", "ibu_hamil"]},
            "channel": {"enum": ["kiosk", "online"]},
            "issued_at": {"type": "string", "format": "date-time"},
            "called_at": {"type": ["string", "null"], "format": "date-time"},
            "serving_at": {"type": ["string", "null"], "format": "date-time"},
            "completed_at": {"type": ["string", "null"], "format": "date-time"},
            "counter_id": {"type": ["string", "null"]},
            "counter_name": {"type": ["string", "null"]},
            "recall_count": {"type": "integer"},
            "cancel_reason": {
                "enum": [None, "citizen", "day_closed"],
                "description": "why a cancelled ticket was cancelled: the citizen cancelled it, or it was"
                " still waiting when its business day ended (null unless cancelled)",
            },
            "position": {"type": "integer", "description": "1 = next in line; 0 when not waiting"},
            "estimated_wait_seconds": {"type": "integer"},
            "estimated_wait_at_issue_seconds": {"type": "integer"},
        },
    },
    "IssueTicket": {
        "type": "object",
        "required": ["service_id"],
        "properties": {
            "service_id": {"type": "string"},
            "channel": {"enum": ["kiosk", "online"], "default": "kiosk"},
            "priority": {"type": "boolean", "default": False},
            "priority_group": {"enum": [None, "lansia", "disabilitas", "ibu_hamil"]},
        },
    },
    "Counter": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "branch_id": {"type": "string"},
            "name": {"type": "string"},
            "zone": {"type": "string"},
            "service_ids": {"type": "array", "items": {"type": "string"}},
            "status": {"enum": ["open", "paused", "closed"]},
            "active_ticket_id": {"type": ["string", "null"]},
        },
    },
    "Branch": {
        "type": "object",
        "required": ["id", "name", "timezone"],
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "timezone": {"type": "string", "examples": ["Asia/Makassar"]},
            "agencies": {"type": "array", "items": {"type": "object"}},
            "services": {"type": "array", "items": {"type": "object"}},
            "counters": {"type": "array", "items": {"$ref": "#/components/schemas/Counter"}},
        },
    },
    "BranchList": {
        "type": "object",
        "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Branch"}}},
    },
    "Queue": {
        "type": "object",
        "properties": {
            "branch_id": {"type": "string"},
            "business_date": {"type": "string", "format": "date"},
            "waiting": {"type": "integer"},
            "services": {"type": "array", "items": {"type": "object"}},
        },
    },
    "Survey": {
        "type": "object",
        "required": ["scores"],
        "properties": {
            "scores": {
                "type": "array",
                "items": {"type": "integer", "minimum": 1, "maximum": 4},
                "minItems": 9,
                "maxItems": 9,
            }
        },
    },
    "Login": {
        "type": "object",
        "required": ["username", "password"],
        "properties": {"username": {"type": "string"}, "password": {"type": "string", "format": "password"}},
    },
    "Token": {
        "type": "object",
        "properties": {
            "token": {"type": "string"},
            "token_type": {"const": "Bearer"},
            "expires_at": {"type": "string", "format": "date-time"},
        },
    },
}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document."""
    paths: dict[str, Any] = {
        "/healthz": _plain("Alive"),
        "/readyz": _plain("Ready when PostgreSQL answers (503 problem otherwise); reports Kafka"),
        "/metrics": _plain("Prometheus exposition", "text/plain"),
        "/openapi.json": _plain("This document"),
        "/kiosk/{branch_id}": _page("Kiosk page: choose a service, take a ticket", _BRANCH_ID),
        "/counter": _page("Counter client page for operators"),
        "/t/{ticket_id}": _page("Citizen's ticket page: live status, cancel, survey", _TICKET_ID),
        "/static/common.css": _plain("The pages' stylesheet", "text/css"),
        **{
            f"/static/{page}.{ext}": _plain(f"The {page} page's {what}", media)
            for page in ("kiosk", "counter", "ticket")
            for ext, what, media in (("css", "stylesheet", "text/css"), ("js", "script", "text/javascript"))
        },
        "/api/v1/auth/login": {
            "post": {
                "summary": "Log in an operator or admin",
                "tags": ["auth"],
                "requestBody": _body({"$ref": "#/components/schemas/Login"}),
                "responses": {**_ok("#/components/schemas/Token"), **_problems(400, 401, 422)},
            }
        },
        "/api/v1/branches": {
            "get": {
                "summary": "Every branch",
                "tags": ["branches"],
                "responses": _ok("#/components/schemas/BranchList"),
            }
        },
        "/api/v1/branches/{branch_id}": {
            "get": {
                "summary": "A branch with its agencies, services and counters",
                "tags": ["branches"],
                "parameters": [_BRANCH_ID],
                "responses": {**_ok("#/components/schemas/Branch"), **_problems(404)},
            }
        },
        "/api/v1/branches/{branch_id}/queue": {
            "get": {
                "summary": "Waiting counts per service today",
                "tags": ["branches"],
                "parameters": [_BRANCH_ID],
                "responses": {**_ok("#/components/schemas/Queue"), **_problems(404)},
            }
        },
        "/api/v1/branches/{branch_id}/tickets": {
            "post": {
                "summary": "Take a ticket (public). A repeated Idempotency-Key returns the same ticket.",
                "tags": ["tickets"],
                "parameters": [
                    _BRANCH_ID,
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "maxLength": 200},
                    },
                ],
                "requestBody": _body({"$ref": "#/components/schemas/IssueTicket"}),
                "responses": {
                    **_ok("#/components/schemas/Ticket", 201, "Issued (or replayed)"),
                    **_problems(400, 404, 409, 413, 422),
                },
            }
        },
        "/api/v1/tickets/{ticket_id}": {
            "get": {
                "summary": "A ticket as it stands now, with live position and wait estimate",
                "tags": ["tickets"],
                "parameters": [_TICKET_ID],
                "responses": {**_ok("#/components/schemas/Ticket"), **_problems(404)},
            }
        },
        "/api/v1/tickets/{ticket_id}/qr.svg": {
            "get": {
                "summary": "A QR code (SVG) of the link to the citizen's ticket page, for the printed ticket",
                "tags": ["tickets"],
                "parameters": [_TICKET_ID],
                "responses": {
                    "200": {"description": "SVG image", "content": {"image/svg+xml": {}}},
                    **_problems(404),
                },
            }
        },
        "/api/v1/tickets/{ticket_id}/cancel": {
            "post": {
                "summary": "The citizen cancels a waiting ticket",
                "tags": ["tickets"],
                "parameters": [_TICKET_ID],
                "responses": {**_ok("#/components/schemas/Ticket"), **_problems(404, 409)},
            }
        },
        "/api/v1/tickets/{ticket_id}/survey": {
            "post": {
                "summary": "Rate a completed ticket (IKM, nine elements scored 1-4), once",
                "tags": ["tickets"],
                "parameters": [_TICKET_ID],
                "requestBody": _body({"$ref": "#/components/schemas/Survey"}),
                "responses": {"201": {"description": "Recorded"}, **_problems(400, 404, 409, 422)},
            }
        },
        "/api/v1/counters/{counter_id}": {
            "get": {
                "summary": "A counter and its active ticket",
                "tags": ["counters"],
                "parameters": [_COUNTER_ID],
                "responses": {**_ok("#/components/schemas/Counter"), **_problems(404)},
            }
        },
        "/api/v1/counters/{counter_id}/call-next": {
            "post": {
                "summary": "Call the next ticket (an admin may name a ticket_id; recorded as forced)",
                "tags": ["counters"],
                "security": _BEARER,
                "parameters": [_COUNTER_ID],
                "requestBody": _body(
                    {"type": "object", "properties": {"ticket_id": {"type": "string", "format": "uuid"}}},
                    required=False,
                ),
                "responses": {
                    **_ok("#/components/schemas/Ticket"),
                    "204": {"description": "Nobody waits for this counter's services"},
                    **_problems(400, 401, 403, 404, 409, 422),
                },
            }
        },
        "/api/v1/counters/{counter_id}/recall": _ticket_action("Recall the active ticket"),
        "/api/v1/counters/{counter_id}/start": _ticket_action("The citizen arrived: start serving"),
        "/api/v1/counters/{counter_id}/complete": _ticket_action("Complete the active ticket"),
        "/api/v1/counters/{counter_id}/no-show": _ticket_action(
            "Mark a no-show (after enough recalls and time)"
        ),
        "/api/v1/counters/{counter_id}/transfer": _ticket_action(
            "Transfer the ticket to another service; it keeps its number and place",
            body=_body(
                {
                    "type": "object",
                    "required": ["service_id"],
                    "properties": {"service_id": {"type": "string"}},
                }
            ),
        ),
        "/api/v1/counters/{counter_id}/open": _counter_action("Open the counter"),
        "/api/v1/counters/{counter_id}/pause": _counter_action("Pause the counter"),
        "/api/v1/counters/{counter_id}/close": _counter_action("Close the counter"),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Antrian ticketing",
            "version": "1.0.0",
            "description": (
                "Tickets, counters and queues of Mal Pelayanan Publik halls. "
                "Errors are RFC 9457 problem details."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": _SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "from POST /api/v1/auth/login"}
            },
        },
    }
