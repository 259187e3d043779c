"""Every PromQL expression the dashboards and alert rules ask Prometheus.

Collects the ``targets[].expr`` of every panel of every dashboard under
``deploy/grafana/dashboards``, the template variable queries, and the ``expr``
of every alert rule in ``deploy/prometheus/alerts.yml``; substitutes Grafana's
variables; and takes an alert's expression apart at its top-level comparison
so the part that must return data can be queried on its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
PROMETHEUS = ROOT / "deploy" / "prometheus"
ALERTS = PROMETHEUS / "alerts.yml"

# Metrics only the ticketing or display service exports; every other qms_ name
# is the metrics service's. up, process_* and the HTTP histogram: any service.
_OWNERS = (
    ("qms_outbox_", "ticketing"),
    ("qms_housekeeping_", "ticketing"),
    ("qms_day_closed_", "ticketing"),
    ("qms_display_", "display"),
)
_EVERY_SERVICE = ("process_", "qms_http_")
_METRIC_RE = re.compile(r"\b((?:qms|process)_[a-z_]+|up)\b(?!\s*\()")
_LABEL_VALUES_RE = re.compile(r"^label_values\((?P<selector>.+),\s*(?P<label>[a-z_]+)\)$")
_COMPARISONS = ("==", "!=", ">=", "<=", ">", "<")


@dataclass(frozen=True, slots=True)
class Query:
    """One expression and where it comes from."""

    origin: str
    expr: str

    @property
    def metrics(self) -> frozenset[str]:
        """The metric names the expression selects (label names and functions excluded)."""
        without_labels = re.sub(r"\{[^}]*\}", "{}", self.expr)
        without_by = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", without_labels)
        return frozenset(_METRIC_RE.findall(without_by))

    @property
    def services(self) -> frozenset[str]:
        """Which services must run for this expression to have data."""
        return frozenset(owner for m in self.metrics if (owner := _owner(m)))


def _owner(metric: str) -> str | None:
    if metric == "up" or metric.startswith(_EVERY_SERVICE):
        return None
    return next((owner for prefix, owner in _OWNERS if metric.startswith(prefix)), "metrics")


def dashboards() -> list[dict[str, Any]]:
    """Every dashboard JSON, parsed."""
    return [json.loads(p.read_text()) for p in sorted(DASHBOARDS.glob("*.json"))]


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel of a dashboard, including those nested in collapsed rows."""
    for panel in board.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def panel_queries() -> list[Query]:
    """The ``targets[].expr`` of every panel of every dashboard."""
    found = []
    for board in dashboards():
        for panel in panels(board):
            for target in panel.get("targets", []):
                origin = f"{board['uid']}: {panel['title']!r} [{target.get('refId')}]"
                found.append(Query(origin, target["expr"]))
    return found


def variable_queries() -> list[tuple[str, str, str]]:
    """``(origin, selector, label)`` of every ``label_values`` template variable."""
    found = []
    for board in dashboards():
        for variable in board.get("templating", {}).get("list", []):
            query = variable.get("query")
            text = query.get("query") if isinstance(query, dict) else query
            match = _LABEL_VALUES_RE.match(str(text))
            if match:
                origin = f"{board['uid']}: variable ${variable['name']}"
                found.append((origin, match["selector"].strip(), match["label"]))
    return found


def alert_rules() -> list[dict[str, Any]]:
    """Every rule of alerts.yml."""
    loaded = yaml.safe_load(ALERTS.read_text())
    return [rule for group in loaded["groups"] for rule in group["rules"]]


def alert_queries() -> list[Query]:
    """The left side of each alert's comparison: what must return data."""
    return [Query(f"alert {r['alert']}", left_of_comparison(r["expr"])) for r in alert_rules()]


def substitute(expr: str, variables: dict[str, str]) -> str:
    """Replace Grafana variables (``$name``, ``${name}``) the way Grafana would."""
    builtins = {"__rate_interval": "1m", "__interval": "15s", "__range": "1h", **variables}

    def value(match: re.Match[str]) -> str:
        name = match["braced"] or match["bare"]
        if name not in builtins:
            raise KeyError(f"unknown dashboard variable ${name} in {expr!r}")
        return builtins[name]

    return re.sub(r"\$(?:\{(?P<braced>\w+)\}|(?P<bare>\w+))", value, expr)


def left_of_comparison(expr: str) -> str:
    """The expression left of its last top-level comparison operator (the whole one if none)."""
    depth, quote, cut, i = 0, "", -1, 0
    while i < len(expr):
        ch = expr[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0:
            op = next((op for op in _COMPARISONS if expr.startswith(op, i)), None)
            if op and not expr.startswith(("=~", "!~"), i):
                cut = i
                i += len(op) - 1
        i += 1
    return expr if cut < 0 else expr[:cut].strip()
