"""Live pages: server-sent events of a branch's changes, pushed as soon as they commit.

Why server-sent events from ticketing rather than the display's websocket:
the pages are served by ticketing under a strict CSP (``connect-src 'self'``),
so a same-origin stream needs no widening of it and no origin allow-list on
the display; the browser's ``EventSource`` reconnects by itself after a
ticketing restart (``retry:``); and the hint arrives after the change is
committed in PostgreSQL, so the refetch it triggers always sees the change
(the Kafka path to the display may lag behind).

Every outbox insert fires ``pg_notify('antrian_live', …)`` (migration 008),
delivered when its transaction commits, to every ticketing replica that
listens; :class:`LiveHub` holds one listening connection per process and
fans the hints out to the streams of that branch. A hint is public (the
event type, the ticket number, the counter and service ids: what the hall
screen shows anyway); pages refetch the details through the API.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from typing import Any

import asyncpg
from aiohttp import web

from services.platform.backoff import Backoff

log = logging.getLogger(__name__)

CHANNEL = "antrian_live"
KEEPALIVE_SECONDS = 15.0
RETRY_MILLISECONDS = 2000
QUEUE_SIZE = 256


class LiveHub:
    """One LISTEN connection; a bounded queue per open stream, by branch."""

    def __init__(self, dsn: str, schema: str) -> None:
        self._dsn = dsn
        self._schema = schema
        self._streams: dict[str, set[asyncio.Queue[dict[str, Any] | None]]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def start(self) -> None:
        """Listen in the background (reconnecting after a database outage)."""
        self._task = asyncio.create_task(self._run(), name="ticketing-live")

    def end_streams(self) -> None:
        """End every open stream (on shutdown, before the server waits for its handlers)."""
        for queues in self._streams.values():
            for queue in queues:
                _drain(queue)
                queue.put_nowait(None)

    async def stop(self) -> None:
        """Stop listening and end every stream."""
        self._stop.set()
        self.end_streams()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def subscribe(self, branch_id: str) -> asyncio.Queue[dict[str, Any] | None]:
        """A new stream's queue of hints for ``branch_id``."""
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE_SIZE)
        self._streams[branch_id].add(queue)
        return queue

    def unsubscribe(self, branch_id: str, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        """Forget a closed stream."""
        self._streams[branch_id].discard(queue)
        if not self._streams[branch_id]:
            del self._streams[branch_id]

    def publish(self, hint: dict[str, Any]) -> None:
        """Hand ``hint`` to every stream of its branch; a stream that lags gets a resync instead."""
        for queue in list(self._streams.get(str(hint.get("branch_id")), ())):
            try:
                queue.put_nowait(hint)
            except asyncio.QueueFull:
                _drain(queue)
                queue.put_nowait({"type": "resync", "branch_id": hint.get("branch_id")})

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            hint = json.loads(payload)
        except ValueError:
            log.warning("live: a notification that is not JSON was ignored")
            return
        if isinstance(hint, dict) and hint.pop("schema", None) == self._schema:
            self.publish(hint)

    def _resync_all(self) -> None:
        for branch_id in list(self._streams):
            self.publish({"type": "resync", "branch_id": branch_id})

    async def _run(self) -> None:
        backoff = Backoff()
        while not self._stop.is_set():
            try:
                conn = await asyncpg.connect(self._dsn)
                try:
                    await conn.add_listener(CHANNEL, self._notified)
                    backoff.reset()
                    self._resync_all()  # whatever happened while we were not listening
                    while not self._stop.is_set() and not conn.is_closed():
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._stop.wait(), timeout=5)
                finally:
                    with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                        await conn.close(timeout=2)
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
                delay = backoff.next()
                log.warning("live: cannot listen (%r); again in %.1fs", exc, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=delay)


HUB: web.AppKey[LiveHub] = web.AppKey("live_hub", LiveHub)


def _drain(queue: asyncio.Queue[Any]) -> None:
    while not queue.empty():
        queue.get_nowait()


def _frame(hint: dict[str, Any]) -> bytes:
    return f"event: change\ndata: {json.dumps(hint, ensure_ascii=False)}\n\n".encode()


async def stream(request: web.Request, hub: LiveHub, branch_id: str) -> web.StreamResponse:
    """Stream ``branch_id``'s hints as ``text/event-stream`` until the client or the server leaves."""
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    queue = hub.subscribe(branch_id)
    try:
        await response.write(f"retry: {RETRY_MILLISECONDS}\nevent: ready\ndata: {{}}\n\n".encode())
        while True:
            try:
                hint = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_SECONDS)
            except TimeoutError:
                await response.write(b": keepalive\n\n")
                continue
            if hint is None:
                break
            await response.write(_frame(hint))
    except ConnectionResetError:
        log.debug("live: a stream of %s closed by the client", branch_id)
    finally:
        hub.unsubscribe(branch_id, queue)
    return response
