"""Print a new Kafka cluster id: 16 random bytes, URL-safe base64, never starting with "-".

Kafka's StorageTool reads an id that starts with "-" (one in 64 random ids) as
an option and refuses to format (`argument --cluster-id/-t: expected one
argument`); Kafka's own `Uuid.randomUuid()` draws again in that case, and so
does this. Usage: python3 deploy/local/kafka_cluster_id.py
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable


def cluster_id(random_bytes: Callable[[int], bytes] = os.urandom) -> str:
    """A cluster id StorageTool accepts."""
    while True:
        candidate = base64.urlsafe_b64encode(random_bytes(16)).decode().rstrip("=")
        if not candidate.startswith("-"):
            return candidate


if __name__ == "__main__":
    print(cluster_id())  # noqa: T201
