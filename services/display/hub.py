"""The websocket hub: ``/ws/{branch_id}[?zone=…]`` fans screen changes out to screens.

Protocol (DESIGN.md, "Websocket"): the first message is ``{"type":
"snapshot", "seq": N, …}``; then one message per change, with ``type``,
``seq``, ``number``, ``counter_id``, ``counter_name`` and, for calls and
recalls, ``announcement`` and ``audio_url``. Every change also carries
``prev_seq``: the ``seq`` of the previous message of the same stream
(branch and zone). A screen whose last seen ``seq`` is below a message's
``prev_seq`` has missed something and reconnects for a fresh snapshot;
a message whose ``seq`` it already saw is a duplicate.

Writes never wait for a screen: a message is encoded once per stream and
written to every socket with ``websockets.broadcast``. A screen whose unsent
output exceeds ``DISPLAY_CLIENT_BUFFER`` is slow or stuck and is dropped
(its socket aborted) so that it never delays anyone else; it reconnects and
resynchronises from a snapshot. A ``{"type": "heartbeat"}`` message every
``DISPLAY_PING_INTERVAL`` seconds lets a page notice a dead stream (protocol
pings are invisible to browser code); every snapshot says that interval as
``heartbeat_seconds``, and the page waits a little over two of them before it
gives a silent stream up. Screens only listen: incoming messages are
tiny (1 KiB cap), read and discarded, and a client that floods is closed.

A handshake for a branch ticketing says does not exist is refused with 404
(problem details) and leaves no state behind. While ticketing cannot tell, a
branch is served (an empty hall until events come), but at most
``MAX_UNVOUCHED`` such branches at once. A branch's stream and its
``qms_display_connections`` series go away with its last screen.
"""

from __future__ import annotations

import json
import logging
import re
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, broadcast
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.http11 import Request, Response

from services.display.metrics import DisplayMetrics
from services.display.screen import Change
from services.events.types import ID_BODY

log = logging.getLogger(__name__)

_PATH_RE = re.compile(rf"^/ws/({ID_BODY})$")
_ZONE_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
INBOUND_BURST = 10
"""Messages a screen may send in a burst (they are discarded)."""
INBOUND_PER_SECOND = 1.0

SnapshotFn = Callable[[str, str | None], dict[str, Any]]
ExistsFn = Callable[[str], Awaitable[bool | None]]
MAX_UNVOUCHED = 64
"""Most branches nobody could vouch for (ticketing unreachable) with screens at once."""


@dataclass
class _Stream:
    last_seq: int
    clients: set[ServerConnection] = field(default_factory=set)
    snapshot: str | None = None  # as sent, until the branch changes: a reconnect storm builds it once


def parse_target(path: str) -> tuple[str, str | None] | None:
    """``/ws/{branch_id}?zone=…`` → (branch, zone); None when the path or zone is invalid."""
    parts = urlsplit(path)
    match = _PATH_RE.match(parts.path)
    if match is None:
        return None
    zones = parse_qs(parts.query).get("zone", [])
    zone = zones[0] if zones else None
    if zone is not None and not _ZONE_RE.match(zone):
        return None
    return match.group(1), zone


def problem_response(status: int, title: str, detail: str, *, retry_after: int | None = None) -> Response:
    """An RFC 9457 problem details response for a refused handshake (with ``Retry-After`` if given)."""
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}).encode()
    headers = Headers(
        [
            ("Content-Type", "application/problem+json"),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),
        ]
    )
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return Response(status, title, headers, body)


def _dump(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


class Hub:
    """Streams per (branch, zone) and the screens subscribed to them."""

    def __init__(
        self,
        snapshot: SnapshotFn,
        metrics: DisplayMetrics,
        *,
        ready: Callable[[], bool],
        exists: ExistsFn,
        buffer_limit: int,
        heartbeat_seconds: int,
    ) -> None:
        self._snapshot_of = snapshot
        self._heartbeat = heartbeat_seconds
        self._exists = exists
        self._metrics = metrics
        self._ready = ready
        self._limit = buffer_limit
        self._streams: dict[str, dict[str | None, _Stream]] = {}
        self._unvouched: set[str] = set()  # streamed branches admitted while ticketing could not tell
        # A handshake's verdict, for serve(); weak so that a handshake that fails leaves nothing behind.
        self._verdicts: weakref.WeakKeyDictionary[ServerConnection, bool | None] = weakref.WeakKeyDictionary()

    async def process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Refuse a handshake for a bad path, an unknown branch, or while the state is being rebuilt."""
        target = parse_target(request.path)
        if target is None:
            return problem_response(404, "Not Found", "use /ws/{branch_id} with an optional ?zone=")
        if not self._ready():
            return problem_response(503, "Service Unavailable", "the hall state is being rebuilt; retry")
        branch_id = target[0]
        exists = await self._exists(branch_id)
        if exists is False:
            return problem_response(404, "Not Found", f"there is no branch {branch_id!r}")
        if exists is None and branch_id not in self._streams and len(self._unvouched) >= MAX_UNVOUCHED:
            return problem_response(503, "Service Unavailable", "the branch directory is unavailable; retry")
        self._verdicts[connection] = exists
        return None

    async def serve(self, connection: ServerConnection) -> None:
        """Serve one screen until it goes away."""
        target = parse_target(connection.request.path if connection.request else "")
        if target is None:  # process_request refused it already
            return
        branch_id, zone = target
        self.subscribe(connection, branch_id, zone, vouched=self._verdicts.pop(connection, True) is not None)
        try:
            await self._discard_input(connection)
        finally:
            self.unsubscribe(connection, branch_id, zone)

    def _snapshot(self, branch_id: str, zone: str | None) -> dict[str, Any]:
        # The page derives when a silent stream is dead from how often heartbeats come.
        return {**self._snapshot_of(branch_id, zone), "heartbeat_seconds": self._heartbeat}

    def subscribe(
        self, connection: ServerConnection, branch_id: str, zone: str | None, *, vouched: bool = True
    ) -> None:
        """Send the snapshot and join the stream, with no await in between (ordering)."""
        if branch_id not in self._streams and not vouched:
            self._unvouched.add(branch_id)
        streams = self._streams.setdefault(branch_id, {})
        stream = streams.get(zone)
        if stream is None or stream.snapshot is None:
            snap = self._snapshot(branch_id, zone)
            if stream is None:
                stream = streams[zone] = _Stream(last_seq=snap["seq"])
            stream.snapshot = _dump(snap)
        stream.clients.add(connection)
        self._metrics.connections.labels(branch_id).inc()
        self._write([connection], stream.snapshot)
        log.debug("screen joined branch=%s zone=%s", branch_id, zone)

    def unsubscribe(self, connection: ServerConnection, branch_id: str, zone: str | None) -> None:
        """Leave the stream (idempotent)."""
        streams = self._streams.get(branch_id, {})
        stream = streams.get(zone)
        if stream is not None and connection in stream.clients:
            stream.clients.discard(connection)
            self._metrics.connections.labels(branch_id).dec()
            if not stream.clients:
                del streams[zone]
            if not streams:  # the branch's last screen left: drop its stream and its series
                del self._streams[branch_id]
                self._unvouched.discard(branch_id)
                self._metrics.connections.remove(branch_id)

    def publish(self, branch_id: str, change: Change) -> None:
        """Send one change to every stream of the branch it concerns."""
        for zone, stream in self._streams.get(branch_id, {}).items():
            stream.snapshot = None  # every zone's snapshot counts the whole branch's waiting tickets
            if zone is not None and change.zone is not None and change.zone != zone:
                continue
            message = {**change.message, "prev_seq": stream.last_seq}
            stream.last_seq = change.seq
            self._write(stream.clients, _dump(message))

    def resync(self, branch_id: str) -> None:
        """Send a fresh snapshot to every screen of the branch (new day, new directory)."""
        for zone, stream in self._streams.get(branch_id, {}).items():
            snap = self._snapshot(branch_id, zone)
            stream.last_seq = snap["seq"]
            stream.snapshot = _dump(snap)
            self._write(stream.clients, stream.snapshot)

    def heartbeat(self) -> None:
        """Tell every screen the stream is alive (pages reconnect when they hear nothing)."""
        for streams in self._streams.values():
            for stream in streams.values():
                self._write(stream.clients, _dump({"type": "heartbeat", "seq": stream.last_seq}))

    def connection_count(self) -> int:
        """How many screens are subscribed."""
        return sum(len(s.clients) for streams in self._streams.values() for s in streams.values())

    def _write(self, connections: Iterable[ServerConnection], payload: str) -> None:
        ready: list[ServerConnection] = []
        for connection in list(connections):
            if connection.transport.get_write_buffer_size() > self._limit:
                self._drop(connection, "slow")
            else:
                ready.append(connection)
        broadcast(ready, payload)
        self._metrics.messages_sent.inc(len(ready))

    def _drop(self, connection: ServerConnection, reason: str) -> None:
        log.info("dropping screen %s: %s", connection.remote_address, reason)
        self._metrics.clients_dropped.labels(reason).inc()
        connection.transport.abort()

    async def _discard_input(self, connection: ServerConnection) -> None:
        tokens, last = float(INBOUND_BURST), time.monotonic()
        try:
            async for _ in connection:
                now = time.monotonic()
                tokens = min(INBOUND_BURST, tokens + (now - last) * INBOUND_PER_SECOND) - 1
                last = now
                if tokens < 0:
                    self._metrics.clients_dropped.labels("flood").inc()
                    await connection.close(CloseCode.POLICY_VIOLATION, "screens only listen")
                    return
        except ConnectionClosed:
            return
