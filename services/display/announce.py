"""Indonesian announcement text for calls: pure code, no I/O.

"A012" at "Loket 3" becomes "Nomor antrian A dua belas, silakan menuju Loket
tiga": the prefix letters spelled as Indonesians name them, the number in
words, digits in the counter's name in words too. A recall starts with
"Panggilan ulang".
"""

from __future__ import annotations

import re

# Indonesian letter names (ejaan bahasa Indonesia).
LETTER_NAMES: dict[str, str] = {
    "A": "A",
    "B": "Be",
    "C": "Ce",
    "D": "De",
    "E": "E",
    "F": "Ef",
    "G": "Ge",
    "H": "Ha",
    "I": "I",
    "J": "Je",
    "K": "Ka",
    "L": "El",
    "M": "Em",
    "N": "En",
    "O": "O",
    "P": "Pe",
    "Q": "Ki",
    "R": "Er",
    "S": "Es",
    "T": "Te",
    "U": "U",
    "V": "Fe",
    "W": "We",
    "X": "Eks",
    "Y": "Ye",
    "Z": "Zet",
}

_UNITS = ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan")
_TICKET_RE = re.compile(r"^([A-Za-z]*)[-\s]?(\d+)$")
_DIGITS_RE = re.compile(r"\d+")
MAX_SPOKEN = 999_999
"""Largest number spoken as a whole; longer digit runs are read digit by digit."""
MAX_ANNOUNCEMENT = 300
"""Longest sentence ever spoken (a real one is ~80 characters); the fold refuses longer ones."""


def number_words(n: int) -> str:
    """Indonesian words for ``0 <= n <= 999_999`` ("dua belas", "seratus satu")."""
    if n < 0 or n > MAX_SPOKEN:
        raise ValueError(f"number out of range: {n}")
    if n == 0:
        return "nol"
    return " ".join(_words(n))


def _words(n: int) -> list[str]:
    if n == 0:
        return []
    if n < 10:
        return [_UNITS[n]]
    if n == 10:
        return ["sepuluh"]
    if n == 11:
        return ["sebelas"]
    if n < 20:
        return [_UNITS[n - 10], "belas"]
    if n < 100:
        return [_UNITS[n // 10], "puluh", *_words(n % 10)]
    if n < 1000:
        head = ["seratus"] if n // 100 == 1 else [_UNITS[n // 100], "ratus"]
        return [*head, *_words(n % 100)]
    head = ["seribu"] if n // 1000 == 1 else [*_words(n // 1000), "ribu"]
    return [*head, *_words(n % 1000)]


def digits_words(text: str) -> str:
    """Read a run of digits: as one number when it fits, else digit by digit."""
    value = int(text)
    if len(text) <= 6 and value <= MAX_SPOKEN:
        return number_words(value)
    return " ".join(_UNITS[int(d)] for d in text)


def spell_letters(prefix: str) -> str:
    """Spell ticket prefix letters by their Indonesian names ("BC" → "Be Ce")."""
    return " ".join(LETTER_NAMES.get(ch.upper(), ch) for ch in prefix)


def ticket_words(number: str) -> str:
    """Speakable form of a ticket number as shown ("A012" → "A dua belas")."""
    match = _TICKET_RE.match(number.strip())
    if match is None:
        return speakable(number)
    prefix, digits = match.groups()
    spoken = digits_words(digits)
    return f"{spell_letters(prefix)} {spoken}" if prefix else spoken


def speakable(text: str) -> str:
    """Replace every digit run in free text with words ("Loket 3" → "Loket tiga")."""
    spoken = _DIGITS_RE.sub(lambda m: f" {digits_words(m.group(0))} ", text)
    return " ".join(spoken.split())


def announcement(number: str, counter_name: str, *, recall: bool = False) -> str:
    """The sentence spoken when ``number`` is called to ``counter_name``."""
    text = f"Nomor antrian {ticket_words(number)}, silakan menuju {speakable(counter_name)}"
    return f"Panggilan ulang, {text[0].lower()}{text[1:]}" if recall else text
