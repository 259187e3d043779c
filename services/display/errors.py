"""The display service's exceptions.

Tree::

    DisplayError                root of everything this service raises
    ├── SettingsError           an environment variable is missing or malformed
    ├── ScreenError             an event's data cannot be folded (dead-lettered)
    ├── SequenceGapError        an event's sequence skips ahead: the log decides
    └── AudioError              the speech synthesizer failed
"""


class DisplayError(Exception):
    """Root of every error raised by the display service."""


class SettingsError(DisplayError):
    """A setting read from the environment is invalid; the message names it."""


class ScreenError(DisplayError):
    """An event is well-formed but its data cannot be shown."""


class SequenceGapError(DisplayError):
    """An event's sequence is not the next one of its branch; the branch is re-read from the log."""


class AudioError(DisplayError):
    """Server-side speech synthesis failed."""
