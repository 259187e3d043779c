"""The benchmark's one table, its plots and docs/benchmarks.md, from the results of one run."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

Row = tuple[str, str, str, str, str, str]  # figure, measured, floor, ratio, goal, met

HEADER: Row = ("figure", "measured", "floor (same run)", "ratio", "goal", "met")


def _f(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _ratio(measured: float | None, floor: float | None) -> str:
    if not measured or not floor or math.isnan(measured) or math.isnan(floor):
        return "–"
    return f"{measured / floor:.2f}×"


def _met(ok: bool | None) -> str:
    return "–" if ok is None else ("yes" if ok else "**no**")


def _floor_sum(floor: dict[str, dict[str, float]], key: str) -> float:
    return sum(part[key] for part in floor.values())


def screen_rows(section: dict[str, Any]) -> list[Row]:
    """Call → screen at each size; memory; the largest size under one second."""
    rows: list[Row] = []
    sizes = section["sizes"]
    for s in sizes:
        n, lat, floor = s["screens"], s["latency_ms"], s["floor_ms"]
        f50, f99 = _floor_sum(floor, "p50"), _floor_sum(floor, "p99")
        goal50 = goal99 = "–"
        ok50 = ok99 = None
        if n == 1000:
            goal50, ok50 = "≤ 2× floor", lat["p50"] <= 2 * f50
            goal99, ok99 = "< 50 ms", lat["p99"] < 50
        parts = " + ".join(f"{k} {_f(v['p50'])}" for k, v in floor.items())
        rows.append(
            (
                f"call → screen, {n:,} screens, p50 ms",
                _f(lat["p50"]),
                f"{_f(f50)} ({parts})",
                _ratio(lat["p50"], f50),
                goal50,
                _met(ok50),
            )
        )
        rows.append(
            (
                f"call → screen, {n:,} screens, p99 ms",
                _f(lat["p99"]),
                _f(f99),
                _ratio(lat["p99"], f99),
                goal99,
                _met(ok99),
            )
        )
        rows.append(
            (
                f"call → screen, {n:,} screens, max ms",
                _f(lat["max"]),
                _f(_floor_sum(floor, "max")),
                _ratio(lat["max"], _floor_sum(floor, "max")),
                "–",
                "–",
            )
        )
    biggest = max(sizes, key=lambda s: s["screens"])
    kib = biggest["kib_per_screen"]
    rows.append(
        (
            f"memory per screen at {biggest['screens']:,} screens, KiB",
            _f(kib),
            "–",
            "–",
            "≤ 15 KiB",
            _met(kib <= 15 if biggest["screens"] >= 1000 else None),
        )
    )
    held = [s["screens"] for s in sizes if s["latency_ms"]["p99"] < 1000]
    largest = max(held) if held else 0
    rows.append(
        (
            "largest screens held with call → last screen p99 < 1 s (of those measured)",
            f"{largest:,}",
            "–",
            "–",
            "≥ 10,000",
            _met(largest >= 10_000),
        )
    )
    share = biggest.get("load_generator_share")
    cores = biggest["cpu_cores"]
    rows.append(
        (
            f"load generator's share of the machine's CPU at {biggest['screens']:,} screens",
            f"{100 * share:.0f} %" if share is not None else "–",
            f"display {cores.get('display', 0):.2f} cores, machine {cores.get('machine', 0):.2f}",
            "–",
            "reported",
            "–",
        )
    )
    return rows


def ticket_rows(section: dict[str, Any]) -> list[Row]:
    """Tickets/s over HTTP beside raw asyncpg, and end to end."""
    rows: list[Row] = []
    for level in section["levels"]:
        c, http, raw = level["clients"], level["http"]["per_second"], level["raw"]["per_second"]
        rows.append(
            (
                f"tickets/s over HTTP, {c} clients",
                _f(http),
                f"{_f(raw)} (raw asyncpg, {c} conns)",
                _ratio(http, raw),
                "≥ 0.7×",
                _met(http / raw >= 0.7),
            )
        )
        e2e = level["end_to_end_per_second"]
        rows.append(
            (
                f"tickets/s end to end (Kafka + display + metrics), {c} clients",
                _f(e2e),
                _f(raw),
                _ratio(e2e, raw),
                "≥ 1,000/s",
                _met(e2e >= 1000),
            )
        )
    return rows


def replay_rows(section: dict[str, Any]) -> list[Row]:
    """The display's rebuild and metrics' catch-up."""
    rows: list[Row] = []
    for day in section.get("display_rebuild", []):
        n = day["events"]
        goal, ok = ("< 2 s", day["rebuild_seconds"] < 2) if n >= 90_000 else ("–", None)
        rows.append(
            (
                f"display rebuild of a {n:,}-event day, s ({day.get('rebuild_from', 'start-up excluded')})",
                _f(day["rebuild_seconds"], 2),
                f"{_f(day['floor_seconds'], 2)} (bare read)",
                _ratio(day["rebuild_seconds"], day["floor_seconds"]),
                goal,
                _met(ok),
            )
        )
    m = section.get("metrics_catch_up")
    if m:
        rows.append(
            (
                f"metrics catch-up after a {m['events']:,}-event backlog, events/s",
                _f(m["events_per_second"]),
                f"{_f(m['floor_events_per_second'])} (bare read)",
                _ratio(m["events_per_second"], m["floor_events_per_second"]),
                "≥ 20,000/s",
                _met(m["events_per_second"] >= 20_000),
            )
        )
    return rows


def hallday_rows(section: dict[str, Any]) -> list[Row]:
    """Peaks over the compressed day."""
    series = section["series"]

    def peak(key: str) -> float | None:
        values = [r[key] for r in series if r.get(key) is not None]
        return max(values) if values else None

    name = (
        f"hall day, {section['branches']} branches"
        f" ({section['simulated_events']:,} events in {section['replay_seconds']:.0f} s)"
    )
    drain = None
    if section.get("drained_t") is not None:
        drain = section["drained_t"] - section["replay_end_t"]
    return [
        (f"{name}: peak outbox backlog", _f(peak("outbox_backlog"), 0), "–", "–", "–", "–"),
        (
            f"{name}: peak consumer lag display / metrics",
            f"{_f(peak('display_consumer_lag'), 0)} / {_f(peak('metrics_consumer_lag'), 0)}",
            "–",
            "–",
            "–",
            "–",
        ),
        (
            f"{name}: peak event lag display / metrics, ms",
            f"{_f(1000 * (peak('display_event_lag_s') or 0))}"
            f" / {_f(1000 * (peak('metrics_event_lag_s') or 0))}",
            "–",
            "–",
            "–",
            "–",
        ),
        (f"{name}: drained after the last action, s", _f(drain, 2), "–", "–", "–", "–"),
    ]


def table(results: dict[str, Any]) -> list[Row]:
    """Every row of the one table, for the sections that ran."""
    rows: list[Row] = []
    for key, build in (
        ("screens", screen_rows),
        ("tickets", ticket_rows),
        ("replay", replay_rows),
        ("hallday", hallday_rows),
    ):
        section = results.get(key)
        if isinstance(section, dict) and "error" not in section:
            rows.extend(build(section))
        elif isinstance(section, dict):
            rows.append((f"{key}: failed", section["error"][:80], "–", "–", "–", "–"))
    return rows


def markdown_table(rows: list[Row]) -> str:
    """The rows as a Markdown table."""
    lines = ["| " + " | ".join(HEADER) + " |", "| --- | ---: | ---: | ---: | --- | --- |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def text_table(rows: list[Row]) -> str:
    """The rows aligned for a terminal."""
    widths = [max(len(r[i]) for r in [HEADER, *rows]) for i in range(len(HEADER))]
    out = []
    for r in [HEADER, *rows]:
        out.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    return "\n".join(out)


def plots(results: dict[str, Any], folder: Path) -> list[str]:
    """PNG plots of the sections that ran; their file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    made = []
    screens = results.get("screens")
    if isinstance(screens, dict) and "sizes" in screens:
        sizes = screens["sizes"]
        n = [s["screens"] for s in sizes]
        fig, ax = plt.subplots(figsize=(7, 4.2))
        for key, style in (("p50", "o-"), ("p99", "s-"), ("max", "^:")):
            ax.plot(n, [s["latency_ms"][key] for s in sizes], style, label=f"call → screen {key}")
        for key, style in (("p50", "o--"), ("p99", "s--")):
            ax.plot(
                n, [_floor_sum(s["floor_ms"], key) for s in sizes], style, alpha=0.6, label=f"floor {key}"
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.axhline(1000, color="grey", lw=0.8)
        ax.set_xlabel("screens connected to one display process")
        ax.set_ylabel("ms")
        ax.set_title("Call → screen beside its floor (same run)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(folder / "bench-call-to-screen.png", dpi=110)
        plt.close(fig)
        made.append("bench-call-to-screen.png")
    tickets = results.get("tickets")
    if isinstance(tickets, dict) and "levels" in tickets:
        levels = tickets["levels"]
        xs = range(len(levels))
        fig, ax = plt.subplots(figsize=(7, 4.2))
        w = 0.27
        ax.bar(
            [x - w for x in xs], [lv["raw"]["per_second"] for lv in levels], w, label="raw asyncpg (floor)"
        )
        ax.bar(list(xs), [lv["http"]["per_second"] for lv in levels], w, label="over HTTP")
        ax.bar([x + w for x in xs], [lv["end_to_end_per_second"] for lv in levels], w, label="end to end")
        ax.axhline(1000, color="grey", lw=0.8, ls="--")
        ax.set_xticks(list(xs), [f"{lv['clients']} clients" for lv in levels])
        ax.set_ylabel("tickets per second")
        ax.set_title("Tickets issued per second beside raw asyncpg (same run)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(folder / "bench-tickets.png", dpi=110)
        plt.close(fig)
        made.append("bench-tickets.png")
    day = results.get("hallday")
    if isinstance(day, dict) and "series" in day:
        series = day["series"]
        t = [r["t"] for r in series]
        fig, axes = plt.subplots(3, 1, figsize=(7, 7), sharex=True)
        axes[0].plot(t, [r["outbox_backlog"] for r in series])
        axes[0].set_ylabel("outbox backlog")
        axes[1].plot(t, [r["display_consumer_lag"] for r in series], label="display")
        axes[1].plot(t, [r["metrics_consumer_lag"] for r in series], label="metrics")
        axes[1].set_ylabel("consumer lag (records)")
        axes[1].legend(fontsize=8)
        for key, label in (("display_event_lag_s", "display"), ("metrics_event_lag_s", "metrics")):
            pts = [(r["t"], 1000 * r[key]) for r in series if r.get(key) is not None]
            axes[2].plot([p[0] for p in pts], [p[1] for p in pts], ".-", label=label)
        axes[2].set_ylabel("event lag, ms (mean)")
        axes[2].set_yscale("log")
        axes[2].legend(fontsize=8)
        for ax in axes:
            ax.axvline(day["replay_end_t"], color="grey", lw=0.8, ls="--")
        axes[2].set_xlabel("seconds since the services were ready (dashed: last action replayed)")
        fig.suptitle(f"Compressed hall day: {day['branches']} branches, {day['simulated_events']:,} events")
        fig.tight_layout()
        fig.savefig(folder / "bench-hallday.png", dpi=110)
        plt.close(fig)
        made.append("bench-hallday.png")
    return made


def document(results: dict[str, Any], rows: list[Row], images: list[str], notes: str) -> str:
    """docs/benchmarks.md."""
    meta = results["meta"]
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (quick subset: `make bench BENCH_ARGS=--quick`); do not edit by hand —",
        "the hand-written analysis lives in `docs/bench-notes.md` and is appended below.",
        "",
        f"Run: {meta['started']} · commit `{meta['commit']}` · {meta['cpus']} CPUs · "
        f"load average at start {meta['loadavg']} · mode `{meta['mode']}` · "
        f"uvloop {meta['uvloop']} · {meta['seconds']:.0f} s.",
        "",
        "Every figure stands beside its floor measured in the same run on the same machine, so the",
        "ratio holds even when the absolute numbers swing with the machine's other load. The load",
        "generator runs on the same machine (its CPU share is a row of the table).",
        "",
        markdown_table(rows),
        "",
    ]
    for image in images:
        lines += [f"![{image}](img/{image})", ""]
    lines += [
        "## How each figure is measured",
        "",
        "- **call → screen**: `bench/display.py`. Ticketing and display run as their own processes",
        "  (private topic and schema); screens are websocket clients in worker processes",
        "  (`bench/screens.py`, 2,500 per worker). Latency runs from just before the counter's HTTP",
        "  `POST …/call-next` to the moment each screen has the `ticket.called` message (system-wide",
        "  monotonic clock). Floor = HTTP round trip (`GET /healthz`) + PostgreSQL commit of a call's",
        "  writes (two updates, an outbox row, a NOTIFY) + bare aiokafka produce→consume with",
        "  `acks=all` + bare `websockets.broadcast` to the same number of clients in its own process.",
        "  The floor's p99 is the sum of the parts' p99s (an overestimate, so the p99 ratio flatters).",
        "- **memory per screen**: the display's RSS growth over connecting the screens, divided.",
        "- **tickets/s**: `bench/ticketing.py`. HTTP kiosk issues at each concurrency; the floor is the",
        "  same writes (daily number upsert, ticket row, outbox row) through asyncpg with as many",
        "  connections in a second schema migrated by ticketing (same tables, indexes, triggers).",
        "  End to end counts until ticketing's relay has Kafka's ack for every event and display and",
        "  metrics have each folded every `ticket.issued`.",
        "- **rebuild / catch-up**: `bench/replay.py`, simulated days (`bench/simulate.py`) on a",
        "  private topic; rebuild = display start → ready minus start → ready on an empty topic;",
        "  catch-up = events / time from ready until metrics' committed offsets reach the end. The",
        "  floor is a bare aiokafka consumer reading and parsing the same records.",
        "- **hall day**: `bench/hallday.py` replays the simulator's 50-branch day against ticketing's",
        "  HTTP API, compressed, with display and metrics consuming; sampled every 0.5 s.",
        "",
    ]
    if notes:
        lines += [notes.rstrip(), ""]
    return "\n".join(lines)
