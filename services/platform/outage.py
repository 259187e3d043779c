"""Log a dependency's outage once per change of state, not once per retry.

A retry loop calls :meth:`OutageLog.failed` on every failure and
:meth:`OutageLog.recovered` on every success. The first failure after a
success logs one warning (up → down); while down, one summary line is logged
every ``summary_seconds`` with how many failures happened since the last
line; the first success logs one line (down → up) with the outage's length.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class OutageLog:
    """The state (up or down) of one dependency as seen by one retry loop."""

    def __init__(
        self,
        logger: logging.Logger,
        what: str,
        *,
        summary_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = logger
        self._what = what
        self._summary_seconds = summary_seconds
        self._clock = clock
        self._down_since: float | None = None
        self._last_line = 0.0
        self._failures = 0
        self._since_line = 0

    @property
    def down(self) -> bool:
        """Whether the last attempt failed."""
        return self._down_since is not None

    def failed(self, error: BaseException | str) -> None:
        """One failed attempt: a warning when this starts an outage, a summary now and then."""
        now = self._clock()
        self._failures += 1
        self._since_line += 1
        if self._down_since is None:
            self._down_since = self._last_line = now
            self._since_line = 0
            self._log.warning("%s is down: %s", self._what, error)
        elif now - self._last_line >= self._summary_seconds:
            self._log.warning(
                "%s still down after %.0f s: %d failed attempts since the last report; last error: %s",
                self._what,
                now - self._down_since,
                self._since_line,
                error,
            )
            self._last_line = now
            self._since_line = 0

    def recovered(self) -> None:
        """One successful attempt: a line when this ends an outage, nothing otherwise."""
        if self._down_since is None:
            return
        self._log.warning(
            "%s is back after %.0f s (%d failed attempts)",
            self._what,
            self._clock() - self._down_since,
            self._failures,
        )
        self._down_since = None
        self._failures = 0
