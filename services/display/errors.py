"""The display service's exceptions.

Tree::

    DisplayError                root of everything this service raises
    ├── ScreenError             an event's data cannot be folded (dead-lettered)
    ├── SequenceGapError        an event's sequence skips ahead: the log decides
    └── AudioError              the speech synthesizer failed

Settings errors are the platform's :class:`SettingsError` (re-exported here).
"""

from services.platform.settings import SettingsError

__all__ = ["AudioError", "DisplayError", "ScreenError", "SettingsError"]


class DisplayError(Exception):
    """Root of every error raised by the display service."""


class ScreenError(DisplayError):
    """An event is well-formed but its data cannot be shown."""


class SequenceGapError(DisplayError):
    """An event's sequence is not the next one of its branch; the branch is re-read from the log."""


class AudioError(DisplayError):
    """Server-side speech synthesis failed."""
