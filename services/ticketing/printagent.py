"""A tiny print agent: fetch a ticket's ESC/POS bytes from ticketing and send them to a printer.

    python -m services.ticketing.printagent --url http://ticketing:8080 --ticket <id> --device /dev/usb/lp0
    python -m services.ticketing.printagent --url http://ticketing:8080 --ticket <id> --host 192.0.2.7

Without ``--ticket`` it reads ticket ids, one a line, from standard input, so a
kiosk can pipe the ids it issues. A USB printer is its device file (the
kernel's ``usblp``); a network printer listens on port 9100 (raw).
"""

from __future__ import annotations

import argparse
import socket
import sys
import urllib.request
from collections.abc import Iterable
from pathlib import Path

RAW_PORT = 9100


def fetch(url: str, ticket_id: str, timeout: float = 10.0) -> bytes:
    """The ESC/POS bytes of one ticket."""
    address = f"{url.rstrip('/')}/api/v1/tickets/{ticket_id}/escpos"
    if not address.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url!r}")
    with urllib.request.urlopen(address, timeout=timeout) as resp:  # noqa: S310 (scheme checked above)
        return bytes(resp.read())


def send(data: bytes, *, device: str | None = None, host: str | None = None, port: int = RAW_PORT) -> None:
    """Write ``data`` to the printer's device file or its raw TCP port."""
    if device:
        with Path(device).open("wb") as out:
            out.write(data)
    elif host:
        with socket.create_connection((host, port), timeout=10) as conn:
            conn.sendall(data)
    else:
        raise ValueError("name a --device or a --host")


def run(args: argparse.Namespace, ids: Iterable[str]) -> int:
    """Print every ticket id; the number of failures."""
    failures = 0
    for raw in ids:
        ticket_id = raw.strip()
        if not ticket_id:
            continue
        try:
            send(fetch(args.url, ticket_id), device=args.device, host=args.host, port=args.port)
        except (OSError, ValueError) as exc:
            failures += 1
            print(f"ticket {ticket_id}: {exc}", file=sys.stderr)  # noqa: T201 (a command-line tool)
    return failures


def main(argv: list[str] | None = None) -> int:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="ticketing's base URL")
    parser.add_argument("--ticket", help="the ticket id (else ids are read from standard input)")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--device", help="the printer's device file, e.g. /dev/usb/lp0")
    where.add_argument("--host", help="a network printer's address (raw port 9100)")
    parser.add_argument("--port", type=int, default=RAW_PORT)
    args = parser.parse_args(argv)
    ids = [args.ticket] if args.ticket else sys.stdin
    return 1 if run(args, ids) else 0


if __name__ == "__main__":
    raise SystemExit(main())
