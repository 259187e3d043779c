"""Branch time zones, asked of ticketing (``GET /api/v1/branches/{id}``) and cached.

Events carry no time zone; the branch resource does. When ticketing does not
answer, the configured default is used and asked again a few minutes later.
"""

from __future__ import annotations

import logging
import time
import zoneinfo
from collections.abc import Callable

import aiohttp

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 300.0
_TIMEOUT = aiohttp.ClientTimeout(total=2.0)


class BranchZones:
    """A cache of branch time zones in front of ticketing's branch resource."""

    def __init__(
        self,
        session: aiohttp.ClientSession | None,  # set later by the app once its loop runs
        ticketing_url: str,
        default: str,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session = session
        self._url = ticketing_url
        self.default = zoneinfo.ZoneInfo(default)
        self._known: dict[str, zoneinfo.ZoneInfo] = {}
        self._retry_at: dict[str, float] = {}
        self._monotonic = monotonic

    def cached(self, branch_id: str) -> zoneinfo.ZoneInfo:
        """The zone known for ``branch_id`` without asking anyone (the default when unknown)."""
        return self._known.get(branch_id, self.default)

    async def get(self, branch_id: str) -> zoneinfo.ZoneInfo:
        """The zone of ``branch_id``, asking ticketing once (and again after a failure, later)."""
        if branch_id in self._known:
            return self._known[branch_id]
        if self.session is None or self._monotonic() < self._retry_at.get(branch_id, 0.0):
            return self.default
        zone = await self._fetch(branch_id)
        if zone is None:
            self._retry_at[branch_id] = self._monotonic() + RETRY_AFTER_SECONDS
            return self.default
        self._known[branch_id] = zone
        return zone

    async def _fetch(self, branch_id: str) -> zoneinfo.ZoneInfo | None:
        if self.session is None:
            return None
        url = f"{self._url}/api/v1/branches/{branch_id}"
        try:
            async with self.session.get(url, timeout=_TIMEOUT) as response:
                if response.status != 200:
                    logger.info(
                        "branch %s: ticketing answered %s; using %s",
                        branch_id,
                        response.status,
                        self.default.key,
                    )
                    return None
                body = await response.json()
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            logger.info("branch %s: ticketing unreachable (%s); using %s", branch_id, exc, self.default.key)
            return None
        name = body.get("timezone") if isinstance(body, dict) else None
        try:
            return zoneinfo.ZoneInfo(name) if isinstance(name, str) else None
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            logger.warning("branch %s: unknown time zone %r; using %s", branch_id, name, self.default.key)
            return None
