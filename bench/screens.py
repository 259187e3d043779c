"""Hall screens as a load generator, and the bare ``websockets`` broadcast that is their floor.

Screens run in worker subprocesses (``python -m bench.screens worker URL COUNT``)
so that thousands of websocket clients spread over the machine's cores and
their CPU can be measured apart from the benchmark's own. A worker connects
its screens, reads each one's first message (the snapshot), says ``ready``,
and then, for each ``expect NEEDLE…`` line on stdin, stamps (on the
system-wide monotonic clock) the first message on every screen that contains
every needle, and answers ``seen T1 T2 …`` once all its screens have it.

The floor server (``python -m bench.screens floor PORT``) is the least a
websocket fan-out can cost: every message a ``/control`` client sends is
handed to ``websockets.broadcast`` for every other connection, unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve

CONNECT_CONCURRENCY = 100
PER_WORKER = 2500


class _Round:
    def __init__(self, needles: list[str], expected: int) -> None:
        self.needles = needles
        self.expected = expected
        self.times: list[float] = []
        self.done = asyncio.Event()

    def offer(self, message: str) -> bool:
        if all(n in message for n in self.needles):
            self.times.append(time.monotonic())
            if len(self.times) >= self.expected:
                self.done.set()
            return True
        return False


async def _worker(url: str, count: int) -> None:
    sockets: list[ClientConnection] = []
    current: list[_Round | None] = [None]
    seen: dict[int, int] = {}
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def reader(index: int, ws: ClientConnection) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for message in ws:
                r = current[0]
                if (
                    r is not None
                    and seen.get(index) != id(r)
                    and isinstance(message, str)
                    and r.offer(message)
                ):
                    seen[index] = id(r)

    async def one(index: int) -> None:
        async with gate:
            for attempt in range(10):
                try:
                    ws = await connect(url, proxy=None, compression=None, open_timeout=60, max_queue=256)
                    break
                except (OSError, TimeoutError, EOFError, websockets.InvalidHandshake):
                    # A listen backlog overflowing under thousands of connects resets some of them.
                    if attempt == 9:
                        raise
                    await asyncio.sleep(0.5 * (attempt + 1))
            await ws.recv()  # the snapshot
            sockets.append(ws)
        asyncio.get_running_loop().create_task(reader(index, ws))

    await asyncio.gather(*(one(i) for i in range(count)))
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    while line := (await stdin.readline()).decode().strip():
        if line == "quit":
            break
        needles = line.split()[1:]
        r = _Round(needles, len(sockets))
        current[0] = r
        print("armed", flush=True)
        await r.done.wait()
        current[0] = None
        print("seen " + " ".join(f"{t:.6f}" for t in r.times), flush=True)
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


async def _floor(port: int) -> None:
    screens: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        if ws.request is not None and ws.request.path == "/control":
            async for message in ws:
                websockets.broadcast(screens, message)
            return
        await ws.send('{"type":"snapshot","seq":0}')
        screens.add(ws)
        try:
            await ws.wait_closed()
        finally:
            screens.discard(ws)

    async with serve(handler, "127.0.0.1", port, compression=None, max_queue=16):
        print("ready", flush=True)
        await asyncio.Future()


class Fleet:
    """``count`` screens on ``url`` spread over worker subprocesses."""

    def __init__(self, url: str, count: int) -> None:
        self.url, self.count = url, count
        self.workers: list[asyncio.subprocess.Process] = []

    async def __aenter__(self) -> Fleet:
        sizes = [PER_WORKER] * (self.count // PER_WORKER)
        if self.count % PER_WORKER:
            sizes.append(self.count % PER_WORKER)
        for size in sizes:
            self.workers.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "bench.screens",
                    "worker",
                    self.url,
                    str(size),
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                )
            )
        async with asyncio.timeout(600):
            for worker in self.workers:
                await self._line(worker, "ready")
        return self

    async def __aexit__(self, *exc: object) -> None:
        for worker in self.workers:
            if worker.returncode is None and worker.stdin is not None:
                with contextlib.suppress(OSError):
                    worker.stdin.write(b"quit\n")
        for worker in self.workers:
            try:
                async with asyncio.timeout(30):
                    await worker.wait()
            except TimeoutError:
                worker.kill()
                await worker.wait()

    @property
    def pids(self) -> list[int]:
        """The workers' process ids."""
        return [w.pid for w in self.workers]

    @staticmethod
    async def _line(worker: asyncio.subprocess.Process, word: str) -> str:
        assert worker.stdout is not None
        line = (await worker.stdout.readline()).decode()
        if not line.startswith(word):
            raise RuntimeError(f"screen worker said {line!r}, expected {word!r}")
        return line

    async def expect(self, *needles: str) -> None:
        """Arm every worker for the next message containing all ``needles``; return once armed."""
        for worker in self.workers:
            assert worker.stdin is not None
            worker.stdin.write(("expect " + " ".join(needles) + "\n").encode())
            await worker.stdin.drain()
        async with asyncio.timeout(30):
            for worker in self.workers:
                await self._line(worker, "armed")

    async def seen(self, within: float = 60.0) -> list[float]:
        """The monotonic times at which every screen had the armed message."""
        times: list[float] = []
        async with asyncio.timeout(within):
            for worker in self.workers:
                times.extend(float(t) for t in (await self._line(worker, "seen")).split()[1:])
        return times


class FloorServer:
    """The bare ``websockets.broadcast`` server in its own process, and its control connection."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.proc: asyncio.subprocess.Process | None = None
        self.control: ClientConnection | None = None

    async def __aenter__(self) -> FloorServer:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.screens", "floor", str(self.port), stdout=asyncio.subprocess.PIPE
        )
        assert self.proc.stdout is not None
        await self.proc.stdout.readline()
        self.control = await connect(f"ws://127.0.0.1:{self.port}/control", proxy=None, compression=None)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self.control is not None:
            await self.control.close()
        if self.proc is not None:
            self.proc.terminate()
            await self.proc.wait()

    async def send(self, message: str) -> None:
        """Hand one message to the server to broadcast."""
        assert self.control is not None
        await self.control.send(message)


def main(argv: list[str]) -> None:
    """``worker URL COUNT`` or ``floor PORT``."""
    import uvloop  # the load generator's own overhead, as small as it goes (the floor's too)

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    if argv[0] == "worker":
        asyncio.run(_worker(argv[1], int(argv[2])))
    elif argv[0] == "floor":
        asyncio.run(_floor(int(argv[1])))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
