"""One log format for every service, with context bound per request or event.

Only a service's ``__main__`` calls :func:`configure`. Modules log through
``logging.getLogger(__name__)``; the fields bound with :func:`bind` (branch,
ticket, counter, request_id, ...) ride along in every line logged inside that
context, because they live in a :class:`contextvars.ContextVar` that asyncio
copies into each task.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

CONTEXT_FIELDS = ("branch", "ticket", "counter", "request_id")

_context: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("antrian_log_context", default={})  # noqa: B039  (never mutated)


@contextlib.contextmanager
def bind(**fields: object) -> Iterator[None]:
    """Add ``fields`` (``None`` values skipped) to every line logged inside the block."""
    added = {name: str(value) for name, value in fields.items() if value is not None}
    token = _context.set({**_context.get(), **added})
    try:
        yield
    finally:
        _context.reset(token)


def context() -> dict[str, str]:
    """The fields bound now."""
    return dict(_context.get())


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, service, bound context, exception."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "service": self._service,
        }
        entry.update(_context.get())
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Readable lines for a terminal, the bound context appended as ``key=value``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """The record as one readable line (plus a traceback when there is one)."""
        line = super().format(record)
        bound = _context.get()
        if not bound:
            return line
        head, sep, rest = line.partition("\n")
        return head + " " + " ".join(f"{k}={v}" for k, v in bound.items()) + sep + rest


def configure(service: str, log_format: str | None) -> None:
    """Install the process's one handler: JSON lines unless ``text`` is asked or stderr is a terminal."""
    handler = logging.StreamHandler(sys.stderr)
    fmt = log_format or ("text" if sys.stderr.isatty() else "json")
    handler.setFormatter(JsonFormatter(service) if fmt == "json" else TextFormatter())
    level = os.environ.get("ANTRIAN_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for noisy in ("aiokafka", "websockets"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
