"""Finding a service by what a citizen types: Indonesian, forgiving of missing words and typos.

:func:`score` rates one service against a query in ``[0, 1]``: each query word
takes its best match among the service's words (its name, its agency's name,
its prefix and keywords): exact 1, a word start 0.9, within one or two edits
0.75, inside a longer word 0.6; the score is the mean over the query's words,
so a word that matches nothing lowers it but does not exclude the service.
Filler words (``mau``, ``buat``, ``untuk``...) are ignored. Pure code.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_FILLER = (
    "mau ingin akan buat bikin membuat mengurus urus untuk dan atau yang di ke dari saya aku tolong"
    " minta cara layanan pelayanan the a an of for to i want"
)
STOPWORDS = frozenset(_FILLER.split(" "))
"""Words that say nothing about which service is meant."""

SYNONYMS: dict[str, tuple[str, ...]] = {
    "ktp": ("ktp", "el", "identitas"),
    "lahir": ("kelahiran",),
    "mati": ("kematian",),
    "meninggal": ("kematian",),
    "nikah": ("perkawinan", "pernikahan"),
    "kawin": ("perkawinan",),
    "cerai": ("perceraian",),
    "pajak": ("pkb", "pajak"),
    "motor": ("kendaraan",),
    "mobil": ("kendaraan",),
    "sim": ("surat", "izin", "mengemudi"),
    "paspor": ("paspor",),
    "usaha": ("berusaha", "usaha"),
    "izin": ("izin", "perizinan"),
    "anak": ("anak", "kia"),
    "pindah": ("pindah", "datang"),
}
"""Everyday words and the words services are named with."""

MIN_SCORE = 0.3
"""Below this a service is not a result."""

_WORD_RE = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Searchable:
    """A service as the search sees it."""

    service_id: str
    name: str
    agency_name: str = ""
    prefix: str = ""
    keywords: tuple[str, ...] = ()

    def words(self) -> tuple[str, ...]:
        """Every word the service may be found by."""
        return tuple(words(" ".join((self.name, self.agency_name, self.prefix, *self.keywords))))


def normalise(text: str) -> str:
    """Lower case, accents removed, anything but letters and digits a space."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The words of ``text`` (normalised), KTP-el as ``ktp`` and ``el``."""
    return _WORD_RE.findall(normalise(text))


def query_words(query: str) -> list[str]:
    """The words of a query that carry meaning (filler words dropped, order kept, no repeats)."""
    seen: list[str] = []
    for word in words(query):
        if word not in STOPWORDS and word not in seen:
            seen.append(word)
    return seen


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Damerau-Levenshtein distance (adjacent swaps count one), capped at ``limit + 1``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


def word_score(query: str, word: str) -> float:
    """How well one query word matches one word of a service."""
    if query == word:
        return 1.0
    if len(query) >= 2 and word.startswith(query):
        return 0.9
    allowed = 1 if len(query) < 7 else 2
    if len(query) >= 4 and edit_distance(query, word, allowed) <= allowed:
        return 0.75
    if len(query) >= 4 and query in word:
        return 0.6
    return 0.0


def _best(query: str, service_words: Sequence[str]) -> float:
    candidates = (query, *SYNONYMS.get(query, ()))
    best = 0.0
    for i, candidate in enumerate(candidates):
        weight = 1.0 if i == 0 else 0.95
        for word in service_words:
            best = max(best, weight * word_score(candidate, word))
    return best


def score(query: str, service: Searchable) -> float:
    """How well ``service`` answers ``query``, in ``[0, 1]`` (0 for a query with no meaningful word)."""
    asked = query_words(query)
    if not asked:
        return 0.0
    own = service.words()
    return sum(_best(word, own) for word in asked) / len(asked)


def search(query: str, services: Iterable[Searchable], limit: int = 12) -> list[tuple[Searchable, float]]:
    """The best ``limit`` services for ``query``, best first (ties by name), none below MIN_SCORE."""
    scored = [(s, score(query, s)) for s in services]
    found = [(s, v) for s, v in scored if v >= MIN_SCORE]
    found.sort(key=lambda pair: (-pair[1], pair[0].name, pair[0].service_id))
    return found[:limit]
