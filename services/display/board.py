"""The display's screen board: one folded screen per branch, plus what it shows with.

It joins the pure fold (``screen``) with the branch directory (time zone,
name, counters) and the audio store (an ``audio_url`` per announcement). Time
is an input: ``clock`` returns an aware ``datetime``.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from services.display import screen
from services.display.audio import AudioStore
from services.display.directory import Directory, Presence
from services.display.errors import AudioError, SequenceGapError
from services.display.screen import BranchScreen, Change
from services.events import CloudEvent, EventType

log = logging.getLogger(__name__)

SEEN_PER_BRANCH = 50_000
"""Most event ids remembered per branch (a day of a busy hall) to tell a replay from a stranger."""

Clock = Callable[[], datetime]


class ScreenBoard:
    """Folded screens of every branch seen on the topic."""

    def __init__(self, directory: Directory, audio: AudioStore, clock: Clock) -> None:
        self.directory = directory
        self.audio = audio
        self.clock = clock
        self.screens: dict[str, BranchScreen] = {}
        self.ready = False
        self._shown_day: dict[str, date] = {}
        self._seen: dict[str, OrderedDict[str, None]] = {}  # branch → ids of events folded or spent

    def today(self, branch_id: str) -> date:
        """The branch's business day now, in its own time zone."""
        return self.clock().astimezone(self.directory.timezone(branch_id)).date()

    async def exists(self, branch_id: str) -> bool | None:
        """Whether ``branch_id`` is a real branch: True, False (ticketing says no), None (nobody can tell).

        A branch with events folded today is real whatever ticketing says, so it keeps working
        while ticketing is unreachable.
        """
        if branch_id in self.screens:
            return True
        presence = await self.directory.lookup(branch_id)
        return None if presence is Presence.UNKNOWN else presence is Presence.KNOWN

    def fold(self, event: CloudEvent, *, live: bool = True) -> Change | None:
        """Fold one event; return its screen message when ``live``; raise ScreenError when it cannot show.

        Raise SequenceGapError when the sequence skips ahead, or is behind the branch's
        but belongs to no event folded before (so a forged far-ahead sequence taken as the
        day's first cannot hide the real events that follow it). A rebuild folds with
        ``live=False``: the state only, no message (its screens get a snapshot at the end).
        """
        branch = self.screens.get(event.branchid)
        if branch is None:
            branch = self.screens[event.branchid] = BranchScreen(event.branchid)
        seen = self._seen.get(event.branchid)
        if seen is None:
            seen = self._seen[event.branchid] = OrderedDict()
        if branch.seq and event.sequence <= branch.seq and event.id not in seen:
            raise SequenceGapError(f"sequence {event.sequence} is behind {branch.seq} but was never seen")
        folded = screen.fold(branch, event, today=self.today(event.branchid))
        self._remember(seen, event.id)
        if event.type is EventType.HALL_CONFIGURED:
            self.directory.refresh(event.branchid)
        return self._with_audio(screen.change(branch, folded)) if folded is not None and live else None

    def _with_audio(self, change: Change) -> Change:
        said = change.message.get("hall_announcement")
        if said is not None and said["mode"] == "speak_once":
            said["audio_url"] = self._audio_url(said["text"])
        if change.call is not None:
            url = self._audio_url(change.call.announcement)
            if url is not None:
                change.message["audio_url"] = change.message["call"]["audio_url"] = url
        return change

    def spend(self, branch_id: str, sequence: int, event_id: str | None) -> None:
        """An event could not be shown: its sequence is used up all the same."""
        branch = self.screens.get(branch_id)
        if branch is not None:
            screen.spend(branch, sequence)
            if event_id is not None:
                self._remember(self._seen.setdefault(branch_id, OrderedDict()), event_id)

    def forget(self, branch_id: str) -> None:
        """Start the branch from nothing (before it is re-read from the log)."""
        self.screens[branch_id] = BranchScreen(branch_id)
        self._seen.pop(branch_id, None)

    @staticmethod
    def _remember(seen: OrderedDict[str, None], event_id: str) -> None:
        seen[event_id] = None
        if len(seen) > SEEN_PER_BRANCH:
            seen.popitem(last=False)

    def _audio_url(self, text: str) -> str | None:
        # The fold already applied the event: a text the synthesizer refuses loses its audio, not its call.
        try:
            return self.audio.url(text)
        except AudioError as exc:
            log.warning("announcement has no audio: %s", exc)
            return None

    def new_days(self) -> list[str]:
        """Branches whose business day ended since their screens were last told (midnight rollover)."""
        rolled = []
        for branch_id, state in self.screens.items():
            today = self.today(branch_id)
            day = state.business_date
            if day is not None and day < today and self._shown_day.get(branch_id) != today:
                self._shown_day[branch_id] = today
                rolled.append(branch_id)
        return rolled

    def snapshot(self, branch_id: str, zone: str | None = None) -> dict[str, Any]:
        """The snapshot message a screen of ``branch_id`` starts from."""
        info = self.directory.info(branch_id)
        tz = self.directory.timezone(branch_id)
        state = self.screens.get(branch_id) or BranchScreen(branch_id)
        snap = screen.snapshot(state, today=self.clock().astimezone(tz).date(), zone=zone, info=info)
        # Until ticketing described the hall its name is unknown (null), never made up.
        snap["hall"] = {"name": info.name if info else None, "timezone": tz.key, "known": info is not None}
        if info is not None:
            for agency in snap["waiting"]["agencies"]:
                agency["name"] = info.agencies.get(agency["agency_id"], agency["name"])
        for call in snap["calls"]:
            url = self._audio_url(call["announcement"])
            if url is not None:
                call["audio_url"] = url
        return snap
