"""Test kit for the display: realistic events onto a test topic, displays on port 0, screens.

Used by the display's integration and browser tests.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiokafka import AIOKafkaProducer
from websockets.asyncio.client import ClientConnection, connect

from services.display.app import CONSUMER, init_app
from services.display.board import Clock
from services.display.server import Running, start
from services.display.settings import Settings
from services.events import CloudEvent, EventType, encode, new_event, parse_data
from tests.unit.events.kit import ticket_defaults

WITA = ZoneInfo("Asia/Makassar")
AGENCIES = {"ktp": "disdukcapil", "kk": "disdukcapil", "pbb": "bapenda", "skck": "polres"}
AGENCY_NAMES = {"disdukcapil": "Disdukcapil", "bapenda": "Bapenda", "polres": "Polres"}


def unique_branch() -> str:
    """A branch id no other test uses."""
    return f"b-{uuid.uuid4().hex[:10]}"


@dataclass
class HallFeed:
    """Produces a branch's events (key = branch id) with strictly increasing sequences."""

    producer: AIOKafkaProducer
    topic: str
    branch: str = field(default_factory=unique_branch)
    seq: int = 0
    partition: int | None = None  # None: the partition the branch key picks

    async def raw(self, value: bytes, key: str | None = None) -> None:
        """Produce arbitrary bytes (poison) under the branch key."""
        await self.producer.send_and_wait(self.topic, value=value, key=(key or self.branch).encode())

    def build(self, kind: EventType, subject: str, fields: dict[str, Any]) -> CloudEvent:
        """The next event of this branch, its data through the type's model (WITA, today)."""
        now = datetime.now(UTC)
        common = {
            "branch_id": self.branch,
            "timezone": WITA.key,
            "business_date": now.astimezone(WITA).date(),
        }
        data = parse_data(kind, {**common, **fields})
        self.seq += 1
        return new_event(data, source="/ticketing", subject=subject, time=now).with_sequence(self.seq)

    async def emit(self, kind: EventType, subject: str, fields: dict[str, Any]) -> int:
        """Produce one valid event; return its sequence."""
        event = self.build(kind, subject, fields)
        await self.producer.send_and_wait(
            self.topic, value=encode(event), key=self.branch.encode(), partition=self.partition
        )
        return self.seq

    async def unshowable(self, kind: EventType, number: str, **broken: Any) -> int:
        """Poison in a valid envelope: a valid ticket event whose data is then broken by hand."""
        obj = self.build(
            kind, f"t-{number}", self._ticket_fields(kind, number, 1, "ktp", "lantai-1", {})
        ).to_dict()
        obj["data"].update(broken)
        await self.raw(json.dumps(obj).encode())
        return self.seq

    async def counter(self, kind: EventType, number: int, zone: str = "lantai-1") -> int:
        """A counter event for "Loket {number}"."""
        status = {"opened": "open", "paused": "paused", "closed": "closed"}[kind.value.split(".")[1]]
        data = {
            "counter_id": f"c{number}",
            "counter_name": f"Loket {number}",
            "zone": zone,
            "service_ids": ["ktp"],
            "status": status,
            "operator": None,
        }
        return await self.emit(kind, f"c{number}", data)

    async def ticket(
        self,
        kind: EventType,
        number: str,
        counter: int | None = None,
        service: str = "ktp",
        zone: str = "lantai-1",
        **extra: Any,
    ) -> int:
        """A ticket event for ticket ``number`` (at counter "Loket {counter}")."""
        return await self.emit(
            kind, f"t-{number}", self._ticket_fields(kind, number, counter, service, zone, extra)
        )

    @staticmethod
    def _ticket_fields(
        kind: EventType, number: str, counter: int | None, service: str, zone: str, extra: dict[str, Any]
    ) -> dict[str, Any]:
        agency = AGENCIES.get(service, "disdukcapil")
        return {
            "ticket_id": f"t-{number}",
            "number": number,
            "service_id": service,
            "service_name": service.upper(),
            "agency_id": agency,
            "agency_name": AGENCY_NAMES.get(agency, agency),
            "counter_id": f"c{counter}" if counter is not None else None,
            "counter_name": f"Loket {counter}" if counter is not None else None,
            "zone": zone if counter is not None else None,
            "priority": False,
            "priority_group": None,
            "channel": "kiosk",
            "issued_at": datetime.now(UTC),
            **ticket_defaults(kind, datetime.now(UTC)),
            **extra,
        }

    async def busy_morning(self) -> None:
        """Three counters open, tickets waiting, several calls."""
        for n, zone in ((1, "lantai-1"), (2, "lantai-1"), (3, "lantai-2")):
            await self.counter(EventType.COUNTER_OPENED, n, zone)
        for i in range(1, 8):
            await self.ticket(EventType.TICKET_ISSUED, f"A{i:03d}")
        await self.ticket(EventType.TICKET_ISSUED, "B001", service="pbb")
        await self.ticket(EventType.TICKET_CALLED, "A001", 1)
        await self.ticket(EventType.TICKET_SERVING, "A001", 1)
        await self.ticket(EventType.TICKET_CALLED, "A002", 2)
        await self.ticket(EventType.TICKET_CALLED, "B001", 3, service="pbb", zone="lantai-2")


@asynccontextmanager
async def kafka_producer(bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    """A started producer, stopped afterwards."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


def display_settings(bootstrap: str, topic: str, dlq: str, audio: Path, **overrides: Any) -> Settings:
    """Settings for a display on 127.0.0.1, port 0, reading a test topic."""
    base = Settings(
        kafka_bootstrap_servers=bootstrap,
        host="127.0.0.1",
        port=0,
        events_topic=topic,
        dlq_topic=dlq,
        ticketing_url="http://127.0.0.1:9",  # nothing listens: the directory falls back
        audio_cache=audio,
        ping_interval_seconds=5,
    )
    return base.model_copy(update=overrides)


async def start_display(settings: Settings, within: float = 30, clock: Clock | None = None) -> Running:
    """Start a display and wait until its rebuild finished."""
    app = init_app(settings, clock=clock) if clock is not None else init_app(settings)
    running = await start(app, settings.host, settings.port)
    try:
        async with asyncio.timeout(within):
            await app[CONSUMER].rebuilt.wait()
    except BaseException:
        await running.close()
        raise
    return running


class Screen:
    """A websocket client that follows the protocol like the hall page does."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.ws: ClientConnection | None = None
        self.snapshot: dict[str, Any] = {}
        self.last_seq = 0
        self.resyncs = 0

    async def open(self) -> dict[str, Any]:
        """Connect and read the snapshot."""
        self.ws = await connect(self.url, proxy=None, open_timeout=10)
        first = json.loads(await self.ws.recv())
        assert first["type"] == "snapshot", first
        self.snapshot, self.last_seq = first, first["seq"]
        return first

    async def next(self, within: float = 10) -> dict[str, Any]:
        """The next change, resynchronising (reconnect + snapshot) on a gap."""
        assert self.ws is not None
        while True:
            async with asyncio.timeout(within):
                message = json.loads(await self.ws.recv())
            if message["type"] == "snapshot":
                self.snapshot, self.last_seq = message, message["seq"]
                return message
            if message["seq"] <= self.last_seq:
                continue  # a duplicate
            if message["prev_seq"] > self.last_seq:
                await self.resync()
                return self.snapshot
            self.last_seq = message["seq"]
            return message

    async def resync(self) -> None:
        """Reconnect for a fresh snapshot."""
        self.resyncs += 1
        await self.close()
        await self.open()

    async def until(self, predicate: Callable[[dict[str, Any]], bool], within: float = 15) -> dict[str, Any]:
        """Read messages until one satisfies ``predicate``."""
        async with asyncio.timeout(within):
            while True:
                message = await self.next(within)
                if predicate(message):
                    return message

    async def caught_up(self, seq: int, within: float = 15) -> None:
        """Return once this screen has seen ``seq`` (in its snapshot or a later message)."""
        if self.last_seq < seq:
            await self.until(lambda m: m["seq"] >= seq, within)

    async def close(self) -> None:
        """Close the websocket."""
        if self.ws is not None:
            await self.ws.close()
            self.ws = None


async def wait_for(check: Callable[[], Awaitable[bool]], within: float = 15, every: float = 0.05) -> None:
    """Poll ``check`` until it is true (bounded)."""
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110  (polls state in another process or broker)
            await asyncio.sleep(every)
