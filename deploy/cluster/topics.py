"""Wait for the three-node Kafka cluster and create Antrian's replicated topics.

Usage: python deploy/cluster/topics.py --bootstrap H:P,H:P,H:P [--brokers 3] [--timeout S]

``queue.events`` and its dead-letter topic get one copy per broker
(replication factor 3) and ``min.insync.replicas=2``: with the producer's
``acks=all`` an event is acknowledged once two brokers hold it, so any one
broker may die without losing an acknowledged event or stopping writes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

# (name, partitions): the partitions are the unit of consumer parallelism.
TOPICS = (("queue.events", 6), ("queue.events.dlq", 1))
CONFIG = {"min.insync.replicas": "2"}


async def _brokers(admin: AIOKafkaAdminClient) -> int:
    cluster = await admin.describe_cluster()
    return len(cluster["brokers"])


async def _ensure(bootstrap: str, brokers: int, deadline: float) -> list[str]:
    last: object = None
    while time.monotonic() < deadline:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        try:
            await admin.start()
            found = await _brokers(admin)
            if found < brokers:
                last = f"{found} of {brokers} brokers registered"
                await asyncio.sleep(0.5)
                continue
            existing = set(await admin.list_topics())
            missing = [
                NewTopic(name, parts, brokers, topic_configs=CONFIG)
                for name, parts in TOPICS
                if name not in existing
            ]
            if missing:
                await admin.create_topics(missing)
            return [t.name for t in missing]
        except KafkaError as exc:
            last = exc
            await asyncio.sleep(0.5)
        finally:
            await admin.close()
    raise SystemExit(f"the Kafka cluster at {bootstrap} was not ready: {last!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--brokers", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    created = asyncio.run(_ensure(args.bootstrap, args.brokers, time.monotonic() + args.timeout))
    print(f"kafka topics created: {', '.join(created) or 'none (all present)'}", file=sys.stderr)  # noqa: T201


if __name__ == "__main__":
    main()
