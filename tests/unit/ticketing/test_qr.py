"""The QR encoder: structure, error correction, format information, and a decoded golden code.

The golden digests were produced by this encoder and each code was read back
with zbar (`zbarimg`) from a Chromium rendering on 2026-11-28; they guard
against regressions without needing a decoder in the test run.
"""

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.ticketing.domain.qr import (
    MAX_VERSION,
    Matrix,
    QrError,
    encode,
    format_bits,
    rs_remainder,
    to_svg,
)


def digest(matrix: Matrix) -> str:
    return hashlib.sha256("".join("1" if c else "0" for row in matrix for c in row).encode()).hexdigest()[:16]


def finder_ok(m: Matrix, x0: int, y0: int) -> bool:
    for dy in range(7):
        for dx in range(7):
            ring = max(abs(dx - 3), abs(dy - 3))
            if m[y0 + dy][x0 + dx] != (ring != 2):
                return False
    return True


def read_format(m: Matrix) -> int:
    """The 15 format bits from the copy around the top-left finder."""
    cells = [m[i][8] for i in range(6)] + [m[7][8], m[8][8], m[8][7]] + [m[8][14 - i] for i in range(9, 15)]
    return sum(int(bit) << i for i, bit in enumerate(cells))


# Version 10 at level M holds 213 bytes: up to 53 characters of any kind (4 bytes
# at most in UTF-8) or 200 ASCII ones always fit.
@given(st.one_of(st.text(max_size=53), st.text(alphabet=st.characters(max_codepoint=127), max_size=200)))
def test_structure_of_any_code(text: str) -> None:
    m = encode(text)
    size = len(m)
    assert all(len(row) == size for row in m)
    version = (size - 17) // 4
    assert 1 <= version <= MAX_VERSION
    assert size == 4 * version + 17
    assert finder_ok(m, 0, 0)
    assert finder_ok(m, size - 7, 0)
    assert finder_ok(m, 0, size - 7)
    assert [m[6][x] for x in range(8, size - 8)] == [x % 2 == 0 for x in range(8, size - 8)]
    assert m[size - 8][8], "the dark module"
    assert read_format(m) in {format_bits(mask) for mask in range(8)}


def test_versions_grow_with_the_text_and_stop_at_ten() -> None:
    assert len(encode("A012")) == 21
    assert len(encode("x" * 100)) == 4 * 6 + 17
    assert len(encode("x" * 213)) == 4 * 10 + 17
    with pytest.raises(QrError):
        encode("x" * 214)


def test_reed_solomon_codewords_make_a_codeword_polynomial() -> None:
    data = list(b"antrian-ticket")
    ecc = rs_remainder(data, 10)
    assert len(ecc) == 10
    assert rs_remainder(data + ecc, 10) == [0] * 10


def test_format_bits_match_the_standard_table() -> None:
    # ISO/IEC 18004 Table C.1, level M.
    assert format_bits(0) == 0b101010000010010
    assert format_bits(5) == 0b100000011001110
    assert format_bits(7) == 0b100101010100000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HELLO", "32fbc389880456d5"),
        ("http://127.0.0.1:8080/t/693d7591-4853-45da-9b29-38ccb8a9f8b2", "56ae297b2c83fbf3"),
        ("https://antrian.example/t/" + "z" * 170, "48d13f68a2cbc22c"),
    ],
)
def test_golden_codes_read_back_by_zbar(text: str, expected: str) -> None:
    assert digest(encode(text)) == expected


def test_svg() -> None:
    svg = to_svg(encode("A012"), module=3)
    assert svg.startswith("<svg")
    assert 'width="87"' in svg  # (21 + 8) * 3
