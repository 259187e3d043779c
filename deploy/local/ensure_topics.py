"""Wait for the local Kafka broker and create Antrian's topics if missing.

Usage: python deploy/local/ensure_topics.py [--bootstrap HOST:PORT] [--timeout S]
Exits non-zero with a message when the broker does not answer in time.
A broker with authentication is reached as the services reach it: with
KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and
KAFKA_SASL_PASSWORD (stack.sh passes its admin user).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import time

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError

from services.platform.kafka import KafkaSettings

# (name, partitions, max.message.bytes): several partitions for the event
# stream so that branches spread over consumers; the DLQ is small and rarely
# written. The size bound keeps an oversized record out of the log: events are a
# few KiB, the relay refuses more than 256 KiB (services/ticketing/outbox.py),
# and the DLQ holds a copy of a refused record of up to 512 KiB, or an excerpt.
TOPICS = (("queue.events", 6, 512 * 1024), ("queue.events.dlq", 1, 1024 * 1024))


def _config(max_bytes: int) -> dict[str, str]:
    return {"max.message.bytes": str(max_bytes)}


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
        admin = AIOKafkaAdminClient(
            bootstrap_servers=bootstrap, request_timeout_ms=5000, **KafkaSettings.from_env().kafka_options()
        )
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [NewTopic(n, p, 1, topic_configs=_config(b)) for n, p, b in TOPICS if n not in existing]
            if missing:
                await admin.create_topics(missing)
            present = [
                ConfigResource(ConfigResourceType.TOPIC, n, _config(b)) for n, _, b in TOPICS if n in existing
            ]
            if present:  # topics made by an older version get the bound too
                await admin.alter_configs(present)
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
