"""Item labels: an in-store EAN-13 code and its printable rendering (SVG and PNG).

The code lives in the GS1 restricted-circulation range (prefix 2x) so that it can never be
mistaken for an article's GTIN: "2", the 3-digit store number, an 8-digit per-store
sequence, and the EAN-13 check digit.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import barcode
from barcode.writer import ImageWriter, SVGWriter
from PIL import Image, ImageDraw, ImageFont
from stdnum import ean

from recommerce.errors import DomainError, ErrorCode

MAX_STORE_NUMBER = 999
MAX_SEQUENCE = 99_999_999


def label_code(store_number: int, sequence: int) -> str:
    """The EAN-13 printed on an item: 2 + store (3 digits) + sequence (8 digits) + check."""
    if not 0 <= store_number <= MAX_STORE_NUMBER:
        raise ValueError(f"store number out of range: {store_number}")
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise ValueError(f"label sequence out of range: {sequence}")
    body = f"2{store_number:03d}{sequence:08d}"
    return body + ean.calc_check_digit(body)


def parse_label_code(code: str) -> tuple[int, int]:
    """(store number, sequence) of a scanned label, or a clear error."""
    try:
        valid = ean.validate(code)
    except Exception as exc:
        raise DomainError(
            f"{code!r} is not a valid label code", code=ErrorCode.INVALID_INPUT, field="label"
        ) from exc
    if len(valid) != 13 or not valid.startswith("2"):
        raise DomainError(
            f"{code!r} is not an in-store label code", code=ErrorCode.INVALID_INPUT, field="label"
        )
    return int(valid[1:4]), int(valid[4:12])


@dataclass(frozen=True, slots=True)
class LabelContent:
    code: str
    article_name: str
    grade: str
    price: str  # already formatted, e.g. "129,00 EUR" (label fonts lack the euro sign)
    register_number: int  # order number of the police-register entry (rule A.3)
    store_number: int

    @property
    def lines(self) -> list[str]:
        return [
            self.article_name,
            f"Grade {self.grade}   {self.price}",
            f"Registre n° {self.register_number} - magasin {self.store_number:03d}",
        ]


SVG_NS = "http://www.w3.org/2000/svg"
ET.register_namespace("", SVG_NS)
WIDTH_MM = 60.0
BARCODE_TOP_MM = 16.0


def render_svg(label: LabelContent) -> str:
    """A 60 x 40 mm label: three lines of text above the scannable EAN-13."""
    code_svg = barcode.get("ean13", label.code, writer=SVGWriter()).render(
        {"module_width": 0.33, "module_height": 14.0, "quiet_zone": 4.0, "font_size": 8}
    )
    inner = ET.fromstring(code_svg)
    inner.set("x", "0")
    inner.set("y", f"{BARCODE_TOP_MM}mm")
    root = ET.Element(
        f"{{{SVG_NS}}}svg",
        {
            "width": f"{WIDTH_MM}mm",
            "height": "40mm",
        },
    )
    ET.SubElement(root, f"{{{SVG_NS}}}rect", {"width": "100%", "height": "100%", "fill": "white"})
    for i, text in enumerate(label.lines):
        node = ET.SubElement(
            root,
            f"{{{SVG_NS}}}text",
            {
                "x": "2mm",
                "y": f"{4.5 + i * 4.5}mm",
                "font-family": "sans-serif",
                "font-size": "3.4mm" if i == 0 else "3mm",
                "font-weight": "bold" if i == 0 else "normal",
            },
        )
        node.text = text
    # Every length is in mm, the barcode's own unit; the nested <svg> only moves it down.
    root.append(inner)
    return ET.tostring(root, encoding="unicode")


def render_png(label: LabelContent, dpi: int = 300) -> bytes:
    """The same label as a PNG at printer resolution."""
    code_img = barcode.get("ean13", label.code, writer=ImageWriter()).render(
        {"module_width": 0.33, "module_height": 14.0, "quiet_zone": 4.0, "dpi": dpi, "font_size": 8}
    )
    px_per_mm = dpi / 25.4
    width = max(int(WIDTH_MM * px_per_mm), code_img.width)
    text_height = int(BARCODE_TOP_MM * px_per_mm)
    canvas = Image.new("RGB", (width, text_height + code_img.height), "white")
    draw = ImageDraw.Draw(canvas)
    for i, text in enumerate(label.lines):
        font = ImageFont.load_default(size=int((3.4 if i == 0 else 3.0) * px_per_mm))
        draw.text(
            (int(2 * px_per_mm), int((1 + i * 4.5) * px_per_mm)), text, fill="black", font=font
        )
    canvas.paste(code_img, (0, text_height))
    out = io.BytesIO()
    canvas.save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue()
