"""One port for both stacks: aiohttp for HTTP, the websockets library for ``/ws/``.

DESIGN.md fixes a single port (8081) for the hall page and its websocket, and
the issue asks for the ``websockets`` library. Both libraries are asyncio
*protocols*, so one listening socket can serve both: a tiny sniffing protocol
reads the request line of each new connection and hands the transport, with
the bytes read so far, to the protocol that owns it:

* ``GET /ws/…`` → a ``websockets`` :class:`ServerConnection`, which performs
  the handshake (``Hub.process_request`` refuses bad paths and an unready
  hall with problem details) and then runs ``Hub.serve``;
* anything else → aiohttp's request handler from an :class:`AppRunner`, so
  the page, ``/healthz``, ``/readyz``, ``/metrics`` and ``/audio`` are plain
  aiohttp routes with middleware and ``cleanup_ctx``.

The websockets :class:`Server` object owns the listener, so its ``close()``
stops accepting and closes every screen with 1001 (going away); aiohttp's
runner then drains HTTP requests and runs the app's cleanup (SIGTERM: stop
accepting, drain, close).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from websockets.asyncio.server import Server, ServerConnection
from websockets.protocol import State
from websockets.server import ServerProtocol

from services.display.app import HUB, SETTINGS

log = logging.getLogger(__name__)

MAX_REQUEST_LINE = 8192
WS_PREFIX = b"GET /ws/"


class _Sniffer(asyncio.Protocol):
    """Reads the request line, then gives the connection to the protocol that serves it."""

    def __init__(self, http: Callable[[], asyncio.Protocol], ws: Callable[[], asyncio.Protocol]) -> None:
        self._http, self._ws = http, ws
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if b"\r\n" not in self._buffer and len(self._buffer) < MAX_REQUEST_LINE:
            return
        assert self._transport is not None
        protocol = self._ws() if self._buffer.startswith(WS_PREFIX) else self._http()
        self._transport.set_protocol(protocol)
        protocol.connection_made(self._transport)
        protocol.data_received(bytes(self._buffer))

    def eof_received(self) -> bool:
        return False


@dataclass
class Running:
    """A display serving on one port."""

    runner: web.AppRunner
    ws_server: Server

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        return int(self.ws_server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop accepting, close screens with 1001, drain HTTP, run the app's cleanup."""
        self.ws_server.close()
        await asyncio.gather(self.ws_server.wait_closed(), self.runner.cleanup())


async def start(app: web.Application, host: str, port: int) -> Running:
    """Serve ``app`` and its websocket hub on ``host:port``."""
    settings, hub = app[SETTINGS], app[HUB]
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=5.0)
    await runner.setup()
    http_server = runner.server
    assert http_server is not None
    origins = list(settings.allowed_origins) or None

    def ws_connection() -> ServerConnection:
        # max_size: screens only listen, so anything they send is small and discarded.
        protocol = ServerProtocol(origins=origins, max_size=1024)  # type: ignore[arg-type]
        return ServerConnection(
            protocol,
            ws_server,
            ping_interval=settings.ping_interval_seconds,
            ping_timeout=settings.ping_interval_seconds,
            close_timeout=5,
            max_queue=4,
        )

    async def handle(connection: ServerConnection) -> None:
        # What websockets' own serve() does for each connection, with our hub.
        try:
            async with asyncio.timeout(10):
                await connection.handshake(hub.process_request, None, None)
            if connection.protocol.state is not State.OPEN:
                connection.transport.abort()
                return
            ws_server.all_connections.add(connection)
            connection.start_keepalive()
            try:
                async with connection:
                    await hub.serve(connection)
            finally:
                ws_server.all_connections.discard(connection)
        except Exception:  # a connection's outermost frame: log it, never leak the socket
            log.exception("websocket connection failed")
            connection.transport.abort()
        finally:
            task = asyncio.current_task()
            if task is not None:
                ws_server.handler_tasks.discard(task)

    async def create_server() -> asyncio.Server:
        loop = asyncio.get_running_loop()
        return await loop.create_server(
            lambda: _Sniffer(http_server, ws_connection), host, port, reuse_address=True
        )

    ws_server = Server(create_server, handle, logging.getLogger("websockets.server"))
    try:
        await ws_server
    except OSError:
        await runner.cleanup()
        raise
    log.info("display serving on %s:%s", host, int(ws_server.sockets[0].getsockname()[1]))
    return Running(runner, ws_server)
