"""Indonesian announcement words: every number 0–999 and every prefix A–Z."""

import re
import string

import pytest

from services.display.announce import (
    LETTER_NAMES,
    announcement,
    digits_words,
    number_words,
    speakable,
    spell_letters,
    ticket_words,
)

_UNITS = ["nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan"]


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "nol"),
        (1, "satu"),
        (9, "sembilan"),
        (10, "sepuluh"),
        (11, "sebelas"),
        (12, "dua belas"),
        (19, "sembilan belas"),
        (20, "dua puluh"),
        (21, "dua puluh satu"),
        (99, "sembilan puluh sembilan"),
        (100, "seratus"),
        (101, "seratus satu"),
        (110, "seratus sepuluh"),
        (111, "seratus sebelas"),
        (115, "seratus lima belas"),
        (200, "dua ratus"),
        (345, "tiga ratus empat puluh lima"),
        (999, "sembilan ratus sembilan puluh sembilan"),
        (1000, "seribu"),
        (1001, "seribu satu"),
        (2024, "dua ribu dua puluh empat"),
        (11000, "sebelas ribu"),
        (100000, "seratus ribu"),
    ],
)
def test_known_numbers(n: int, words: str) -> None:
    assert number_words(n) == words


def _reference(n: int) -> str:
    """An independent reading built digit by digit from the rules of Indonesian."""
    hundreds, tens, ones = n // 100, (n // 10) % 10, n % 10
    parts: list[str] = []
    if hundreds:
        parts.append("seratus" if hundreds == 1 else f"{_UNITS[hundreds]} ratus")
    if tens == 1:
        parts.append({0: "sepuluh", 1: "sebelas"}.get(ones, f"{_UNITS[ones]} belas"))
    else:
        if tens:
            parts.append(f"{_UNITS[tens]} puluh")
        if ones:
            parts.append(_UNITS[ones])
    return " ".join(parts) or "nol"


def test_every_number_up_to_999_reads_correctly() -> None:
    seen = set()
    for n in range(1000):
        words = number_words(n)
        assert words == _reference(n), n
        assert re.fullmatch(r"[a-z]+( [a-z]+)*", words), words
        assert "satu puluh" not in words
        assert "satu ratus" not in words
        assert "satu belas" not in words
        seen.add(words)
    assert len(seen) == 1000


@pytest.mark.parametrize("n", [-1, 1_000_000])
def test_out_of_range_is_refused(n: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        number_words(n)


def test_long_digit_runs_are_read_digit_by_digit() -> None:
    assert digits_words("1234567") == "satu dua tiga empat lima enam tujuh"
    assert digits_words("007") == "tujuh"


def test_every_prefix_letter_has_its_indonesian_name() -> None:
    assert set(LETTER_NAMES) == set(string.ascii_uppercase)
    assert spell_letters("A") == "A"
    assert spell_letters("b") == "Be"
    assert spell_letters("CQ") == "Ce Ki"
    assert spell_letters("XYZ") == "Eks Ye Zet"


@pytest.mark.parametrize("letter", list(string.ascii_uppercase))
def test_every_prefix_with_every_number(letter: str) -> None:
    for n in range(1000):
        assert ticket_words(f"{letter}{n:03d}") == f"{LETTER_NAMES[letter]} {_reference(n)}"


def test_the_issue_example() -> None:
    assert announcement("A012", "Loket 3") == "Nomor antrian A dua belas, silakan menuju Loket tiga"


def test_recall_is_announced_again_with_its_own_words() -> None:
    assert (
        announcement("B105", "Loket 12", recall=True)
        == "Panggilan ulang, nomor antrian Be seratus lima, silakan menuju Loket dua belas"
    )


def test_counter_names_and_odd_numbers() -> None:
    assert speakable("Loket 3A") == "Loket tiga A"
    assert speakable("Gerai BPJS") == "Gerai BPJS"
    assert ticket_words("A-7") == "A tujuh"
    assert ticket_words("42") == "empat puluh dua"
    assert ticket_words("??") == "??"
