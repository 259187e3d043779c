#!/usr/bin/env python3
"""The image's HEALTHCHECK: exit 0 when the service in this container is ready.

The service is the one PID 1 runs (``python -m services.<name>``), so the check
follows ``podman run IMAGE display`` as well as ``ANTRIAN_SERVICE=display``;
its port is the service's own variable (``DISPLAY_PORT`` …) or its default.
Usage: healthcheck.py [PATH]   (default ``/readyz``; ``/healthz`` for liveness)
"""

from __future__ import annotations

import os
import re
import sys
import urllib.error
import urllib.request
from pathlib import Path

DEFAULT_PORTS = {"ticketing": 8080, "display": 8081, "metrics": 8082}


def running_service() -> str:
    """The service PID 1 runs, else ``ANTRIAN_SERVICE``."""
    try:
        cmdline = Path("/proc/1/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        cmdline = ""
    match = re.search(r"services\.(ticketing|display|metrics)\b", cmdline)
    return match.group(1) if match else os.environ.get("ANTRIAN_SERVICE", "ticketing")


def main(argv: list[str]) -> int:
    """Probe the service; 0 when it answers 200."""
    path = argv[0] if argv else "/readyz"
    service = running_service()
    port = os.environ.get(f"{service.upper()}_PORT") or str(DEFAULT_PORTS.get(service, 8080))
    url = f"http://127.0.0.1:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=4) as resp:
            return 0 if resp.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"{service} {url}: {exc}", file=sys.stderr)  # noqa: T201
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
