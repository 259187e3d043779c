"""The IKM of PermenPAN-RB 14/2017: exact weighting, rounding and grades."""

from decimal import Decimal
from fractions import Fraction

import pytest

from services.metrics.ikm import (
    ELEMENTS,
    InvalidScores,
    Tally,
    compute,
    exact_index,
    grade_of,
    round_half_up,
    validate_scores,
)


def test_worked_example_by_hand() -> None:
    answers = [
        [4, 3, 4, 3, 4, 4, 3, 4, 3],
        [3, 3, 4, 2, 3, 4, 4, 3, 3],
        [4, 4, 3, 3, 4, 3, 4, 4, 2],
    ]
    # Element sums: 11, 10, 11, 8, 11, 11, 11, 11, 8 (total 92 over 3 answers).
    # Means: 11/3, 10/3, 11/3, 8/3, 11/3, 11/3, 11/3, 11/3, 8/3; their sum is 92/3.
    # Weighted 1/9 each: 92/27; × 25 = 2300/27 = 85.185185… → 85.19, grade B (76.61 ≤ 85.19 < 88.31).
    # (With the weight written as 0.111 it would be 92/3 × 0.111 × 25 = 85.10: not the regulation.)
    result = compute(Tally.of(answers))
    assert result.responses == 3
    assert result.means == tuple(Fraction(s, 3) for s in (11, 10, 11, 8, 11, 11, 11, 11, 8))
    assert exact_index(Tally.of(answers)) == Fraction(2300, 27)
    assert result.index == Decimal("85.19")
    assert result.grade == "B"
    assert result.grade_label == "Baik"
    body = result.to_json()
    assert body["elements"] == [3.67, 3.33, 3.67, 2.67, 3.67, 3.67, 3.67, 3.67, 2.67]
    assert body["index"] == 85.19


def test_perfect_survey_is_exactly_one_hundred() -> None:
    result = compute(Tally.of([[4] * 9] * 7))
    assert exact_index(Tally.of([[4] * 9] * 7)) == 100
    assert result.index == Decimal("100.00")
    assert str(result.index) == "100.00"
    assert result.grade == "A"


def test_all_ones_is_twenty_five() -> None:
    result = compute(Tally.of([[1] * 9, [1] * 9]))
    assert result.index == Decimal("25.00")
    assert result.grade == "D"


@pytest.mark.parametrize(
    ("index", "grade"),
    [
        ("100.00", "A"),
        ("88.31", "A"),
        ("88.30", "B"),
        ("76.61", "B"),
        ("76.60", "C"),
        ("65.00", "C"),
        ("64.99", "D"),
        ("25.00", "D"),
    ],
)
def test_band_edges(index: str, grade: str) -> None:
    assert grade_of(Decimal(index))[0] == grade


def test_grade_comes_from_the_rounded_score() -> None:
    # 88.305 rounds half up to 88.31 (A); 88.3049 rounds to 88.30 (B).
    assert round_half_up(Fraction(88305, 1000)) == Decimal("88.31")
    assert round_half_up(Fraction(883049, 10000)) == Decimal("88.30")
    assert grade_of(round_half_up(Fraction(88305, 1000)))[0] == "A"
    assert grade_of(round_half_up(Fraction(883049, 10000)))[0] == "B"
    # 76.605 → 76.61 (B); 64.995 → 65.00 (C).
    assert grade_of(round_half_up(Fraction(76605, 1000)))[0] == "B"
    assert grade_of(round_half_up(Fraction(64995, 1000)))[0] == "C"


def test_single_answer_near_the_a_band() -> None:
    # One answer summing to 32: 25 × 32 / 9 = 88.888… → 88.89 (A); summing to 31: 86.11 (B).
    assert compute(Tally.of([[4, 4, 4, 4, 4, 3, 3, 3, 3]])).index == Decimal("88.89")
    assert compute(Tally.of([[4, 4, 4, 4, 3, 3, 3, 3, 3]])).grade == "B"


def test_no_answers_has_no_index() -> None:
    result = compute(Tally.empty())
    assert result.responses == 0
    assert result.index is None
    assert result.grade is None
    assert result.to_json()["elements"] is None


def test_merge_equals_tally_of_all() -> None:
    a, b = [[4, 3, 2, 1, 4, 3, 2, 1, 4]], [[1, 1, 1, 1, 1, 1, 1, 1, 2], [3] * 9]
    assert Tally.of(a).merge(Tally.of(b)) == Tally.of(a + b)


@pytest.mark.parametrize(
    "scores",
    [None, [4] * 8, [4] * 10, [4] * 8 + [5], [0] + [4] * 8, [4] * 8 + [True], [4] * 8 + ["4"], "444444444"],
)
def test_invalid_scores_are_refused(scores: object) -> None:
    with pytest.raises(InvalidScores):
        validate_scores(scores)


def test_nine_element_names_in_order() -> None:
    assert len(ELEMENTS) == 9
    assert ELEMENTS[0] == "Persyaratan"
    assert ELEMENTS[-1] == "Sarana dan prasarana"
