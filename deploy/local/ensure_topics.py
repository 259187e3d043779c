"""Wait for the local Kafka broker and create Antrian's topics if missing.

Usage: python deploy/local/ensure_topics.py [--bootstrap HOST:PORT] [--timeout S]
Exits non-zero with a message when the broker does not answer in time.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import time

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

# (name, partitions): several partitions for the event stream so that
# branches spread over consumers; the DLQ is small and rarely written.
TOPICS = (("queue.events", 6), ("queue.events.dlq", 1))


def _port_open(bootstrap: str) -> bool:
    host, _, port = bootstrap.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


async def _ensure(bootstrap: str, deadline: float) -> list[str]:
    # Wait quietly for the listener before a client logs connection errors.
    while not _port_open(bootstrap):
        if time.monotonic() > deadline:
            raise SystemExit(f"Kafka at {bootstrap} did not open its port")
        await asyncio.sleep(0.3)
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [NewTopic(n, p, 1) for n, p in TOPICS if n not in existing]
            if missing:
                await admin.create_topics(missing)
            return [t.name for t in missing]
        except KafkaError as exc:
            if time.monotonic() > deadline:
                raise SystemExit(f"Kafka at {bootstrap} did not answer: {exc!r}") from exc
            await asyncio.sleep(0.5)
        finally:
            await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    created = asyncio.run(_ensure(args.bootstrap, time.monotonic() + args.timeout))
    names = ", ".join(created) if created else "none (all present)"
    print(f"kafka topics created: {names}", file=sys.stderr)  # noqa: T201


if __name__ == "__main__":
    main()
