"""Branch time zones as the events name them (pure: no I/O).

Every event's data carries its branch's IANA ``timezone`` (and the
``business_date`` it counts for), so metrics never asks ticketing. The
exporter still needs a branch's zone between events (which day is "today"
for the queue gauges, which month for the IKM); this remembers the last zone
each branch's events named, with the configured default before the first.
"""

from __future__ import annotations

import zoneinfo


class BranchZones:
    """The time zone of each branch, learned from its events."""

    def __init__(self, default: str) -> None:
        self.default = zoneinfo.ZoneInfo(default)
        self._known: dict[str, zoneinfo.ZoneInfo] = {}

    def learn(self, branch_id: str, name: str) -> None:
        """Remember ``name`` (already validated by the event model) as the zone of ``branch_id``."""
        known = self._known.get(branch_id)
        if known is None or known.key != name:
            self._known[branch_id] = zoneinfo.ZoneInfo(name)

    def cached(self, branch_id: str) -> zoneinfo.ZoneInfo:
        """The zone known for ``branch_id`` (the default when none of its events was seen yet)."""
        return self._known.get(branch_id, self.default)
