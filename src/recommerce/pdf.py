"""Printable documents: one font setup for every PDF the system makes.

The police-register export and the precious-metals contract both print French text with
accents and the euro sign, and both must still print when the Unicode font is missing.
Keeping the font choice, the latin-1 fallback, the printed times and the numbered footer
here means every document behaves the same way.

Plain Python on fpdf2: no web or database imports, so the CLI, the API and the tests can
all call it.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, tzinfo
from importlib import resources
from pathlib import Path
from typing import Literal

from fpdf import FPDF

# fpdf2 replaces this alias by the page count everywhere; its default "{nb}" could appear in
# a seller's description, which a document must reproduce exactly.
PAGE_COUNT_ALIAS = "{recommerce:pages}"

# fpdf2's core fonts only know latin-1. A Unicode TrueType font is used when one ships with
# an installed dependency: python-barcode (our label printer) bundles DejaVu Sans Mono.
_UNICODE_FONT_PACKAGE = "barcode"
_UNICODE_FONT_FILE = "fonts/DejaVuSansMono.ttf"
_UNICODE_FAMILY = "DejaVuSansMono"
_CORE_FAMILY = "Helvetica"
# What the latin-1 fallback writes for the characters of our wording it cannot encode.
_LATIN1_REPLACEMENTS = {
    "€": "EUR",
    "—": "-",
    "–": "-",
    "’": "'",
    "‘": "'",
    "“": '"',
    "”": '"',
    "…": "...",
    "œ": "oe",
    "Œ": "OE",
}


def find_unicode_font() -> Path | None:
    """The bundled TrueType font, or None when the package or its font file is gone."""
    try:
        font = resources.files(_UNICODE_FONT_PACKAGE).joinpath(_UNICODE_FONT_FILE)
    except ModuleNotFoundError:
        return None
    return Path(str(font)) if font.is_file() else None


def to_latin1(text: str) -> str:
    """Text a core font can print: known symbols spelt out, anything else becomes "?"."""
    for char, replacement in _LATIN1_REPLACEMENTS.items():
        text = text.replace(char, replacement)
    return text.encode("latin-1", errors="replace").decode("latin-1")


def in_zone(moment: datetime, local_tz: tzinfo | None) -> datetime:
    """The moment in the store's time zone when one is given; a naive time is kept as is.

    The store clock records aware UTC times, but readers compare a document with local
    events, so the caller should pass the store's zone (e.g. ZoneInfo("Europe/Paris")).
    """
    if local_tz is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(local_tz)


def _utc_offset(moment: datetime) -> str:
    """ "UTC+01:00", so that a printed time is never ambiguous; "" for a naive time."""
    offset = moment.utcoffset()
    if offset is None:
        return ""
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def printed_time(moment: datetime, pattern: str) -> str:
    """`moment` formatted with the strftime `pattern`, followed by its UTC offset if aware."""
    offset = _utc_offset(moment)
    return f"{moment.strftime(pattern)} ({offset})" if offset else moment.strftime(pattern)


def set_metadata(pdf: FPDF, *, title: str, author: str, created: datetime) -> None:
    # The creation date is a time the caller gives, so the same input gives the same file.
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_creator("recommerce")
    pdf.set_creation_date(created)


class PrintedDocument(FPDF):
    """An A4 document in the Unicode font (or latin-1), with "page X / Y" in its footer.

    `unicode_font` is the TrueType file to print with, usually `find_unicode_font()`; with
    None the document falls back to a latin-1 core font. Every text goes through `clean`.
    `compress=False` leaves the page content and the font's character map uncompressed, so
    that tests can read the text back.
    """

    def __init__(
        self,
        *,
        orientation: Literal["P", "L"],
        margin: float,
        footer_height: float,
        footer_size: float,
        footer_label: str,
        unicode_font: Path | None,
        compress: bool,
    ) -> None:
        super().__init__(orientation=orientation, unit="mm", format="A4")
        self.set_compression(compress)
        self.set_margins(margin, margin, margin)
        self.set_auto_page_break(True, margin=margin + footer_height)
        self.alias_nb_pages(PAGE_COUNT_ALIAS)
        self.margin = margin
        self.footer_height = footer_height
        self.footer_size = footer_size
        self.family, self.unicode = self._choose_font(unicode_font)
        self.footer_text = self.clean(footer_label)

    def _choose_font(self, unicode_font: Path | None) -> tuple[str, bool]:
        """The font family to use, and whether it can print any character (else latin-1)."""
        if unicode_font is None:
            return _CORE_FAMILY, False
        self.add_font(_UNICODE_FAMILY, "", unicode_font)
        return _UNICODE_FAMILY, True

    def clean(self, text: str) -> str:
        """One place where every text goes before fpdf2 sees it."""
        # NFC: a decomposed "é" (e + combining accent) would print as two glyphs.
        text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\t", " ")
        return text if self.unicode else to_latin1(text)

    @property
    def bottom(self) -> float:
        """The lowest point the content may reach: the footer lies below it."""
        return self.h - self.margin - self.footer_height

    def footer(self) -> None:
        self.set_y(-self.margin - self.footer_height / 2)
        self.set_font(self.family, size=self.footer_size)
        self.cell(self.epw * 0.8, 4, self.footer_text)
        # The alias is filled in with the page count when the document closes.
        self.cell(self.epw * 0.2, 4, f"page {self.page_no()} / {PAGE_COUNT_ALIAS}", align="R")
