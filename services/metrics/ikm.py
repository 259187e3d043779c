"""The IKM (Indeks Kepuasan Masyarakat) of Peraturan Menteri PANRB No. 14 Tahun 2017.

A survey answer scores nine elements (*unsur*) from 1 to 4. The index is the
mean of each element over all answers, each mean weighted exactly 1/9,
summed and multiplied by 25 (a 25-100 scale). The quality grade comes from
the index rounded half-up to two decimals. Arithmetic is exact
(:class:`fractions.Fraction`) so that a perfect survey gives exactly 100.00.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from services.events import types
from services.metrics.errors import MetricsError

ELEMENT_COUNT = types.IKM_ELEMENTS
MIN_SCORE = types.MIN_SCORE
MAX_SCORE = types.MAX_SCORE
WEIGHT = Fraction(1, ELEMENT_COUNT)
SCALE = 25

ELEMENTS: tuple[str, ...] = (
    "Persyaratan",
    "Sistem, mekanisme dan prosedur",
    "Waktu penyelesaian",
    "Biaya/tarif",
    "Produk spesifikasi jenis pelayanan",
    "Kompetensi pelaksana",
    "Perilaku pelaksana",
    "Penanganan pengaduan, saran dan masukan",
    "Sarana dan prasarana",
)

# Lower bounds of each grade on the rounded index, best first.
GRADES: tuple[tuple[Decimal, str, str], ...] = (
    (Decimal("88.31"), "A", "Sangat Baik"),
    (Decimal("76.61"), "B", "Baik"),
    (Decimal("65.00"), "C", "Kurang Baik"),
    (Decimal("25.00"), "D", "Tidak Baik"),
)


class InvalidScores(MetricsError, ValueError):
    """Scores that are not nine integers from 1 to 4."""


def validate_scores(scores: object) -> tuple[int, ...]:
    """The nine scores as a tuple, or :class:`InvalidScores` (the rule is ``events.types.Scores``)."""
    try:
        return types.validate_scores(scores)
    except ValueError as exc:
        raise InvalidScores(str(exc)) from exc


@dataclass(frozen=True, slots=True)
class Tally:
    """Per-element sums of scores over ``responses`` survey answers."""

    responses: int
    sums: tuple[int, ...]

    @classmethod
    def empty(cls) -> Tally:
        """A tally of no answers."""
        return cls(0, (0,) * ELEMENT_COUNT)

    @classmethod
    def of(cls, answers: Iterable[Sequence[int]]) -> Tally:
        """Tally a collection of validated answers."""
        tally = cls.empty()
        for answer in answers:
            tally = tally.add(answer)
        return tally

    def add(self, scores: Sequence[int]) -> Tally:
        """This tally plus one answer."""
        checked = validate_scores(list(scores))
        return Tally(self.responses + 1, tuple(s + a for s, a in zip(self.sums, checked, strict=True)))

    def merge(self, other: Tally) -> Tally:
        """The tally of both sets of answers."""
        sums = tuple(a + b for a, b in zip(self.sums, other.sums, strict=True))
        return Tally(self.responses + other.responses, sums)


@dataclass(frozen=True, slots=True)
class IkmResult:
    """The IKM of a set of answers: exact element means, the rounded index and its grade."""

    responses: int
    means: tuple[Fraction, ...] | None
    index: Decimal | None
    grade: str | None
    grade_label: str | None

    def to_json(self) -> dict[str, object]:
        """The API shape: means rounded to two decimals; index and grade null without answers."""
        elements = None if self.means is None else [float(round_half_up(m)) for m in self.means]
        return {
            "responses": self.responses,
            "elements": elements,
            "element_names": list(ELEMENTS),
            "index": None if self.index is None else float(self.index),
            "grade": self.grade,
            "grade_label": self.grade_label,
        }


def round_half_up(value: Fraction) -> Decimal:
    """Round an exact fraction to two decimals, halves away from zero (exactly, no float)."""
    scaled = abs(value) * 100
    cents = math.floor(scaled + Fraction(1, 2))
    return Decimal(cents if value >= 0 else -cents).scaleb(-2)


def exact_index(tally: Tally) -> Fraction | None:
    """The unrounded index: sum of element means × 1/9 × 25, or None without answers."""
    if tally.responses == 0:
        return None
    return sum((Fraction(s, tally.responses) * WEIGHT for s in tally.sums), Fraction(0)) * SCALE


def grade_of(index: Decimal) -> tuple[str, str]:
    """The quality grade (letter, Indonesian label) of a rounded index."""
    for lower, letter, label in GRADES:
        if index >= lower:
            return letter, label
    return GRADES[-1][1], GRADES[-1][2]


def compute(tally: Tally) -> IkmResult:
    """The IKM of a tally."""
    exact = exact_index(tally)
    if exact is None:
        return IkmResult(0, None, None, None, None)
    index = round_half_up(exact)
    letter, label = grade_of(index)
    means = tuple(Fraction(s, tally.responses) for s in tally.sums)
    return IkmResult(tally.responses, means, index, letter, label)
