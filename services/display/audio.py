"""Announcements as audio synthesized on the server, for TV browsers without speech.

Only text the server produced itself can be spoken: every announcement is
registered under the hash of its text, and ``/audio/{id}.wav`` looks the text
up by that id. espeak-ng (Debian's package, voice ``id``) runs with an
argument vector, never a shell, reads the text on stdin, and its output is
cached on disk so each announcement is synthesized once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
from collections import OrderedDict
from pathlib import Path

from services.display.announce import MAX_ANNOUNCEMENT
from services.display.errors import AudioError

log = logging.getLogger(__name__)

MAX_TEXT = MAX_ANNOUNCEMENT
"""Longest text ever handed to the synthesizer (the fold never produces a longer announcement)."""
AUDIO_ID_LENGTH = 24


def audio_id(text: str) -> str:
    """Stable id of an announcement: a prefix of the SHA-256 of its text."""
    return hashlib.sha256(text.encode()).hexdigest()[:AUDIO_ID_LENGTH]


class AudioStore:
    """Registered announcement texts and their cached WAV files."""

    def __init__(self, cache_dir: Path, espeak: str, *, voice: str = "id", remember: int = 4096) -> None:
        self._dir = cache_dir
        self._espeak = espeak
        self._voice = voice
        self._remember = remember
        self._texts: OrderedDict[str, str] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}
        self._slots = asyncio.Semaphore(2)  # at most two synthesizers at once on a small box

    def register(self, text: str) -> str:
        """Remember ``text`` as speakable and return its id (``/audio/{id}.wav``)."""
        if len(text) > MAX_TEXT:
            raise AudioError(f"announcement longer than {MAX_TEXT} characters")
        key = audio_id(text)
        self._texts[key] = text
        self._texts.move_to_end(key)
        while len(self._texts) > self._remember:
            self._texts.popitem(last=False)
        return key

    def url(self, text: str) -> str:
        """Register ``text`` and return the path screens fetch it from."""
        return f"/audio/{self.register(text)}.wav"

    async def wav(self, key: str) -> Path | None:
        """The WAV file of a registered announcement, synthesized on first use; None if unknown."""
        path = self._dir / f"{key}.wav"
        if path.exists():
            return path
        text = self._texts.get(key)
        if text is None:
            return None
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if not path.exists():
                await self._synthesize(text, path)
        self._locks.pop(key, None)
        return path

    async def prewarm(self, key: str) -> None:
        """Synthesize in the background so the first screen that asks gets it at once."""
        try:
            await self.wav(key)
        except AudioError as exc:
            log.warning("could not synthesize announcement %s: %s", key, exc)

    async def _synthesize(self, text: str, path: Path) -> None:
        await asyncio.to_thread(self._dir.mkdir, parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        async with self._slots:
            try:
                proc = await asyncio.create_subprocess_exec(
                    self._espeak,
                    "-v",
                    self._voice,
                    "-s",
                    "140",
                    "-w",
                    str(tmp),
                    "--stdin",
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.PIPE,
                )
            except OSError as exc:
                raise AudioError(f"cannot run {self._espeak}: {exc}") from exc
            try:
                async with asyncio.timeout(15):
                    _, err = await proc.communicate(text.encode())
            except TimeoutError as exc:
                await _kill(proc)
                raise AudioError("speech synthesis timed out") from exc
            except asyncio.CancelledError:
                await asyncio.shield(_kill(proc))
                raise
        if proc.returncode != 0:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise AudioError(
                f"{self._espeak} failed ({proc.returncode}): {err.decode(errors='replace')[:200]}"
            )
        tmp.replace(path)


async def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.kill()
    await proc.wait()
