"""Issue 11 #7: the display's edges hold against idle connections, floods of websockets and foreign pages."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from tests.faults.display_kit import DisplayProcess, display_process

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

TopicFactory = Callable[..., Awaitable[str]]


async def _topics(new_topic: TopicFactory) -> tuple[str, str]:
    return await new_topic(partitions=1), await new_topic(partitions=1, prefix="test.dlq.")


async def _closed_by_server(reader: asyncio.StreamReader) -> bool:
    try:
        return await reader.read(65536) == b"" or await reader.read() == b""
    except ConnectionError:
        return True


async def test_idle_and_half_open_connections_are_closed_after_the_idle_timeout(
    kafka_bootstrap: str, new_topic: TopicFactory, tmp_path: Path
) -> None:
    topic, dlq = await _topics(new_topic)
    async with display_process(kafka_bootstrap, topic, dlq, tmp_path, DISPLAY_IDLE_TIMEOUT="2") as display:
        streams = []
        for i in range(600):
            reader, writer = await asyncio.open_connection("127.0.0.1", display.port)
            if i % 2:  # half of them start a request and never finish it
                writer.write(b"GET /display/bjb HTTP/1.1\r\nHost: x\r\n")
                await writer.drain()
            streams.append((reader, writer))
        async with asyncio.timeout(60):  # generous: the timeout is 2 s
            closed = await asyncio.gather(*(_closed_by_server(reader) for reader, _ in streams))
        assert all(closed)
        for _, writer in streams:
            writer.close()
        status, _ = await display.get("/healthz")  # and the display still serves
        assert status == 200


async def _open(display: DisplayProcess, path: str, address: str) -> ClientConnection:
    ws = await connect(display.ws(path), proxy=None, open_timeout=10, local_addr=(address, 0))
    assert json.loads(await ws.recv())["type"] == "snapshot"
    return ws


async def _refusal(
    display: DisplayProcess, path: str, address: str, **kwargs: object
) -> tuple[int, str | None]:
    with pytest.raises(InvalidStatus) as refused:
        await connect(display.ws(path), proxy=None, open_timeout=10, local_addr=(address, 0), **kwargs)  # type: ignore[arg-type]
    response = refused.value.response
    assert response.headers["Content-Type"] == "application/problem+json"
    return response.status_code, response.headers.get("Retry-After")


async def test_websockets_are_capped_per_address_and_in_total(
    kafka_bootstrap: str, new_topic: TopicFactory, tmp_path: Path
) -> None:
    topic, dlq = await _topics(new_topic)
    async with display_process(
        kafka_bootstrap,
        topic,
        dlq,
        tmp_path,
        DISPLAY_MAX_CONNECTIONS_PER_ADDRESS="5",
        DISPLAY_MAX_CONNECTIONS="8",
    ) as display:
        opened = [await _open(display, "/ws/bjb", "127.0.0.1") for _ in range(5)]
        assert await _refusal(display, "/ws/bjb", "127.0.0.1") == (429, "5")
        opened += [await _open(display, "/ws/bjb", "127.0.0.2") for _ in range(3)]  # other addresses served
        assert await _refusal(display, "/ws/bjb", "127.0.0.3") == (503, "5")
        await opened.pop(0).close()
        async with asyncio.timeout(30):  # the freed slot is given again
            while True:
                with contextlib.suppress(InvalidStatus):
                    opened.append(await _open(display, "/ws/bjb", "127.0.0.1"))
                    break
                await asyncio.sleep(0.1)
        for ws in opened:
            await ws.close()


async def test_a_websocket_from_a_foreign_page_is_refused_by_default(
    kafka_bootstrap: str, new_topic: TopicFactory, tmp_path: Path
) -> None:
    topic, dlq = await _topics(new_topic)
    async with display_process(kafka_bootstrap, topic, dlq, tmp_path) as display:
        evil = {"origin": "https://evil.example"}
        assert (await _refusal(display, "/ws/bjb", "127.0.0.1", **evil))[0] == 403
        own = f"http://127.0.0.1:{display.port}"  # the hall page's own origin
        ws = await connect(display.ws("/ws/bjb"), proxy=None, origin=own)  # type: ignore[arg-type]
        assert json.loads(await ws.recv())["type"] == "snapshot"
        await ws.close()
    async with display_process(
        kafka_bootstrap, topic, dlq, tmp_path, DISPLAY_ALLOWED_ORIGINS="https://hall.example"
    ) as display:
        assert (await _refusal(display, "/ws/bjb", "127.0.0.1", **evil))[0] == 403
        ws = await connect(display.ws("/ws/bjb"), proxy=None, origin="https://hall.example")  # type: ignore[arg-type]
        assert json.loads(await ws.recv())["type"] == "snapshot"
        await ws.close()
