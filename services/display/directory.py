"""The branch directory (hall name, time zone, counters), fetched from ticketing.

``GET {DISPLAY_TICKETING_URL}/api/v1/branches/{branch_id}`` is cached and
refreshed every ``DISPLAY_DIRECTORY_TTL`` seconds in the background. Lookups
never wait for the network: while ticketing is unreachable the display falls
back to what events tell it and to ``DISPLAY_DEFAULT_TIMEZONE``, and ticketing
being down never makes the display unready.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp

from services.display.errors import ScreenError
from services.display.screen import BranchInfo, parse_branch

log = logging.getLogger(__name__)

Listener = Callable[[str], None]


class Directory:
    """Cached branch entries with a background refresher."""

    def __init__(self, base_url: str, default_timezone: str, ttl: float) -> None:
        self._base = base_url
        self._default = ZoneInfo(default_timezone)
        self._ttl = ttl
        self._info: dict[str, BranchInfo] = {}
        self._fetched: dict[str, float] = {}
        self._pending: set[str] = set()
        self._wake = asyncio.Event()
        self.listeners: list[Listener] = []

    def info(self, branch_id: str) -> BranchInfo | None:
        """The cached entry, or None; asks for a fetch when it is missing or stale."""
        fetched = self._fetched.get(branch_id)
        if fetched is None or time.monotonic() - fetched > self._ttl:
            self._want(branch_id)
        return self._info.get(branch_id)

    def timezone(self, branch_id: str) -> ZoneInfo:
        """The branch's time zone, or the default while it is unknown."""
        info = self.info(branch_id)
        if info is None:
            return self._default
        try:
            return ZoneInfo(info.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return self._default

    def _want(self, branch_id: str) -> None:
        if branch_id not in self._pending:
            self._pending.add(branch_id)
            self._wake.set()

    async def run(self) -> None:
        """Fetch wanted branches forever (the app's background task)."""
        timeout = aiohttp.ClientTimeout(total=3)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                await self._wake.wait()
                self._wake.clear()
                for branch_id in sorted(self._pending):
                    self._pending.discard(branch_id)
                    await self._fetch(session, branch_id)

    async def _fetch(self, session: aiohttp.ClientSession, branch_id: str) -> None:
        # Mark the attempt first: an unreachable ticketing is retried after the TTL, not in a loop.
        self._fetched[branch_id] = time.monotonic()
        url = f"{self._base}/api/v1/branches/{branch_id}"
        try:
            async with session.get(url) as response:
                if response.status != 200:
                    log.info("branch %s not in the directory (HTTP %s)", branch_id, response.status)
                    return
                info = parse_branch(await response.json())
        except (aiohttp.ClientError, TimeoutError, ValueError, ScreenError) as exc:
            log.info("branch directory unavailable for %s: %s", branch_id, exc)
            return
        changed = self._info.get(branch_id) != info
        self._info[branch_id] = info
        if changed:
            for listener in self.listeners:
                listener(branch_id)
