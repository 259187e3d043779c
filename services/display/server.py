"""One port for the page and the screens, through public APIs only.

DESIGN.md fixes a single port (8081) for the hall page and its websocket. The
``websockets`` library owns the listener (:func:`websockets.asyncio.server.serve`)
and its public ``process_request`` hook decides what each connection is:

* ``GET /ws/…`` passes the :class:`Gate` (origin allow-list, connection caps)
  and the hub's own checks (path, readiness, branch), then becomes a screen;
* any other request is answered as plain HTTP by the aiohttp application,
  which listens on a private Unix socket: its answer is relayed as the
  ``process_request`` response, and the connection closes after it
  (``Connection: close``; pages reconnect per request, which is cheap).

Every connection must finish its request (an HTTP answer or a websocket
handshake) within ``DISPLAY_IDLE_TIMEOUT`` seconds (websockets'
``open_timeout``), so idle or half-open connections never pile up. Closing
stops accepting, closes every screen with 1001 (going away), waits for the
requests in flight, then runs the app's cleanup.
"""

from __future__ import annotations

import asyncio
import http
import logging
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from yarl import URL

from services.display.app import HUB, SETTINGS
from services.display.hub import problem_response
from services.display.settings import Settings
from services.platform.http import SERVER_NAME

log = logging.getLogger(__name__)

WS_PREFIX = "/ws/"
_NOT_RELAYED = frozenset({"connection", "keep-alive", "transfer-encoding", "server", "content-length"})
RETRY_AFTER_SECONDS = 5


class Gate:
    """Who may open a websocket: an allowed origin, under the per-address and total caps."""

    def __init__(self, settings: Settings) -> None:
        self._origins = frozenset(settings.allowed_origins)
        self._max_total = settings.max_connections
        self._max_per_address = settings.max_connections_per_address
        self._per_address: Counter[str] = Counter()
        self._total = 0
        self._watchers: set[asyncio.Task[None]] = set()

    def admit(self, connection: ServerConnection, request: Request) -> Response | None:
        """A refusal (403, 503 or 429 problem), or None after taking a slot until the connection closes."""
        origin = request.headers.get("Origin")
        if origin is not None and not self.origin_allowed(origin, request.headers.get("Host")):
            return problem_response(403, "Forbidden", f"origin {origin!r} may not open screens here")
        if self._total >= self._max_total:
            return problem_response(
                503, "Service Unavailable", "too many screens connected", retry_after=RETRY_AFTER_SECONDS
            )
        address = _address(connection)
        if self._per_address[address] >= self._max_per_address:
            return problem_response(
                429,
                "Too Many Requests",
                "too many screens from this address",
                retry_after=RETRY_AFTER_SECONDS,
            )
        self._total += 1
        self._per_address[address] += 1
        watcher = asyncio.create_task(self._release_when_closed(connection, address))
        self._watchers.add(watcher)
        watcher.add_done_callback(self._watchers.discard)
        return None

    def origin_allowed(self, origin: str, host: str | None) -> bool:
        """The display's own origin (same host and port), a configured one, or any with ``*``."""
        if "*" in self._origins or origin in self._origins:
            return True
        parts = urlsplit(origin)
        return host is not None and parts.scheme in ("http", "https") and parts.netloc == host

    def open_count(self, address: str | None = None) -> int:
        """Websockets holding a slot, in all or from one address."""
        return self._total if address is None else self._per_address[address]

    async def _release_when_closed(self, connection: ServerConnection, address: str) -> None:
        try:
            await connection.wait_closed()
        finally:
            self._total -= 1
            self._per_address[address] -= 1
            if self._per_address[address] <= 0:
                del self._per_address[address]


def _address(connection: ServerConnection) -> str:
    remote = connection.remote_address
    return str(remote[0]) if isinstance(remote, tuple) and remote else str(remote)


class HttpRelay:
    """Answers a plain HTTP request with the aiohttp application listening on a Unix socket."""

    def __init__(self, socket_path: Path) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.UnixConnector(path=str(socket_path)), auto_decompress=False
        )

    async def answer(self, request: Request) -> Response:
        """The application's response to ``request``, to send before the connection closes."""
        headers = [(k, v) for k, v in request.headers.raw_items() if k.lower() not in _NOT_RELAYED]
        url = URL("http://display" + request.path, encoded=True)
        try:
            async with self._session.request(
                request.method, url, headers=headers, allow_redirects=False
            ) as upstream:
                body = await upstream.read()
                status, reason = upstream.status, upstream.reason
                relayed = [(k, v) for k, v in upstream.headers.items() if k.lower() not in _NOT_RELAYED]
                length = upstream.headers.get("Content-Length", "0")
        except aiohttp.ClientError as exc:
            log.warning("relaying %s %s failed: %s", request.method, request.path, exc)
            return problem_response(502, "Bad Gateway", "the page server did not answer")
        out = Headers(relayed)
        out["Content-Length"] = length if request.method == "HEAD" else str(len(body))
        out["Connection"] = "close"
        return Response(status, reason or http.HTTPStatus(status).phrase, out, body)

    async def close(self) -> None:
        """Close the relay's connections."""
        await self._session.close()


@dataclass
class Running:
    """A display serving on one port."""

    runner: web.AppRunner
    ws_server: Server
    relay: HttpRelay
    gate: Gate
    socket_dir: Path

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        return int(self.ws_server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop accepting, close screens with 1001, finish requests in flight, run the app's cleanup."""
        self.ws_server.close()
        try:
            await self.ws_server.wait_closed()
        finally:
            await self.relay.close()
            await self.runner.cleanup()
            shutil.rmtree(self.socket_dir, ignore_errors=True)


async def start(app: web.Application, host: str, port: int) -> Running:
    """Serve ``app`` and its websocket hub on ``host:port``."""
    settings, hub = app[SETTINGS], app[HUB]
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=5.0)
    await runner.setup()
    socket_dir = Path(tempfile.mkdtemp(prefix="antrian-display-"))
    await web.UnixSite(runner, str(socket_dir / "http.sock")).start()
    relay, gate = HttpRelay(socket_dir / "http.sock"), Gate(settings)

    async def process_request(connection: ServerConnection, request: Request) -> Response | None:
        if not request.path.startswith(WS_PREFIX):
            return await relay.answer(request)
        return gate.admit(connection, request) or await hub.process_request(connection, request)

    try:
        ws_server = await serve(
            hub.serve,
            host,
            port,
            process_request=process_request,
            server_header=SERVER_NAME,  # no versions named
            compression=None,
            open_timeout=settings.idle_timeout_seconds,
            ping_interval=settings.ping_interval_seconds,
            ping_timeout=settings.ping_interval_seconds,
            close_timeout=5,
            max_size=1024,  # screens only listen: anything they send is small and discarded
            max_queue=4,
            reuse_address=True,
        )
    except OSError:
        await relay.close()
        await runner.cleanup()
        shutil.rmtree(socket_dir, ignore_errors=True)
        raise
    running = Running(runner, ws_server, relay, gate, socket_dir)
    log.info("display serving on %s:%s", host, running.port)
    return running
