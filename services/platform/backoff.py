"""Jittered exponential back-off for retry loops."""

from __future__ import annotations

import random


class Backoff:
    """Delays that double from ``initial`` up to ``maximum``, each drawn in [delay/2, delay] ("equal jitter").

    Jitter keeps replicas that failed together from retrying in step.
    :meth:`reset` after a success starts over from ``initial``.
    """

    def __init__(
        self, initial: float = 0.5, maximum: float = 15.0, *, rng: random.Random | None = None
    ) -> None:
        if not 0 < initial <= maximum:
            raise ValueError("back-off needs 0 < initial <= maximum")
        self._initial = initial
        self._maximum = maximum
        self._ceiling = initial
        self._rng = rng or random.Random()

    def next(self) -> float:
        """The delay before the next attempt (and the ceiling doubles)."""
        ceiling = self._ceiling
        self._ceiling = min(self._ceiling * 2, self._maximum)
        return self._rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        """Start over after a success."""
        self._ceiling = self._initial
