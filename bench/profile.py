"""Where the time goes: py-spy samples of a service while a benchmark's load runs.

    python -m bench.profile tickets   [--seconds 20]   ticketing under 32 HTTP clients issuing
    python -m bench.profile rebuild   [--events 30000] the display rebuilding a day
    python -m bench.profile catch-up  [--events 30000] metrics reading a backlog

Prints the functions with the most samples (own and inclusive) and appends
them to ``docs/bench-profiles.md`` with ``--write``. py-spy needs the right to
ptrace the service (root, or ``kernel.yama.ptrace_scope=0``).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench import replay, ticketing
from bench.harness import Stack, simple_hall

ROOT = Path(__file__).resolve().parent.parent
PROFILES = ROOT / "docs" / "bench-profiles.md"


def summarise(raw: Path, top: int = 18) -> str:
    """The top frames of a py-spy ``--format raw`` file, own and inclusive, as Markdown."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    lines = [f"{total} samples", "", "| own % | function |", "| ---: | --- |"]
    lines += [f"| {100 * c / total:.1f} | `{f[:140]}` |" for f, c in own.most_common(top)]
    lines += ["", "| inclusive % | function |", "| ---: | --- |"]
    lines += [f"| {100 * c / total:.1f} | `{f[:140]}` |" for f, c in inclusive.most_common(top + 12)]
    return "\n".join(lines)


async def _spy(pid: int, seconds: float, out: Path) -> asyncio.subprocess.Process:
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
    return await asyncio.create_subprocess_exec(
        spy,
        "record",
        "-p",
        str(pid),
        "-d",
        str(int(seconds)),
        "-r",
        "100",
        "-f",
        "raw",
        "-o",
        str(out),
        "--nonblocking",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def _spawn(stack: Stack, service: str) -> asyncio.subprocess.Process:
    log = (stack.workdir / f"{service}.log").open("ab")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", f"services.{service}", env=stack.env, stdout=log, stderr=log
    )
    log.close()
    stack.procs[service] = proc
    return proc


async def tickets(seconds: float, out: Path) -> str:
    """Ticketing while 32 clients issue tickets over HTTP."""
    stack = Stack(extra_env=ticketing.LOAD_TEST_ENV)
    try:
        await stack.topics()
        branch = stack.name
        await stack.seed({branch: simple_hall(branch, services=10)})
        await stack.start("ticketing")
        spy = await _spy(stack.pid("ticketing"), seconds, out)
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            await ticketing.issue_http(stack.url("ticketing"), branch, 300, 32)
        await spy.wait()
        return "ticketing, 32 HTTP clients issuing tickets"
    finally:
        await stack.close()


async def rebuild(events: int, out: Path) -> str:
    """The display rebuilding a day of ``events``."""
    stack = Stack()
    try:
        await stack.topics()
        held = await replay.fill(stack.topic, events)
        proc = await _spawn(stack, "display")
        spy = await _spy(proc.pid, 60, out)
        await replay.wait_rebuilt(stack.ports["display"], proc, within=120)
        await stack.stop("display")
        await spy.wait()
        return f"display, rebuilding a day of {held:,} events (from start to exit)"
    finally:
        await stack.close()


async def catch_up(events: int, out: Path) -> str:
    """Metrics reading a backlog of ``events``."""
    stack = Stack()
    try:
        await stack.topics()
        held = await replay.fill(stack.topic, events)
        proc = await _spawn(stack, "metrics")
        spy = await _spy(proc.pid, 30, out)
        await spy.wait()
        return f"metrics, catching up a backlog of {held:,} events (first 30 s)"
    finally:
        await stack.close()


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=("tickets", "rebuild", "catch-up"))
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--write", action="store_true", help="append the summary to docs/bench-profiles.md")
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="bench-profile-")) / "raw.txt"
    if args.what == "tickets":
        title = asyncio.run(tickets(args.seconds, out))
    elif args.what == "rebuild":
        title = asyncio.run(rebuild(args.events, out))
    else:
        title = asyncio.run(catch_up(args.events, out))
    text = f"### {title}\n\n`python -m bench.profile {args.what}`\n\n{summarise(out)}\n"
    print(text)
    if args.write:
        with PROFILES.open("a") as f:
            f.write("\n" + text)


if __name__ == "__main__":
    main()
