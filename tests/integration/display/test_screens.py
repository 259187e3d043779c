"""Screens over real Kafka: snapshot then deltas, gaps, slow and noisy clients, origins."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
from datetime import UTC, datetime, timedelta

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from services.display.app import METRICS
from services.events import EventType
from tests.integration.display.conftest import DisplayFactory
from tests.integration.display.hallkit import WITA, HallFeed, Screen, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


def _url(port: int, branch: str, query: str = "") -> str:
    return f"ws://127.0.0.1:{port}/ws/{branch}{query}"


async def test_snapshot_then_deltas(feed: HallFeed, display: DisplayFactory) -> None:
    await feed.busy_morning()
    running = await display()
    screen = Screen(_url(running.port, feed.branch))
    snap = await screen.open()
    assert snap["seq"] == feed.seq
    counters = {c["counter_id"]: c for c in snap["counters"]}
    assert counters["c1"]["number"] == "A001"
    assert counters["c1"]["ticket_status"] == "serving"
    assert [c["number"] for c in snap["calls"]] == ["B001", "A002", "A001"]
    assert snap["waiting"]["total"] == 5
    assert snap["hall"]["timezone"] == "Asia/Makassar"
    assert snap["heartbeat_seconds"] == 5  # the page derives when a silent stream is dead from it

    seq = await feed.ticket(EventType.TICKET_CALLED, "A012", 3, zone="lantai-2")
    delta = await screen.next()
    assert delta["type"] == "ticket.called"
    assert delta["seq"] == seq
    assert delta["prev_seq"] == seq - 1
    assert (delta["number"], delta["counter_id"], delta["counter_name"]) == ("A012", "c3", "Loket 3")
    assert delta["announcement"] == "Nomor antrian A dua belas, silakan menuju Loket tiga"
    assert delta["audio_url"].startswith("/audio/")

    await feed.ticket(EventType.TICKET_RECALLED, "A012", 3, zone="lantai-2", recall_count=1)
    recall = await screen.next()
    assert recall["announcement"].startswith("Panggilan ulang, nomor antrian A dua belas")
    await screen.close()


async def test_zone_screens_get_only_their_zone(feed: HallFeed, display: DisplayFactory) -> None:
    await feed.busy_morning()
    running = await display()
    upstairs = Screen(_url(running.port, feed.branch, "?zone=lantai-2"))
    snap = await upstairs.open()
    assert [c["counter_id"] for c in snap["counters"]] == ["c3"]
    await feed.ticket(EventType.TICKET_CALLED, "A003", 1)  # downstairs: not for this screen
    seq = await feed.ticket(EventType.TICKET_CALLED, "A004", 3, zone="lantai-2")
    delta = await upstairs.next()
    assert (delta["number"], delta["seq"]) == ("A004", seq)
    assert delta["prev_seq"] <= upstairs.snapshot["seq"]  # what it skipped was not its own: no gap
    assert upstairs.resyncs == 0
    await upstairs.close()


async def test_a_screen_joining_later_sees_what_its_zone_was_not_sent(
    feed: HallFeed, display: DisplayFactory
) -> None:
    """Snapshots are built once per stream and kept until the branch changes, in any zone."""
    await feed.busy_morning()
    running = await display()
    upstairs = Screen(_url(running.port, feed.branch, "?zone=lantai-2"))
    everywhere = Screen(_url(running.port, feed.branch))
    before = (await upstairs.open())["waiting"]["total"]
    await everywhere.open()
    seq = await feed.ticket(EventType.TICKET_CALLED, "A003", 1)  # downstairs: nothing is sent upstairs
    await everywhere.caught_up(seq)
    late = Screen(_url(running.port, feed.branch, "?zone=lantai-2"))
    snap = await late.open()
    assert (snap["seq"], snap["waiting"]["total"]) == (seq, before - 1)
    for screen in (upstairs, everywhere, late):
        await screen.close()


async def test_a_missed_message_triggers_a_resync(feed: HallFeed, display: DisplayFactory) -> None:
    await feed.busy_morning()
    running = await display()
    screen = Screen(_url(running.port, feed.branch))
    await screen.open()
    await feed.ticket(EventType.TICKET_CALLED, "A005", 1)
    assert screen.ws is not None
    lost = json.loads(await screen.ws.recv())  # read behind the client's back: as if a proxy lost it
    assert lost["number"] == "A005"
    await feed.ticket(EventType.TICKET_SERVING, "A005", 1)
    fresh = await screen.next()
    assert screen.resyncs == 1
    assert fresh["type"] == "snapshot"
    assert fresh["seq"] == feed.seq
    counter = next(c for c in fresh["counters"] if c["counter_id"] == "c1")
    assert (counter["number"], counter["ticket_status"]) == ("A005", "serving")
    await screen.close()


def _stuck_client(port: int, branch: str) -> socket.socket:
    """A screen that completes the handshake and then never reads again."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws/{branch} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    assert sock.recv(12) == b"HTTP/1.1 101"
    return sock


@pytest.mark.timeout(420)  # 1,500 events one by one through the broker: minutes on a loaded machine
async def test_a_stuck_screen_is_dropped_without_delaying_others(
    feed: HallFeed, display: DisplayFactory
) -> None:
    # Pings far apart: on a loaded machine the 1,500 events take longer than a
    # ping timeout, which would close the stuck screen before its buffer is full.
    running = await display(client_buffer_bytes=65536, ping_interval_seconds=600)
    stuck = await asyncio.to_thread(_stuck_client, running.port, feed.branch)
    healthy = Screen(_url(running.port, feed.branch))
    await healthy.open()
    total = 1500
    # The healthy screen reads all along, as a real one does.
    reading = asyncio.create_task(healthy.until(lambda m: m.get("seq") == total, within=360))
    registry = running.runner.app[METRICS].registry
    # Wide messages (many services waiting) fill the stuck socket's buffers quickly.
    for i in range(total):
        await feed.ticket(EventType.TICKET_ISSUED, f"A{i:03d}", service=f"s{i % 60}")
    last = await reading
    assert last["waiting"]["total"] == total
    assert healthy.resyncs == 0
    sample = ("qms_display_clients_dropped_total", {"reason": "slow"})
    await wait_for(lambda: _true((registry.get_sample_value(*sample) or 0) >= 1), within=30)
    stuck.close()
    await healthy.close()


async def _true(value: bool) -> bool:
    return value


async def _flood(ws: ClientConnection) -> None:
    for _ in range(50):
        await ws.send("x" * 100)
        await asyncio.sleep(0.001)
    await ws.recv()


async def test_clients_cannot_make_the_server_work(feed: HallFeed, display: DisplayFactory) -> None:
    running = await display()
    async with connect(_url(running.port, feed.branch), proxy=None) as ws:
        await ws.recv()
        with pytest.raises(ConnectionClosed) as closed:
            await _flood(ws)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1008
    async with connect(_url(running.port, feed.branch), proxy=None) as ws:
        await ws.recv()
        await ws.send("x" * 5000)  # beyond the 1 KiB limit
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1009


async def test_origins_can_be_restricted(feed: HallFeed, display: DisplayFactory) -> None:
    running = await display(allowed_origins=("http://hall.local",))
    url = _url(running.port, feed.branch)
    with pytest.raises(InvalidStatus) as refused:
        await connect(url, proxy=None, origin="http://evil.example")  # type: ignore[arg-type]
    assert refused.value.response.status_code == 403
    async with connect(url, proxy=None, origin="http://hall.local") as ws:  # type: ignore[arg-type]
        assert json.loads(await ws.recv())["type"] == "snapshot"


async def test_bad_websocket_paths_get_problem_details(display: DisplayFactory) -> None:
    running = await display()
    for path in ("/ws/", "/ws/bad%20branch", "/ws/ok?zone=bad%20zone"):
        with pytest.raises(InvalidStatus) as refused:
            await connect(f"ws://127.0.0.1:{running.port}{path}", proxy=None)
        assert refused.value.response.status_code == 404
        assert refused.value.response.headers["Content-Type"] == "application/problem+json"


async def test_shutdown_closes_screens_with_going_away(feed: HallFeed, display: DisplayFactory) -> None:
    running = await display()
    ws = await connect(_url(running.port, feed.branch), proxy=None)
    await ws.recv()
    await running.close()
    with pytest.raises(ConnectionClosed) as closed:
        await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1001


async def test_screens_empty_at_the_halls_midnight_without_any_event(
    feed: HallFeed, display: DisplayFactory
) -> None:
    offset = [timedelta(0)]
    running = await display(clock=lambda: datetime.now(UTC) + offset[0], ping_interval_seconds=1)
    await feed.busy_morning()
    screen = Screen(_url(running.port, feed.branch))
    await screen.open()
    await screen.caught_up(feed.seq)
    offset[0] = timedelta(days=1)
    fresh = await screen.until(lambda m: m["type"] == "snapshot", within=10)
    assert fresh["calls"] == []
    assert fresh["waiting"]["total"] == 0
    assert fresh["business_date"] == (datetime.now(WITA) + timedelta(days=1)).date().isoformat()
    await screen.close()
