"""What docs/operations.md says about the services, read from its tables.

The deployment tests compare the container, compose and Helm files with
these documented facts (ports and environment variables), so that a
variable renamed or a port moved in one place fails the build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ROOT / "docs" / "operations.md"
SERVICES = ("ticketing", "display", "metrics")


@dataclass(frozen=True)
class Variable:
    """One row of the configuration table: a variable and the services that read it."""

    name: str
    used_by: frozenset[str]


def _rows(heading: str) -> list[list[str]]:
    """The body rows of the first table after ``heading``, as lists of cells."""
    text = OPERATIONS.read_text(encoding="utf-8")
    start = text.index(heading)
    rows: list[list[str]] = []
    in_table = False
    for line in text[start:].splitlines()[1:]:
        if line.startswith("|"):
            in_table = True
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not set("".join(cells)) <= set("-: "):
                rows.append(cells)
        elif in_table:
            break
    return rows[1:]  # without the header row


def documented_variables() -> dict[str, Variable]:
    """Every variable of the configuration table, with the services it names."""
    found: dict[str, Variable] = {}
    for cells in _rows("## Configuration (environment variables)"):
        users = cells[1].lower()
        used_by = (
            frozenset(SERVICES) if users.startswith("all") else frozenset(s for s in SERVICES if s in users)
        )
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0]):
            found[name] = Variable(name, used_by)
    return found


def documented_ports() -> dict[str, int]:
    """Each service's port, from the table of processes and their health."""
    return {
        cells[0]: int(cells[1]) for cells in _rows("## Processes and their health") if cells[0] in SERVICES
    }
