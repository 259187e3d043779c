"""A small QR code encoder (ISO/IEC 18004): byte mode, error correction level M, versions 1-10.

Enough for what a thermal ticket carries: the link to the citizen's ticket page
(up to 213 bytes). Pure code, no I/O; :func:`to_svg` draws the matrix. The steps
follow the standard: encode, split into blocks with Reed-Solomon codewords,
interleave, place in the zig-zag, choose the mask with the lowest penalty, then
write the format and version information.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

# Level M, per version 1..10: (error correction codewords per block, number of blocks).
_ECC_M = {
    1: (10, 1),
    2: (16, 1),
    3: (26, 1),
    4: (18, 2),
    5: (24, 2),
    6: (16, 4),
    7: (18, 4),
    8: (22, 4),
    9: (22, 5),
    10: (26, 5),
}
_FORMAT_BITS_M = 0
MAX_VERSION = 10

Matrix = list[list[bool]]


class QrError(ValueError):
    """The text does not fit in a version-10 code at level M."""


def encode(text: str) -> Matrix:
    """The QR matrix (rows of booleans, True = dark) of ``text`` in UTF-8."""
    data = text.encode()
    for version in range(1, MAX_VERSION + 1):
        count_bits = 8 if version < 10 else 16
        if 4 + count_bits + 8 * len(data) <= _data_codewords(version) * 8:
            return _build(version, _codewords(data, version, count_bits))
    raise QrError(f"{len(data)} bytes do not fit in a version {MAX_VERSION} QR code")


def to_svg(matrix: Matrix, *, module: int = 4, quiet: int = 4) -> str:
    """An SVG image of the matrix with a quiet zone of ``quiet`` modules."""
    size = len(matrix) + 2 * quiet
    path = "".join(
        f"M{x + quiet},{y + quiet}h1v1h-1z"
        for y, row in enumerate(matrix)
        for x, dark in enumerate(row)
        if dark
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'width="{size * module}" height="{size * module}" shape-rendering="crispEdges">'
        f'<rect width="100%" height="100%" fill="#fff"/><path d="{path}" fill="#000"/></svg>'
    )


# -- data and error correction ---------------------------------------------------------


def _raw_modules(version: int) -> int:
    result = (16 * version + 128) * version + 64
    if version >= 2:
        aligns = version // 7 + 2
        result -= (25 * aligns - 10) * aligns - 55
        if version >= 7:
            result -= 36
    return result


def _data_codewords(version: int) -> int:
    ecc, blocks = _ECC_M[version]
    return _raw_modules(version) // 8 - ecc * blocks


def _codewords(data: bytes, version: int, count_bits: int) -> list[int]:
    bits: list[int] = []

    def put(value: int, length: int) -> None:
        bits.extend((value >> i) & 1 for i in reversed(range(length)))

    put(0b0100, 4)
    put(len(data), count_bits)
    for byte in data:
        put(byte, 8)
    capacity = _data_codewords(version) * 8
    put(0, min(4, capacity - len(bits)))
    put(0, -len(bits) % 8)
    out = [int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8)]
    pad = 0xEC
    while len(out) < capacity // 8:
        out.append(pad)
        pad ^= 0xEC ^ 0x11
    return _interleave(out, version)


def _gf_mul(x: int, y: int) -> int:
    z = 0
    for i in reversed(range(8)):
        z = (z << 1) ^ ((z >> 7) * 0x11D)
        z ^= ((y >> i) & 1) * x
    return z


def _rs_divisor(degree: int) -> list[int]:
    result = [0] * (degree - 1) + [1]
    root = 1
    for _ in range(degree):
        for j in range(degree):
            result[j] = _gf_mul(result[j], root)
            if j + 1 < degree:
                result[j] ^= result[j + 1]
        root = _gf_mul(root, 0x02)
    return result


def rs_remainder(data: Sequence[int], degree: int) -> list[int]:
    """The Reed-Solomon error correction codewords of ``data`` (``degree`` of them)."""
    divisor = _rs_divisor(degree)
    result = [0] * degree
    for byte in data:
        factor = byte ^ result.pop(0)
        result.append(0)
        for i, coefficient in enumerate(divisor):
            result[i] ^= _gf_mul(coefficient, factor)
    return result


def _interleave(data: list[int], version: int) -> list[int]:
    ecc_len, blocks_n = _ECC_M[version]
    raw = _raw_modules(version) // 8
    short_blocks = blocks_n - raw % blocks_n
    short_len = raw // blocks_n
    blocks, k = [], 0
    for i in range(blocks_n):
        length = short_len - ecc_len + (0 if i < short_blocks else 1)
        block = data[k : k + length]
        k += length
        ecc = rs_remainder(block, ecc_len)
        if i < short_blocks:
            block = [*block, 0]
        blocks.append(block + ecc)
    out = []
    for i in range(len(blocks[0])):
        for j, block in enumerate(blocks):
            if i != short_len - ecc_len or j >= short_blocks:
                out.append(block[i])
    return out


# -- the matrix -----------------------------------------------------------------------


class _Grid:
    def __init__(self, version: int) -> None:
        self.version = version
        self.size = version * 4 + 17
        self.dark: Matrix = [[False] * self.size for _ in range(self.size)]
        self.fixed: Matrix = [[False] * self.size for _ in range(self.size)]

    def set(self, x: int, y: int, dark: bool) -> None:
        self.dark[y][x] = dark
        self.fixed[y][x] = True


def _alignment_positions(version: int) -> list[int]:
    if version == 1:
        return []
    aligns = version // 7 + 2
    step = (version * 4 + aligns * 2 + 1) // (aligns * 2 - 2) * 2
    positions = [6]
    pos = version * 4 + 17 - 7
    for _ in range(aligns - 1):
        positions.insert(1, pos)
        pos -= step
    return positions


def _draw_function_patterns(grid: _Grid) -> None:
    size = grid.size
    for i in range(size):
        grid.set(6, i, i % 2 == 0)
        grid.set(i, 6, i % 2 == 0)
    for cx, cy in ((3, 3), (size - 4, 3), (3, size - 4)):
        for dy in range(-4, 5):
            for dx in range(-4, 5):
                x, y = cx + dx, cy + dy
                if 0 <= x < size and 0 <= y < size:
                    grid.set(x, y, max(abs(dx), abs(dy)) not in (2, 4))
    positions = _alignment_positions(grid.version)
    last = len(positions) - 1
    for i, px in enumerate(positions):
        for j, py in enumerate(positions):
            if (i, j) in ((0, 0), (0, last), (last, 0)):
                continue
            for dy in range(-2, 3):
                for dx in range(-2, 3):
                    grid.set(px + dx, py + dy, max(abs(dx), abs(dy)) != 1)
    _draw_format(grid, 0)
    if grid.version >= 7:
        rem = grid.version
        for _ in range(12):
            rem = (rem << 1) ^ ((rem >> 11) * 0x1F25)
        bits = grid.version << 12 | rem
        for i in range(18):
            bit = (bits >> i) & 1 == 1
            a, b = size - 11 + i % 3, i // 3
            grid.set(a, b, bit)
            grid.set(b, a, bit)


def format_bits(mask: int) -> int:
    """The 15 format bits (level M and ``mask``) with their BCH code and XOR mask."""
    data = _FORMAT_BITS_M << 3 | mask
    rem = data
    for _ in range(10):
        rem = (rem << 1) ^ ((rem >> 9) * 0x537)
    return (data << 10 | rem) ^ 0x5412


def _draw_format(grid: _Grid, mask: int) -> None:
    bits = format_bits(mask)
    size = grid.size

    def bit(i: int) -> bool:
        return (bits >> i) & 1 == 1

    for i in range(6):
        grid.set(8, i, bit(i))
    grid.set(8, 7, bit(6))
    grid.set(8, 8, bit(7))
    grid.set(7, 8, bit(8))
    for i in range(9, 15):
        grid.set(14 - i, 8, bit(i))
    for i in range(8):
        grid.set(size - 1 - i, 8, bit(i))
    for i in range(8, 15):
        grid.set(8, size - 15 + i, bit(i))
    grid.set(8, size - 8, True)


def _draw_codewords(grid: _Grid, codewords: list[int]) -> None:
    size, i, total = grid.size, 0, len(codewords) * 8
    right = size - 1
    while right >= 1:
        if right == 6:
            right = 5
        for vert in range(size):
            for j in range(2):
                x = right - j
                upward = ((right + 1) & 2) == 0
                y = size - 1 - vert if upward else vert
                if not grid.fixed[y][x] and i < total:
                    grid.dark[y][x] = (codewords[i >> 3] >> (7 - (i & 7))) & 1 == 1
                    i += 1
        right -= 2


_MASKS: tuple[Callable[[int, int], bool], ...] = (
    lambda x, y: (x + y) % 2 == 0,
    lambda x, y: y % 2 == 0,
    lambda x, y: x % 3 == 0,
    lambda x, y: (x + y) % 3 == 0,
    lambda x, y: (x // 3 + y // 2) % 2 == 0,
    lambda x, y: x * y % 2 + x * y % 3 == 0,
    lambda x, y: (x * y % 2 + x * y % 3) % 2 == 0,
    lambda x, y: ((x + y) % 2 + x * y % 3) % 2 == 0,
)


def _apply_mask(grid: _Grid, mask: int) -> None:
    test = _MASKS[mask]
    for y in range(grid.size):
        for x in range(grid.size):
            if not grid.fixed[y][x] and test(x, y):
                grid.dark[y][x] = not grid.dark[y][x]


def penalty(matrix: Matrix) -> int:
    """The standard's penalty score of a masked matrix (lower reads better)."""
    size = len(matrix)
    score = 0
    lines = [*matrix, *([matrix[y][x] for y in range(size)] for x in range(size))]
    finder_a, finder_b = "10111010000", "00001011101"
    for line in lines:
        run, previous = 0, None
        for cell in line:
            if cell == previous:
                run += 1
            else:
                if run >= 5:
                    score += run - 2
                run, previous = 1, cell
        if run >= 5:
            score += run - 2
        text = "".join("1" if c else "0" for c in line)
        padded = "0000" + text + "0000"
        score += 40 * sum(padded.count(p) for p in (finder_a, finder_b))
    for y in range(size - 1):
        for x in range(size - 1):
            c = matrix[y][x]
            if c == matrix[y][x + 1] == matrix[y + 1][x] == matrix[y + 1][x + 1]:
                score += 3
    dark = sum(map(sum, matrix))
    total = size * size
    score += 10 * ((abs(dark * 20 - total * 10) + total - 1) // total - 1)
    return score


def _build(version: int, codewords: list[int]) -> Matrix:
    best: tuple[int, Matrix] | None = None
    for mask in range(8):
        grid = _Grid(version)
        _draw_function_patterns(grid)
        _draw_codewords(grid, codewords)
        _apply_mask(grid, mask)
        _draw_format(grid, mask)
        score = penalty(grid.dark)
        if best is None or score < best[0]:
            best = (score, grid.dark)
    assert best is not None
    return best[1]
