"""``python -m bench``: every benchmark section, one table, docs/benchmarks.md and its plots.

    python -m bench                      the full run (about 15 minutes on 2 cores)
    python -m bench --quick              a smaller subset (a few minutes)
    python -m bench --only screens tickets
    python -m bench --render             re-render the table and docs from the last results

Needs the real Kafka and PostgreSQL (``make bench`` starts them). Every
section starts its own service processes on private topics and schemas and
removes them afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import display, hallday, replay, report, ticketing
from bench.harness import raise_nofile

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
RESULTS = DOCS / "bench-results.json"
NOTES = DOCS / "bench-notes.md"
SECTIONS = ("screens", "tickets", "replay", "hallday")

FULL = {
    "screens": {"screens": [1, 100, 1000, 10000], "calls": 30, "gap": 0.05, "floor_calls": 15},
    "tickets": {"clients": [8, 32, 128], "tickets": 3000},
    "replay": {"days": [10_000, 100_000], "backlog": 100_000},
    "hallday": {"branches": 50, "tickets": 20, "seconds": 60.0},
}
QUICK = {
    "screens": {"screens": [1, 100, 1000], "calls": 10, "gap": 0.05, "floor_calls": 5},
    "tickets": {"clients": [8, 32], "tickets": 1000},
    "replay": {"days": [10_000], "backlog": 20_000},
    "hallday": {"branches": 50, "tickets": 10, "seconds": 30.0},
}


async def _section(name: str, params: dict[str, Any]) -> dict[str, Any]:
    if name == "screens":
        return await display.run(params["screens"], params["calls"], params["gap"], params["floor_calls"])
    if name == "tickets":
        return await ticketing.run(params["clients"], params["tickets"])
    if name == "replay":
        return await replay.run(params["days"], params["backlog"])
    return await hallday.run(params["branches"], params["tickets"], params["seconds"])


def _meta(mode: str) -> dict[str, Any]:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit or "?",
        "cpus": os.cpu_count(),
        "loadavg": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        "mode": mode,
        "uvloop": os.environ.get("ANTRIAN_UVLOOP", "1"),
        "nofile": raise_nofile(),
    }


def render(results: dict[str, Any], out: Path) -> str:
    """Write the plots and ``out``; return the table as text."""
    rows = report.table(results)
    images = report.plots(results, out.parent / "img")
    notes = NOTES.read_text() if NOTES.exists() else ""
    out.write_text(report.document(results, rows, images, notes))
    return report.text_table(rows)


def main() -> None:
    """Run the chosen sections, save the results, print the table, write the docs."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller subset of every section")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--out", type=Path, default=DOCS / "benchmarks.md")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--render", action="store_true", help="only re-render from --results")
    parser.add_argument("--merge", action="store_true", help="keep the other sections of --results")
    args = parser.parse_args()
    if args.render:
        print(render(json.loads(args.results.read_text()), args.out))
        return
    plan = QUICK if args.quick else FULL
    results: dict[str, Any] = {}
    if args.merge and args.results.exists():  # re-measure some sections, keep the others
        results = json.loads(args.results.read_text())
    results["meta"] = {**results.get("meta", {}), **_meta("quick" if args.quick else "full")}
    started = time.monotonic()
    for name in args.only:
        print(f"== {name} {json.dumps(plan[name])}", flush=True)
        try:
            results[name] = asyncio.run(_section(name, plan[name]))
        except Exception as exc:  # one failed section must not lose the others
            traceback.print_exc()
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
    results["meta"]["seconds"] = time.monotonic() - started
    args.results.write_text(json.dumps(results, indent=1))
    print()
    print(render(results, args.out))
    print(f"\nwrote {args.out} and {args.results}")


if __name__ == "__main__":
    main()
