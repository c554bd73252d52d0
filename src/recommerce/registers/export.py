"""Export of the police register for the police: CSV and a printable PDF (business-rules A.6).

The register itself is required by Code pénal art. 321-7 and R321-3 to R321-6-1, and its
electronic form by the arrêté of 15 May 2020. The police may ask for the entries of a date
range, of a serial number or of a seller; the caller selects the entries, this module only
renders them, so that both formats always show the same facts (business-rules A.2).

Plain Python on purpose: no web or database imports, so the CLI, the API and the tests can
all call it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation

from fpdf import FPDF
from fpdf.enums import MethodReturnValue, XPos, YPos

from recommerce.buyback.seller import DocumentType, SellerIdentity
from recommerce.money import CENTS_PER_EURO, Money
from recommerce.pdf import PrintedDocument, find_unicode_font, in_zone, printed_time, set_metadata
from recommerce.registers.police import EntryKind, RegisterBook, RegisteredObject, RegisterEntry

# --------------------------------------------------------------------------------------
# Shared wording: both formats speak French, the language of the police who read them.
# --------------------------------------------------------------------------------------

_BOOK_LABELS = {
    RegisterBook.GENERAL: "general",
    RegisterBook.PRECIOUS_METALS: "metaux precieux",
}
_KIND_LABELS = {
    EntryKind.ACQUISITION: "acquisition",
    EntryKind.CORRECTION: "rectification",
}
_DOCUMENT_LABELS = {
    DocumentType.NATIONAL_ID: "carte nationale d'identité",
    DocumentType.PASSPORT: "passeport",
    DocumentType.RESIDENCE_PERMIT: "titre de séjour",
    DocumentType.DRIVING_LICENCE: "permis de conduire",
}


def _euros(amount: Money) -> str:
    """ "129,00": French Excel reads a decimal comma as a number, a point as text."""
    sign = "-" if amount.cents < 0 else ""
    euros, cents = divmod(abs(amount.cents), CENTS_PER_EURO)
    return f"{sign}{euros},{cents:02d}"


def _decimal_comma(value: str | None) -> str:
    """A weight stored as "12.5" becomes "12,5" like the prices; anything else is kept."""
    if not value:
        return ""
    try:
        Decimal(value)
    except InvalidOperation:
        return value
    return value.replace(".", ",")


def _document_label(document_type: DocumentType) -> str:
    return _DOCUMENT_LABELS.get(document_type, str(document_type))


# --------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------

CSV_COLUMNS: tuple[str, ...] = (
    "numero",
    "registre",
    "date_heure",
    "type",
    "rectifie_numero",
    "motif_rectification",
    "vendeur_nom",
    "vendeur_prenoms",
    "vendeur_qualite",
    "vendeur_adresse",
    "vendeur_date_naissance",
    "societe_nom",
    "societe_siege",
    "piece_type",
    "piece_numero",
    "piece_date_delivrance",
    "piece_autorite",
    "nature",
    "caracteristiques",
    "description",
    "numeros_de_serie",
    "provenance",
    "poids_g",
    "titre",
    "prix_eur",
    "mode_paiement",
    "paiement",
    "etiquette",
    "saisi_par",
)

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection, OWASP).
# Tab and carriage return are on OWASP's list too: Excel skips them and then sees "=".
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Cells this module formats itself from numbers: escaping them would turn a number into text.
_NUMERIC_COLUMNS = frozenset({"prix_eur"})
# French Excel picks the separator from the locale (";") and needs the BOM to read UTF-8.
_CSV_SEPARATOR = ";"
_UTF8_BOM = "\ufeff"


def to_csv(
    entries: Sequence[RegisterEntry], *, local_tz: tzinfo | None = None, excel_bom: bool = True
) -> str:
    """The entries as CSV, one row per object: a lot gives several rows with one number.

    Times are written in ISO 8601 as stored, or converted to `local_tz` when given; an
    aware time keeps its UTC offset. Returns text to be encoded as UTF-8; it starts with a
    byte-order mark unless `excel_bom` is false, because without it Excel reads the accents
    as Windows-1252.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=_CSV_SEPARATOR, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        # An entry always has objects; should one not, it still gets a row, so that no
        # entry number the police asked for silently disappears from the export.
        for obj in entry.objects or (None,):
            writer.writerow(_csv_row(entry, obj, local_tz))
    return (_UTF8_BOM if excel_bom else "") + buffer.getvalue()


def _csv_row(
    entry: RegisterEntry, obj: RegisteredObject | None, local_tz: tzinfo | None
) -> list[str]:
    cells = {
        **_entry_cells(entry, local_tz),
        **_seller_cells(entry.seller),
        **_object_cells(obj),
    }
    return [
        cells[column] if column in _NUMERIC_COLUMNS else _neutralise_formula(cells[column])
        for column in CSV_COLUMNS
    ]


def _neutralise_formula(cell: str) -> str:
    """A leading apostrophe makes the spreadsheet show the text instead of evaluating it."""
    return "'" + cell if cell.startswith(_FORMULA_TRIGGERS) else cell


def _entry_cells(entry: RegisterEntry, local_tz: tzinfo | None) -> dict[str, str]:
    return {
        "numero": str(entry.number),
        "registre": _BOOK_LABELS.get(entry.book, str(entry.book)),
        # Seconds are enough to order the entries; the offset stays when the time is aware.
        "date_heure": in_zone(entry.recorded_at, local_tz).isoformat(timespec="seconds"),
        "type": _KIND_LABELS.get(entry.kind, str(entry.kind)),
        "rectifie_numero": "" if entry.corrects is None else str(entry.corrects),
        "motif_rectification": entry.reason or "",
        "mode_paiement": entry.payment_method,
        "paiement": entry.payment_summary,
        "saisi_par": entry.recorded_by,
    }


def _seller_cells(seller: SellerIdentity) -> dict[str, str]:
    document = seller.document
    return {
        "vendeur_nom": seller.surname,
        "vendeur_prenoms": seller.first_names,
        "vendeur_qualite": seller.quality,
        "vendeur_adresse": seller.address,
        "vendeur_date_naissance": seller.birth_date.isoformat(),
        "societe_nom": seller.company_name or "",
        "societe_siege": seller.company_registered_office or "",
        "piece_type": _document_label(document.type),
        "piece_numero": document.number,
        "piece_date_delivrance": document.issued_on.isoformat(),
        "piece_autorite": document.issuing_authority,
    }


_OBJECT_COLUMNS = (
    "nature",
    "caracteristiques",
    "description",
    "numeros_de_serie",
    "provenance",
    "poids_g",
    "titre",
    "prix_eur",
    "etiquette",
)


def _object_cells(obj: RegisteredObject | None) -> dict[str, str]:
    if obj is None:
        return dict.fromkeys(_OBJECT_COLUMNS, "")
    return {
        "nature": obj.nature,
        "caracteristiques": obj.characteristics,
        "description": obj.description,
        "numeros_de_serie": " ".join(obj.serials),
        "provenance": obj.provenance,
        "poids_g": _decimal_comma(obj.weight_grams),
        "titre": "" if obj.fineness is None else str(obj.fineness),
        "prix_eur": _euros(obj.price),
        "etiquette": obj.label_code,
    }


# --------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------

# A4 landscape, in millimetres: wide enough for the six columns the police read first.
_MARGIN = 10.0
_FOOTER_HEIGHT = 12.0
_FONT_SIZE = 8.0
_TITLE_SIZE = 13.0
_LINE_HEIGHT = 3.6
_CELL_PADDING = 1.0
_GREY = 230

# (heading, width in mm, alignment); the widths add up to the 277 mm between the margins.
_PDF_COLUMNS: tuple[tuple[str, float, str], ...] = (
    ("N°", 20.0, "L"),
    ("Date", 22.0, "L"),
    ("Vendeur et pièce d'identité", 64.0, "L"),
    ("Objet(s) : nature, description, n° de série, provenance", 109.0, "L"),
    ("Prix", 24.0, "R"),
    ("Paiement", 38.0, "L"),
)
_FULL_WIDTH = sum(width for _, width, _ in _PDF_COLUMNS)

# Looked up through this module when a PDF is made, so that a test can take the font away.
_find_unicode_font = find_unicode_font


class _RegisterPdf(PrintedDocument):
    """The page furniture: title block on page 1, column headings on every page."""

    def __init__(
        self,
        *,
        title: str,
        subtitle: str,
        footer_label: str,
        local_tz: tzinfo | None,
        compress: bool,
    ) -> None:
        super().__init__(
            orientation="L",
            margin=_MARGIN,
            footer_height=_FOOTER_HEIGHT,
            footer_size=_FONT_SIZE - 1,
            footer_label=footer_label,
            unicode_font=_find_unicode_font(),
            compress=compress,
        )
        self.local_tz = local_tz
        # Page breaks are placed by hand so that an entry is never cut through a line.
        self.set_auto_page_break(False)
        self.title_text = self.clean(title)
        self.subtitle_text = self.clean(subtitle)

    def header(self) -> None:
        if self.page_no() == 1:
            self._title_block()
        self.set_font(self.family, size=_FONT_SIZE)
        _draw_row(self, _headings_row(self))

    def _title_block(self) -> None:
        self.set_font(self.family, size=_TITLE_SIZE)
        self.multi_cell(_FULL_WIDTH, 6, self.title_text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(self.family, size=_FONT_SIZE + 1)
        self.multi_cell(_FULL_WIDTH, 4.5, self.subtitle_text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)


def to_pdf(
    entries: Sequence[RegisterEntry],
    *,
    store_label: str,
    period: str,
    generated_at: datetime,
    generated_by: str,
    local_tz: tzinfo | None = None,
    compress: bool = True,
) -> bytes:
    """The entries as a printable A4 landscape PDF, one block per entry.

    `period` describes the selection as the user made it (dates, serial number or seller).
    Times are printed in `local_tz` when given, with their UTC offset when they are aware.
    `compress=False` leaves the page content and the font's character map uncompressed,
    so that tests can read the text back.
    """
    title = f"Registre de police — {store_label}"
    when = printed_time(in_zone(generated_at, local_tz), "%d/%m/%Y à %H:%M")
    subtitle = f"Sélection : {period}\nÉdité le {when} par {generated_by} — {_count(entries)}"
    pdf = _RegisterPdf(
        title=title,
        subtitle=subtitle,
        footer_label=f"{title} — édité le {when}",
        local_tz=local_tz,
        compress=compress,
    )
    set_metadata(pdf, title=title, author=generated_by, created=generated_at)
    pdf.add_page()
    if not entries:
        pdf.cell(_FULL_WIDTH, 8, pdf.clean("Aucune entrée pour cette sélection."))
    for entry in entries:
        _draw_entry(pdf, entry)
    return bytes(pdf.output())


def _count(entries: Sequence[RegisterEntry]) -> str:
    objects = sum(len(entry.objects) for entry in entries)
    return f"{len(entries)} entrée(s), {objects} objet(s)"


# A row is drawn with one (heading, width, alignment) triple per cell.
_Layout = tuple[tuple[str, float, str], ...]
_BANNER: _Layout = (("", _FULL_WIDTH, "L"),)


@dataclass(frozen=True, slots=True)
class _Row:
    """A table row already cut into the lines each of its cells prints."""

    layout: _Layout
    cells: tuple[tuple[str, ...], ...]
    fill: bool = False
    # Printed at the top of the first cell when the row goes on over a page break.
    continued: str = ""

    @property
    def height(self) -> float:
        tallest = max(1, *(len(lines) for lines in self.cells))
        return tallest * _LINE_HEIGHT + 2 * _CELL_PADDING


def _make_row(
    pdf: _RegisterPdf,
    layout: _Layout,
    texts: Sequence[str],
    *,
    fill: bool = False,
    continued: str = "",
) -> _Row:
    # Wrapping is the slow part of fpdf2: it is done once per row, for measuring and drawing.
    cells = tuple(
        _wrap(pdf, width, pdf.clean(text))
        for (_, width, _), text in zip(layout, texts, strict=True)
    )
    return _Row(layout, cells, fill=fill, continued=pdf.clean(continued))


def _headings_row(pdf: _RegisterPdf) -> _Row:
    return _make_row(pdf, _PDF_COLUMNS, [heading for heading, _, _ in _PDF_COLUMNS], fill=True)


def _draw_entry(pdf: _RegisterPdf, entry: RegisterEntry) -> None:
    rows = _entry_rows(pdf, entry)
    height = sum(row.height for row in rows)
    # Keep an entry on one page when it can fit on one; a huge lot is split between lines.
    if pdf.get_y() + height > pdf.bottom and height <= _fresh_page_room(pdf):
        pdf.add_page()
    for row in rows:
        _draw_row(pdf, row)


def _fresh_page_room(pdf: _RegisterPdf) -> float:
    return pdf.bottom - _MARGIN - _headings_row(pdf).height


def _entry_rows(pdf: _RegisterPdf, entry: RegisterEntry) -> list[_Row]:
    rows: list[_Row] = []
    if entry.kind is EntryKind.CORRECTION or entry.corrects is not None:
        # A correction is a new entry (A.5): the reader must see at once what it replaces.
        banner = f"Rectification du n° {entry.corrects} — {entry.reason or 'motif non précisé'}"
        rows.append(_make_row(pdf, _BANNER, [banner], fill=True))
    texts = [
        _number_text(entry),
        printed_time(in_zone(entry.recorded_at, pdf.local_tz), "%d/%m/%Y\n%H:%M:%S"),
        _seller_text(entry.seller),
        _objects_text(entry.objects),
        _price_text(entry),
        f"{entry.payment_method}\n{entry.payment_summary}\nSaisi par : {entry.recorded_by}",
    ]
    rows.append(_make_row(pdf, _PDF_COLUMNS, texts, continued=f"{entry.number} (suite)"))
    return rows


def _number_text(entry: RegisterEntry) -> str:
    # Each book is numbered on its own, so a mixed export must say which book a number is in.
    if entry.book is RegisterBook.PRECIOUS_METALS:
        return f"{entry.number}\nmétaux précieux"
    return str(entry.number)


def _french_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _seller_text(seller: SellerIdentity) -> str:
    document = seller.document
    lines = [seller.display_name]
    if seller.company_registered_office:
        lines.append(f"Siège : {seller.company_registered_office}")
    lines += [
        f"Né(e) le {_french_date(seller.birth_date)} — {seller.quality}",
        seller.address,
        f"{_document_label(document.type)} n° {document.number}",
        f"délivré(e) le {_french_date(document.issued_on)} par {document.issuing_authority}",
    ]
    return "\n".join(lines)


def _objects_text(objects: Sequence[RegisteredObject]) -> str:
    if len(objects) == 1:
        return _object_text(objects[0])
    described = [f"{index}. {_object_text(obj)}" for index, obj in enumerate(objects, 1)]
    return "\n".join([f"Lot de {len(objects)} objets :", *described])


def _object_text(obj: RegisteredObject) -> str:
    lines = [f"{obj.nature} — {obj.characteristics} — {_euros(obj.price)} €"]
    if obj.weight_grams or obj.fineness is not None:
        lines.append(_metal_text(obj))
    lines.append(obj.description)
    if obj.serials:
        lines.append("N° de série : " + " ".join(obj.serials))
    lines.append(f"Provenance : {obj.provenance} — étiquette {obj.label_code}")
    return "\n".join(line for line in lines if line)


def _metal_text(obj: RegisteredObject) -> str:
    # Weight and fineness are what the precious-metals register adds (business-rules A.8).
    weight = f"{_decimal_comma(obj.weight_grams)} g" if obj.weight_grams else "non indiqué"
    fineness = f"{obj.fineness} millièmes" if obj.fineness is not None else "non indiqué"
    return f"Poids : {weight}, titre : {fineness}"


def _price_text(entry: RegisterEntry) -> str:
    total = f"{_euros(entry.total_price)} €"
    return f"Total du lot\n{total}" if entry.is_lot else total


def _wrap(pdf: FPDF, width: float, text: str) -> tuple[str, ...]:
    """The lines `text` takes in a cell `width` wide, as multi_cell would print them."""
    if not text:
        return ()
    lines = pdf.multi_cell(width, _LINE_HEIGHT, text, dry_run=True, output=MethodReturnValue.LINES)
    assert isinstance(lines, list)
    return tuple(str(line) for line in lines)


def _draw_row(pdf: _RegisterPdf, row: _Row) -> None:
    """Draw one bordered row; a row taller than the page room goes on in slices of lines."""
    remaining = [list(lines) for lines in row.cells]
    while True:
        room = int((pdf.bottom - pdf.get_y() - 2 * _CELL_PADDING) // _LINE_HEIGHT)
        if room < 1:
            pdf.add_page()
            continue
        _draw_slice(pdf, row.layout, [lines[:room] for lines in remaining], fill=row.fill)
        remaining = [lines[room:] for lines in remaining]
        if not any(remaining):
            return
        pdf.add_page()
        # The reader of the next page must still know which entry these lines belong to.
        if row.continued:
            remaining[0] = [row.continued, *remaining[0]]


def _draw_slice(pdf: FPDF, layout: _Layout, columns: list[list[str]], *, fill: bool) -> None:
    height = max(1, *(len(lines) for lines in columns)) * _LINE_HEIGHT + 2 * _CELL_PADDING
    top, x = pdf.get_y(), pdf.l_margin
    pdf.set_fill_color(_GREY)
    for (_, width, align), lines in zip(layout, columns, strict=True):
        pdf.rect(x, top, width, height, style="DF" if fill else "D")
        for index, line in enumerate(lines):
            pdf.set_xy(x, top + _CELL_PADDING + index * _LINE_HEIGHT)
            pdf.cell(width, _LINE_HEIGHT, line, align=align)
        x += width
    pdf.set_xy(pdf.l_margin, top + height)
