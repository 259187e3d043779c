"""The branch directory (hall name, time zone, counters), fetched from ticketing.

``GET {DISPLAY_TICKETING_URL}/api/v1/branches/{branch_id}`` is cached and
refreshed every ``DISPLAY_DIRECTORY_TTL`` seconds in the background. Lookups
for showing a screen (:meth:`Directory.info`, :meth:`Directory.timezone`)
never wait for the network. A background look-up that fails (ticketing not
up yet, or down) is retried with back-off (``RETRY_FIRST`` doubling up to
``RETRY_MOST`` seconds) until ticketing answers; until then
:meth:`Directory.described` is false for the branch, which keeps the
display unready, and the hall's name is shown as unknown. Once a branch was
described, ticketing being down never makes the display unready.

:meth:`Directory.lookup` answers whether a branch exists, for the edges that
admit screens: ``KNOWN`` (ticketing described it), ``MISSING`` (ticketing
answered 404) or ``UNKNOWN`` (ticketing could not be asked). Any id a client
sends can reach it, so nothing about it grows without bound: a 404 is
remembered for ``negative_ttl`` seconds in a bounded map (a flood of one
bogus id costs ticketing one request), concurrent lookups of one id share one
request, at most ``max_in_flight`` requests run at once, and after ticketing
failed the directory answers ``UNKNOWN`` for ``retry_after`` seconds without
asking again. Only branches ticketing described are kept for good.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp

from services.display.errors import ScreenError
from services.display.screen import BranchInfo, parse_branch

log = logging.getLogger(__name__)

Listener = Callable[[str], None]
NEGATIVE_TTL = 30.0
"""Seconds a "no such branch" answer is trusted before ticketing is asked again."""
RETRY_AFTER = 5.0
"""Seconds after a failed request during which unknown ids are not asked about."""
REMEMBER = 4096
"""Most ids remembered as missing, or as recently asked about (the oldest are forgotten first)."""
MAX_PENDING = 256
"""Most background refreshes queued at once (more are asked for again on their next use)."""
RETRY_FIRST = 0.5
"""Seconds before a failed background look-up is first retried (doubling each time)."""
RETRY_MOST = 30.0
"""Longest wait between retries of a failed background look-up."""


class Presence(enum.Enum):
    """Whether ticketing knows a branch."""

    KNOWN = "known"
    MISSING = "missing"
    UNKNOWN = "unknown"


class Directory:
    """Cached branch entries with a background refresher."""

    def __init__(
        self,
        base_url: str,
        default_timezone: str,
        ttl: float,
        *,
        negative_ttl: float = NEGATIVE_TTL,
        retry_after: float = RETRY_AFTER,
        max_in_flight: int = 4,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base = base_url
        self._default = ZoneInfo(default_timezone)
        self._ttl = ttl
        self._negative_ttl = negative_ttl
        self._retry_after = retry_after
        self._now = clock
        self._info: dict[str, BranchInfo] = {}
        self._asked: OrderedDict[str, float] = OrderedDict()  # id → when ticketing was last asked
        self._missing: OrderedDict[str, float] = OrderedDict()  # id → when ticketing said 404
        self._down_until = 0.0
        self._inflight: dict[str, asyncio.Future[Presence]] = {}
        self._slots = asyncio.Semaphore(max_in_flight)
        self._pending: set[str] = set()
        self._retry: OrderedDict[str, tuple[float, float]] = OrderedDict()  # id → (when, next delay)
        self._wake = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None
        self.listeners: list[Listener] = []

    def info(self, branch_id: str) -> BranchInfo | None:
        """The cached entry, or None; asks for a fetch when it is missing or stale."""
        asked = self._asked.get(branch_id)
        if (asked is None or self._now() - asked > self._ttl) and not self._known_missing(branch_id):
            self._want(branch_id)
        return self._info.get(branch_id)

    def refresh(self, branch_id: str) -> None:
        """Fetch the branch again now (its configuration changed: ``hall.configured``)."""
        self._asked.pop(branch_id, None)
        self._want(branch_id)

    def described(self, branch_id: str) -> bool:
        """Whether ticketing answered for the branch (described it, or said it does not exist)."""
        return branch_id in self._info or branch_id in self._missing

    def timezone(self, branch_id: str) -> ZoneInfo:
        """The branch's time zone, or the default while it is unknown."""
        info = self.info(branch_id)
        if info is None:
            return self._default
        try:
            return ZoneInfo(info.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return self._default

    async def lookup(self, branch_id: str) -> Presence:
        """Whether ticketing knows ``branch_id``, from the caches or (bounded) one request."""
        if branch_id in self._info:
            self.info(branch_id)  # refreshes in the background when stale
            return Presence.KNOWN
        if self._known_missing(branch_id):
            return Presence.MISSING
        if self._session is None or self._now() < self._down_until:
            return Presence.UNKNOWN
        if branch_id not in self._inflight and self._slots.locked():
            return Presence.UNKNOWN  # ticketing is busy with other ids: a handshake never queues for it
        return await self._ask(branch_id)

    def _known_missing(self, branch_id: str) -> bool:
        said = self._missing.get(branch_id)
        if said is None:
            return False
        if self._now() - said <= self._negative_ttl:
            return True
        del self._missing[branch_id]
        return False

    def _want(self, branch_id: str) -> None:
        if branch_id not in self._pending and len(self._pending) < MAX_PENDING:
            self._pending.add(branch_id)
            self._wake.set()

    async def run(self) -> None:
        """Fetch wanted branches forever (the app's background task)."""
        timeout = aiohttp.ClientTimeout(total=3)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            self._session = session
            try:
                while True:
                    await self._until_wanted()
                    for branch_id in sorted(self._pending):
                        self._pending.discard(branch_id)
                        presence = await self._ask(branch_id)
                        self._schedule_retry(branch_id, failed=presence is Presence.UNKNOWN)
            finally:
                self._session = None

    async def _until_wanted(self) -> None:
        """Wait until a branch is wanted or a failed look-up is due again; queue the due ones."""
        due = min((at for at, _ in self._retry.values()), default=None)
        delay = None if due is None else max(0.0, due - self._now())
        try:
            async with asyncio.timeout(delay):
                await self._wake.wait()
        except TimeoutError:
            pass
        self._wake.clear()
        now = self._now()
        for branch_id, (at, _) in list(self._retry.items()):
            if at <= now and len(self._pending) < MAX_PENDING:
                self._pending.add(branch_id)

    def _schedule_retry(self, branch_id: str, *, failed: bool) -> None:
        if not failed:
            self._retry.pop(branch_id, None)
            return
        _, delay = self._retry.get(branch_id, (0.0, RETRY_FIRST))
        self._retry[branch_id] = (self._now() + delay, min(delay * 2, RETRY_MOST))
        while len(self._retry) > REMEMBER:
            self._retry.popitem(last=False)

    async def _ask(self, branch_id: str) -> Presence:
        # One request per id at a time: a burst of handshakes for one id shares its answer.
        running = self._inflight.get(branch_id)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[Presence] = asyncio.get_running_loop().create_future()
        self._inflight[branch_id] = future
        presence = Presence.UNKNOWN
        try:
            presence = await self._fetch(branch_id)
            return presence
        finally:
            del self._inflight[branch_id]
            future.set_result(presence)

    async def _fetch(self, branch_id: str) -> Presence:
        session = self._session
        if session is None:
            return Presence.UNKNOWN
        async with self._slots:
            # Mark the attempt first: an unreachable ticketing is retried after the TTL, not in a loop.
            self._remember(self._asked, branch_id)
            try:
                async with session.get(f"{self._base}/api/v1/branches/{branch_id}") as response:
                    status = response.status
                    body = await response.json() if status == 200 else None
                info = parse_branch(body) if status == 200 else None
            except (aiohttp.ClientError, TimeoutError, ValueError, ScreenError) as exc:
                return self._failed(branch_id, str(exc))
        if status == 404:
            log.info("branch %s is not in the directory", branch_id)
            self._remember(self._missing, branch_id)
            return Presence.MISSING
        if info is None:
            return self._failed(branch_id, f"HTTP {status}")
        self._missing.pop(branch_id, None)
        changed = self._info.get(branch_id) != info
        self._info[branch_id] = info
        if changed:
            for listener in self.listeners:
                listener(branch_id)
        return Presence.KNOWN

    def _failed(self, branch_id: str, why: str) -> Presence:
        log.info("branch directory unavailable for %s: %s", branch_id, why)
        self._down_until = self._now() + self._retry_after
        return Presence.KNOWN if branch_id in self._info else Presence.UNKNOWN

    def _remember(self, seen: OrderedDict[str, float], branch_id: str) -> None:
        seen[branch_id] = self._now()
        seen.move_to_end(branch_id)
        while len(seen) > REMEMBER:
            seen.popitem(last=False)
