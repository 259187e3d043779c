"""Reading a test topic to the end, for the ticketing integration tests."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer

from services.events import CloudEvent, decode


async def read_events(bootstrap: str, topic: str, count: int, within: float = 45) -> list[CloudEvent]:
    """Read ``count`` events (then a second more, to catch duplicates); fail after ``within`` s."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    got: list[CloudEvent] = []
    try:
        async with asyncio.timeout(within):
            while len(got) < count:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    got.extend(decode(r.value) for r in records)
        extra = await consumer.getmany(timeout_ms=1000)
        got.extend(decode(r.value) for records in extra.values() for r in records)
    finally:
        await consumer.stop()
    return got
