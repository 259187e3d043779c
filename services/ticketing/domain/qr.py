"""The QR code of a ticket: the link to the citizen's ticket page, drawn as SVG by ``segno``.

Error correction level M, the smallest version that holds the text (a page
link is ASCII; other text is byte mode UTF-8). Pure code, no I/O.
"""

from __future__ import annotations

import io

import segno


def make(text: str) -> segno.QRCode:
    """The QR code of ``text`` in byte mode, UTF-8 (never Kanji mode, which phones read as Shift JIS)."""
    return segno.make_qr(text, error="m", mode="byte", encoding="utf-8", boost_error=False)


def svg(text: str, *, scale: int = 4, border: int = 4) -> str:
    """An SVG image of the QR code of ``text`` with a quiet zone of ``border`` modules."""
    out = io.BytesIO()
    make(text).save(out, kind="svg", scale=scale, border=border, xmldecl=False, svgns=True)
    return out.getvalue().decode()
