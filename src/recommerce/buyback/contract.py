"""The written contract for a purchase of precious metals, with its withdrawal form.

Gold and silver bought from the public go to a separate register that records each
object's weight and fineness (Code pénal art. 321-7 and R321-6-1). Business-rules A.8 adds
a written contract with a withdrawal form: the seller may withdraw within 48 hours (?) -
the length is a setting (StoreSettings.precious_metal_hold_hours, BuyingPolicy's
precious_metal_hold), not a constant of this module, so the caller gives the deadline - and
until then the objects may be neither resold nor melted (Item.resale_blocked_until).

The document is in French, the language of the seller who signs it. The contract comes
first; the withdrawal form starts on a page of its own so that the seller can detach it and
keep the rest.

Plain Python on purpose: no web or database imports, so the API, the CLI and the tests can
all call it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation

from fpdf.enums import Align, XPos, YPos
from fpdf.fonts import FontFace
from fpdf.table import Row

from recommerce.buyback.seller import DocumentType, SellerIdentity, SellerKind
from recommerce.money import CENTS_PER_EURO, Money, total
from recommerce.pdf import (
    PrintedDocument,
    find_unicode_font,
    in_zone,
    printed_time,
    set_metadata,
)

TITLE = "Contrat d'achat de métaux précieux"
FORM_TITLE = "Formulaire de rétractation"

# A4 portrait, in millimetres.
_MARGIN = 15.0
_FOOTER_HEIGHT = 10.0
_FONT_SIZE = 9.0
_TITLE_SIZE = 14.0
_HEADING_SIZE = 10.5
_LINE_HEIGHT = 4.6
_GREY = 230
_SIGNATURE_HEIGHT = 32.0
# Étiquette, désignation, poids, titre, prix: 180 mm, the width between the margins.
_OBJECT_COLUMNS = (30.0, 70.0, 24.0, 24.0, 32.0)
_OBJECT_ALIGNS = (Align.L, Align.L, Align.R, Align.R, Align.R)
_FINENESS_UNIT = 1000
# Between a number and its unit, and between thousands: an amount never wraps in two.
_NBSP = "\u00a0"

# The register export has the same words for the police; a copy keeps the contract
# independent of the export.
_DOCUMENT_LABELS = {
    DocumentType.NATIONAL_ID: "carte nationale d'identité",
    DocumentType.PASSPORT: "passeport",
    DocumentType.RESIDENCE_PERMIT: "titre de séjour",
    DocumentType.DRIVING_LICENCE: "permis de conduire",
}


@dataclass(frozen=True, slots=True)
class ContractObject:
    """One object the seller sells, as the contract describes it.

    `weight_grams` is the decimal text the counter recorded ("4.2"), kept as text so that
    the contract prints exactly the weight written in the register; `fineness` is in
    thousandths (750 for 18-carat gold).
    """

    label_code: str
    description: str
    weight_grams: str
    fineness: int
    price: Money

    def __post_init__(self) -> None:
        # The weight and fineness are what the seller signs for: a contract must not
        # print a weight nobody can check or a fineness no metal has.
        try:
            weight = Decimal(self.weight_grams)
        except InvalidOperation as exc:
            raise ValueError(f"not a weight in grams: {self.weight_grams!r}") from exc
        if not weight.is_finite() or weight <= 0:
            raise ValueError(f"not a weight in grams: {self.weight_grams!r}")
        if not 0 < self.fineness <= _FINENESS_UNIT:
            raise ValueError(f"a fineness is in thousandths, 1 to 1000: {self.fineness}")
        if self.price.cents < 0:
            raise ValueError(f"a price cannot be negative: {self.price}")


def precious_metal_contract_pdf(
    *,
    store_label: str,
    store_address: str,
    purchase_id: str,
    occurred_at: datetime,
    seller: SellerIdentity,
    objects: Sequence[ContractObject],
    payment_summary: str,
    withdrawal_deadline: datetime,
    register_numbers: Sequence[int],
    local_tz: tzinfo | None = None,
    compress: bool = True,
) -> bytes:
    """The purchase contract and its withdrawal form, as a printable A4 PDF.

    `payment_summary` is how the seller is paid, as `Payment.summary()` words it;
    `register_numbers` are the order numbers of the purchase in the precious-metals
    register. Times are printed in `local_tz` when given, with their UTC offset when they
    are aware: the seller must be able to read the deadline without doing sums.
    `compress=False` leaves the text readable in the file, for tests.
    """
    if not objects:
        raise ValueError("a contract lists at least one object")
    if not register_numbers:
        raise ValueError("a contract quotes the register numbers: register the objects first")
    if withdrawal_deadline <= occurred_at:
        raise ValueError("the withdrawal deadline must come after the purchase")
    facts = _Facts(
        store=f"{store_label}, {store_address}",
        purchase_id=purchase_id,
        concluded=_when(occurred_at, local_tz),
        concluded_on=in_zone(occurred_at, local_tz).date(),
        # Kept on one line: a deadline cut in two is easy to misread.
        deadline=_when(withdrawal_deadline, local_tz).replace(" ", _NBSP),
        total=_euros(total(obj.price for obj in objects)),
    )
    pdf = PrintedDocument(
        orientation="P",
        margin=_MARGIN,
        footer_height=_FOOTER_HEIGHT,
        footer_size=_FONT_SIZE - 1.5,
        # Every page names the purchase: the detached form must still say what it is about.
        footer_label=f"{TITLE} — référence {purchase_id}",
        unicode_font=find_unicode_font(),
        compress=compress,
    )
    set_metadata(pdf, title=f"{TITLE} {purchase_id}", author=store_label, created=occurred_at)
    pdf.add_page()
    _contract(pdf, facts, seller, objects, payment_summary, register_numbers)
    pdf.add_page()
    _withdrawal_form(pdf, facts, objects)
    return bytes(pdf.output())


@dataclass(frozen=True, slots=True)
class _Facts:
    """What both parts of the document repeat, already worded."""

    store: str
    purchase_id: str
    concluded: str
    concluded_on: date
    deadline: str
    total: str


# --------------------------------------------------------------------------------------
# The contract
# --------------------------------------------------------------------------------------


def _contract(
    pdf: PrintedDocument,
    facts: _Facts,
    seller: SellerIdentity,
    objects: Sequence[ContractObject],
    payment_summary: str,
    register_numbers: Sequence[int],
) -> None:
    _title(pdf, TITLE)
    _paragraph(pdf, f"Référence de l'achat : {facts.purchase_id}\nConclu le {facts.concluded}")

    _heading(pdf, "Entre les soussignés")
    _paragraph(pdf, f"L'acheteur : {facts.store}.")
    _paragraph(pdf, f"Le vendeur : {_seller_text(seller)}")
    _paragraph(pdf, f"Pièce d'identité présentée : {_document_text(seller)}.")

    _heading(pdf, "Objets achetés")
    _paragraph(pdf, "Le vendeur cède à l'acheteur, qui les achète, les objets suivants :")
    _objects_table(pdf, objects, facts.total)
    _paragraph(pdf, f"Prix total : {facts.total}, payé par {payment_summary}.")
    numbers = ", ".join(str(number) for number in register_numbers)
    _paragraph(
        pdf,
        f"Objets inscrits au registre des métaux précieux du magasin sous le(s) n° {numbers} "
        "(Code pénal, art. 321-7 et R321-6-1).",
    )

    _heading(pdf, "Droit de rétractation")
    _paragraph(
        pdf,
        f"Le vendeur peut se rétracter jusqu'au {facts.deadline}. Jusqu'à cette date, "
        "l'acheteur conserve les objets en l'état : ils ne seront ni revendus ni fondus.",
    )
    _paragraph(
        pdf,
        "Pour se rétracter, le vendeur remet au magasin, ou lui fait parvenir avant cette "
        "date, le formulaire de rétractation ci-joint (page à détacher). Il rembourse alors "
        f"le prix reçu, {facts.total}, et récupère les objets.",
    )

    _paragraph(pdf, f"Fait en deux exemplaires, le {facts.concluded_on.strftime('%d/%m/%Y')}.")
    _signature_boxes(
        pdf,
        [
            "L'acheteur (signature et cachet du magasin)",
            "Le vendeur (signature précédée de la mention « lu et approuvé »)",
        ],
    )


def _seller_text(seller: SellerIdentity) -> str:
    person = (
        f"{seller.surname.upper()} {seller.first_names}, "
        f"né(e) le {_french_date(seller.birth_date)}, demeurant {seller.address}"
    )
    if seller.kind is SellerKind.COMPANY or seller.company_name:
        # R321-5: the company sells, through a representative whose identity is checked.
        return (
            f"{seller.company_name}, dont le siège est {seller.company_registered_office}, "
            f"représentée par {person}, agissant en qualité de {seller.quality}."
        )
    return f"{person}."


def _document_text(seller: SellerIdentity) -> str:
    document = seller.document
    label = _DOCUMENT_LABELS.get(document.type, str(document.type))
    return (
        f"{label} n° {document.number}, délivré(e) le {_french_date(document.issued_on)} "
        f"par {document.issuing_authority}"
    )


def _objects_table(pdf: PrintedDocument, objects: Sequence[ContractObject], total: str) -> None:
    headings = ("Étiquette", "Désignation", "Poids", "Titre", "Prix")
    pdf.set_font(pdf.family, size=_FONT_SIZE)
    with pdf.table(
        col_widths=_OBJECT_COLUMNS,
        width=sum(_OBJECT_COLUMNS),
        align=Align.L,
        line_height=_LINE_HEIGHT,
        # One regular font only: fpdf2's default bold headings would need a second one.
        headings_style=FontFace(emphasis="", fill_color=_GREY),
        text_align=_OBJECT_ALIGNS,
        padding=1,
    ) as table:
        _table_row(pdf, table.row(), headings)
        for obj in objects:
            cells = (
                obj.label_code,
                obj.description,
                f"{_decimal_comma(obj.weight_grams)}{_NBSP}g",
                f"{obj.fineness}/{_FINENESS_UNIT}",
                _euros(obj.price),
            )
            _table_row(pdf, table.row(), cells)
        last = table.row()
        last.cell(pdf.clean("Total"), colspan=len(_OBJECT_COLUMNS) - 1, align=Align.R)
        last.cell(pdf.clean(total))
    pdf.ln(2)


def _table_row(pdf: PrintedDocument, row: Row, texts: Sequence[str]) -> None:
    for text in texts:
        row.cell(pdf.clean(text))


# --------------------------------------------------------------------------------------
# The withdrawal form, on a page of its own
# --------------------------------------------------------------------------------------


def _withdrawal_form(
    pdf: PrintedDocument, facts: _Facts, objects: Sequence[ContractObject]
) -> None:
    pdf.set_font(pdf.family, size=_FONT_SIZE - 1)
    pdf.set_draw_color(120)
    pdf.set_dash_pattern(dash=2, gap=1.5)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
    pdf.set_dash_pattern()
    pdf.set_draw_color(0)
    pdf.cell(pdf.epw, 5, pdf.clean("Partie à détacher et à renvoyer"), align=Align.C)
    pdf.ln(8)

    _title(pdf, FORM_TITLE)
    _paragraph(
        pdf,
        f"À remplir, signer et remettre au magasin, ou lui faire parvenir, au plus tard le "
        f"{facts.deadline}.",
    )
    _paragraph(pdf, f"Magasin : {facts.store}.")
    _paragraph(
        pdf,
        f"{TITLE}, référence {facts.purchase_id}, conclu le {facts.concluded}, "
        f"pour un prix de {facts.total}.",
    )
    _paragraph(pdf, "Objets : " + ", ".join(obj.label_code for obj in objects) + ".")
    _paragraph(
        pdf,
        "Je soussigné(e), vendeur, déclare me rétracter de cette vente. Je rembourse au "
        f"magasin le prix reçu, {facts.total}, et récupère les objets.",
    )
    pdf.ln(3)
    for label in ("Nom et prénoms :", "Date :"):
        _blank_to_fill(pdf, label)
    _signature_boxes(pdf, ["Signature du vendeur"])


def _blank_to_fill(pdf: PrintedDocument, label: str) -> None:
    text = pdf.clean(label)
    pdf.set_font(pdf.family, size=_FONT_SIZE)
    width = pdf.get_string_width(text) + 2
    pdf.cell(width, 8, text)
    baseline = pdf.get_y() + 6
    pdf.line(pdf.get_x(), baseline, pdf.l_margin + pdf.epw, baseline)
    pdf.ln(10)


# --------------------------------------------------------------------------------------
# Blocks
# --------------------------------------------------------------------------------------


def _title(pdf: PrintedDocument, text: str) -> None:
    pdf.set_font(pdf.family, size=_TITLE_SIZE)
    pdf.multi_cell(pdf.epw, 7, pdf.clean(text), align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)


def _heading(pdf: PrintedDocument, text: str) -> None:
    pdf.ln(2)
    # A heading alone at the foot of a page would be separated from what it announces.
    if pdf.get_y() + 3 * _LINE_HEIGHT > pdf.bottom:
        pdf.add_page()
    pdf.set_font(pdf.family, size=_HEADING_SIZE)
    pdf.set_fill_color(_GREY)
    pdf.cell(pdf.epw, 6, pdf.clean(text), fill=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)


def _paragraph(pdf: PrintedDocument, text: str) -> None:
    pdf.set_font(pdf.family, size=_FONT_SIZE)
    pdf.multi_cell(
        pdf.epw, _LINE_HEIGHT, pdf.clean(text), align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.ln(1)


def _signature_boxes(pdf: PrintedDocument, captions: Sequence[str]) -> None:
    """Boxes side by side, kept on one page: a signature must sit next to its caption."""
    pdf.ln(2)
    if pdf.get_y() + _SIGNATURE_HEIGHT > pdf.bottom:
        pdf.add_page()
    gap = 6.0
    width = (pdf.epw - gap * (len(captions) - 1)) / len(captions)
    top = pdf.get_y()
    pdf.set_font(pdf.family, size=_FONT_SIZE - 0.5)
    for index, caption in enumerate(captions):
        x = pdf.l_margin + index * (width + gap)
        pdf.rect(x, top, width, _SIGNATURE_HEIGHT)
        pdf.set_xy(x + 1, top + 1)
        pdf.multi_cell(width - 2, _LINE_HEIGHT - 0.6, pdf.clean(caption), align=Align.L)
    pdf.set_xy(pdf.l_margin, top + _SIGNATURE_HEIGHT + 2)


# --------------------------------------------------------------------------------------
# Wording of numbers, dates and times
# --------------------------------------------------------------------------------------


def _euros(amount: Money) -> str:
    """ "1 250,00 €", the way the seller writes an amount, with no-break spaces."""
    sign = "-" if amount.cents < 0 else ""
    euros, cents = divmod(abs(amount.cents), CENTS_PER_EURO)
    grouped = f"{euros:,}".replace(",", _NBSP)
    return f"{sign}{grouped},{cents:02d}{_NBSP}€"


def _decimal_comma(value: str) -> str:
    return value.replace(".", ",")


def _french_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _when(moment: datetime, local_tz: tzinfo | None) -> str:
    return printed_time(in_zone(moment, local_tz), "%d/%m/%Y à %H:%M")
