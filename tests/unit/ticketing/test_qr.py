"""The ticket's QR code, read back by an independent decoder (zxing-cpp) from a rendered image.

The code is drawn by ``segno``; what proves it is the text that zxing-cpp
decodes from a raster image of it, not anything the encoder says about itself.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from services.ticketing.domain import qr


def decode_png(png: bytes) -> list[str]:
    """Every QR code text zxing-cpp finds in a PNG image."""
    image = Image.open(io.BytesIO(png)).convert("L")
    return [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def decode(text: str) -> list[str]:
    out = io.BytesIO()
    qr.make(text).save(out, kind="png", scale=4, border=4)
    return decode_png(out.getvalue())


def test_a_ticket_link_reads_back() -> None:
    link = "http://127.0.0.1:8080/t/693d7591-4853-45da-9b29-38ccb8a9f8b2"
    assert decode(link) == [link]


def test_a_long_public_link_reads_back() -> None:
    link = "https://antrian.example/t/" + "z" * 170
    assert decode(link) == [link]


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FFF, exclude_categories=("Cs",)),
               min_size=1, max_size=120))  # fmt: skip
def test_any_text_reads_back(text: str) -> None:
    assert decode(text) == [text]


def test_level_m_and_no_micro_code() -> None:
    code = qr.make("A012")
    assert code.error == "M"
    assert not code.is_micro


def test_svg_is_a_scaled_image_with_a_quiet_zone() -> None:
    link = "http://127.0.0.1:8080/t/693d7591-4853-45da-9b29-38ccb8a9f8b2"
    root = ET.fromstring(qr.svg(link, scale=3, border=4))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    modules = qr.make(link).symbol_size(scale=1, border=4)[0]
    assert root.attrib["width"] == str(modules * 3)
