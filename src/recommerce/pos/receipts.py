"""The customer's receipt of a ticket: plain text, ESC/POS printer bytes, HTML and PDF.

One content, four renderings: `_receipt` lays out the rows once (rules C.14, D.16, D.18,
E.21) and each renderer only decides how a row looks. Plain Python: no web or database
imports, so the till, the API and the tests can all call it.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from dataclasses import dataclass
from datetime import tzinfo
from enum import Enum, auto
from fractions import Fraction

import qrcode
import qrcode.image.svg
from escpos.printer import Dummy
from fpdf.enums import Align, XPos, YPos
from jinja2 import Environment
from markupsafe import Markup

from recommerce.fiscal import legal
from recommerce.fiscal.vat import receipt_mentions, vat_breakdown
from recommerce.money import CENTS_PER_EURO, Money
from recommerce.pdf import PrintedDocument, find_unicode_font, in_zone, printed_time, set_metadata
from recommerce.pos.tenders import Tender, TenderKind
from recommerce.pos.ticket import Ticket, TicketKind, TicketLine

# Between a number and its unit, and between thousands: the receipt never breaks "1 234,50 €".
NBSP = "\u00a0"
# 80 mm paper, font A: 42 columns.
RECEIPT_WIDTH = 42
_MIN_WIDTH = 24
SHORT_HASH_LENGTH = 16
_HASH = re.compile(r"[0-9a-f]{64}")

_KIND_TITLES = {TicketKind.SALE: "TICKET", TicketKind.RETURN: "AVOIR / RETOUR"}
_TENDER_LABELS = {
    TenderKind.CASH: "Espèces",
    TenderKind.CARD: "Carte bancaire",
    TenderKind.STORE_CREDIT: "Avoir",
    TenderKind.ONLINE: "Payé en ligne",
}


@dataclass(frozen=True, slots=True)
class StoreHeader:
    """Who sells: printed at the top of every receipt."""

    name: str
    address: str
    city: str  # postcode and town, e.g. "69002 Lyon"
    store_number: int
    siret: str | None = None


def verification_payload(number: str, record_hash: str) -> str:
    """What the receipt's QR code carries: the ticket number and its fiscal record's hash.

    Rule D.17: anyone holding the receipt can check it against the chained journal.
    """
    digest = record_hash.strip().lower()
    if not _HASH.fullmatch(digest):
        raise ValueError(f"a fiscal record hash is 64 hex characters: {record_hash!r}")
    return f"recommerce:ticket:{number}:{digest}"


# --------------------------------------------------------------------------------------
# The content, once
# --------------------------------------------------------------------------------------


class _Style(Enum):
    STORE = auto()  # the store's name: bold, double size, centred
    KIND = auto()  # TICKET or AVOIR / RETOUR: bold, double size, centred
    CENTRED = auto()
    TEXT = auto()  # a paragraph, wrapped
    ROW = auto()  # a text on the left, an amount on the right
    DETAIL = auto()  # an indented detail under an item or a tender
    TOTAL = auto()  # bold, double height
    RULE = auto()
    QR = auto()  # `left` is the QR code's payload


@dataclass(frozen=True, slots=True)
class _Row:
    style: _Style
    left: str = ""
    right: str = ""


@dataclass(frozen=True, slots=True)
class _Receipt:
    number: str
    rows: tuple[_Row, ...]
    payload: str
    store: StoreHeader


def _guarantee_text() -> str:
    """Rule E.21, worded from the one legal reference (legal.GUARANTEE)."""
    match = re.fullmatch(
        r"(?P<code>.+?) (?P<scope>L[\d-]+), (?P<presumption>L[\d-]+)", legal.GUARANTEE
    )
    if match is None:  # the constant changed shape: the receipt must not print a wrong text
        raise RuntimeError(f"cannot word the legal guarantee from {legal.GUARANTEE!r}")
    return (
        f"Garantie légale de conformité de 2 ans ({match['code']} {match['scope']} et suivants) ; "
        f"défaut apparu dans les 12 mois présumé existant à la livraison ({match['presumption']})."
    )


GUARANTEE_TEXT = _guarantee_text()
GUARANTEE_LOOKUP_TEXT = (
    "La garantie d'un article se consulte en magasin avec le code de son étiquette (Réf.)."
)


def _euros(amount: Money) -> str:
    """ "1 234,50 €", with no-break spaces."""
    sign = "-" if amount.cents < 0 else ""
    euros, cents = divmod(abs(amount.cents), CENTS_PER_EURO)
    grouped = f"{euros:,}".replace(",", NBSP)
    return f"{sign}{grouped},{cents:02d}{NBSP}€"


def _percent(rate: Fraction) -> str:
    """ "20 %", "5,5 %"."""
    if rate.denominator == 1:
        text = str(rate.numerator)
    else:
        text = f"{float(rate):.2f}".rstrip("0").replace(".", ",")
    return f"{text}{NBSP}%"


def _clean(text: str) -> str:
    # NFC: a decomposed "é" would print as "e" and a stray accent; one line per row.
    return " ".join(unicodedata.normalize("NFC", text).split())


def _item_rows(line: TicketLine) -> list[_Row]:
    rows = [_Row(_Style.ROW, _clean(line.article_name), _euros(line.price))]
    detail = f"Réf. {line.label_code}"
    # Rule C.14: a margin-scheme item's VAT (and so its rate) is never shown to the customer.
    if line.taxed.vat_shown_to_customer:
        detail += f" · TVA {_percent(line.taxed.rate)}"
    rows.append(_Row(_Style.DETAIL, detail))
    if line.discount.cents:
        rows.append(
            _Row(
                _Style.DETAIL,
                f"prix étiquette {_euros(line.unit_price)}",
                f"remise -{_euros(Money(abs(line.discount.cents)))}",
            )
        )
    return rows


def _tender_rows(ticket: Ticket) -> list[_Row]:
    rows: list[_Row] = []
    change_shown = False
    for tender in ticket.tenders:
        amount = tender.amount
        if tender.kind is TenderKind.CASH and not change_shown:
            # A cash tender records what it pays; the customer handed over that plus the change.
            amount += ticket.change
            change_shown = True
        rows.append(_Row(_Style.ROW, _tender_label(tender), _euros(amount)))
        if tender.kind is TenderKind.CARD and tender.reference:
            rows.append(_Row(_Style.DETAIL, f"autorisation {tender.reference}"))
    if change_shown or ticket.change.cents:
        rows.append(_Row(_Style.ROW, "Rendu", _euros(ticket.change)))
    return rows


def _tender_label(tender: Tender) -> str:
    label = _TENDER_LABELS[tender.kind]
    if tender.kind is TenderKind.STORE_CREDIT and tender.reference:
        label += f" {tender.reference}"
    return label


def _receipt(
    ticket: Ticket,
    *,
    store: StoreHeader,
    cashier: str,
    record_hash: str,
    local_tz: tzinfo,
) -> _Receipt:
    number = ticket.display_number
    payload = verification_payload(number, record_hash)
    store_line = f"Magasin n° {store.store_number:03d}"
    if store.siret:
        store_line += f" · SIRET {store.siret}"
    rows = [
        _Row(_Style.STORE, _clean(store.name)),
        _Row(_Style.CENTRED, _clean(store.address)),
        _Row(_Style.CENTRED, _clean(store.city)),
        _Row(_Style.CENTRED, store_line),
        _Row(_Style.RULE),
        _Row(_Style.KIND, _KIND_TITLES[ticket.kind]),
        _Row(_Style.CENTRED, f"n° {number}"),
    ]
    if ticket.kind is TicketKind.RETURN and ticket.refers_to:
        # Rule D.16: a correction is a counter-ticket that references the original.
        rows.append(_Row(_Style.CENTRED, f"Annule le ticket {ticket.refers_to}"))
    when = printed_time(in_zone(ticket.occurred_at, local_tz), "%d/%m/%Y %H:%M")
    rows += [
        _Row(_Style.TEXT, when),
        _Row(_Style.TEXT, f"Caisse {ticket.till} · Vendeur : {_clean(cashier)}"),
        _Row(_Style.RULE),
    ]
    for line in ticket.lines:
        rows += _item_rows(line)
    rows += [_Row(_Style.RULE), _Row(_Style.TOTAL, "TOTAL TTC", _euros(ticket.total))]
    # Rule C.14: VAT rows only for the lines whose VAT the customer may see.
    shown = vat_breakdown(line.taxed for line in ticket.lines if line.taxed.vat_shown_to_customer)
    for row in shown:
        rows.append(
            _Row(
                _Style.ROW,
                f"TVA {_percent(row.rate)} : {_euros(row.vat)}",
                f"base HT {_euros(row.net)}",
            )
        )
    rows += [
        _Row(_Style.TEXT, mention)
        for mention in receipt_mentions(line.taxed for line in ticket.lines)
    ]
    rows.append(_Row(_Style.RULE))
    if ticket.tenders or ticket.change.cents:
        title = "Remboursement" if ticket.kind is TicketKind.RETURN else "Règlement"
        rows += [_Row(_Style.TEXT, title), *_tender_rows(ticket), _Row(_Style.RULE)]
    rows += [
        _Row(_Style.TEXT, GUARANTEE_TEXT),
        _Row(_Style.TEXT, GUARANTEE_LOOKUP_TEXT),
        _Row(_Style.QR, payload),
        _Row(_Style.CENTRED, f"Empreinte : {payload.rsplit(':', 1)[1][:SHORT_HASH_LENGTH]}"),
        _Row(_Style.CENTRED, "Merci de votre visite"),
    ]
    return _Receipt(number=number, rows=tuple(rows), payload=payload, store=store)


# --------------------------------------------------------------------------------------
# Plain text
# --------------------------------------------------------------------------------------


def _wrap(text: str, width: int, indent: str = "") -> list[str]:
    # No break inside "L217-3" or a label code with a dash; a word longer than the paper is cut.
    return textwrap.wrap(
        text,
        width,
        initial_indent=indent,
        subsequent_indent=indent,
        break_on_hyphens=False,
    ) or [""]


def _columns(left: str, right: str, width: int, indent: str = "") -> list[str]:
    """`left` wrapped, `right` right-aligned on its first line, or on a line of its own."""
    if not right:
        return _wrap(left, width, indent)
    room = width - len(right) - 1
    if room < width // 2:
        return [*_wrap(left, width, indent), *(line.rjust(width) for line in _wrap(right, width))]
    lefts = _wrap(left, room, indent)
    return [f"{lefts[0].ljust(room)} {right}", *lefts[1:]]


def _text_lines(row: _Row, width: int) -> list[str]:
    if row.style is _Style.RULE:
        return ["-" * width]
    if row.style is _Style.QR:
        return []
    if row.style in (_Style.STORE, _Style.KIND, _Style.CENTRED):
        return [line.center(width).rstrip() for line in _wrap(row.left, width)]
    if row.style is _Style.DETAIL:
        return _columns(row.left, row.right, width, indent="  ")
    return _columns(row.left, row.right, width)


def receipt_lines(
    ticket: Ticket,
    *,
    store: StoreHeader,
    cashier: str,
    record_hash: str,
    local_tz: tzinfo,
    width: int = RECEIPT_WIDTH,
) -> list[str]:
    """The receipt as text lines of at most `width` characters (42 on 80 mm paper).

    The QR code has no text form: its hash is printed in short under where it stands.
    """
    if width < _MIN_WIDTH:
        raise ValueError(f"a receipt is at least {_MIN_WIDTH} columns wide")
    receipt = _receipt(
        ticket, store=store, cashier=cashier, record_hash=record_hash, local_tz=local_tz
    )
    return [line for row in receipt.rows for line in _text_lines(row, width)]


# --------------------------------------------------------------------------------------
# ESC/POS
# --------------------------------------------------------------------------------------

# Windows-1252 prints "é", "€" and the en dash of the margin-scheme mention; printers lacking
# it get python-escpos's automatic code-page switching.
_CODE_PAGE = "CP1252"
_QR_DOT_SIZE = 6


def escpos_bytes(
    ticket: Ticket,
    *,
    store: StoreHeader,
    cashier: str,
    record_hash: str,
    local_tz: tzinfo,
    width: int = RECEIPT_WIDTH,
    printer: Dummy | None = None,
) -> bytes:
    """The receipt as ESC/POS commands: initialise, print, QR code, cut.

    With no `printer`, an `escpos.printer.Dummy` collects the bytes; a given Dummy (e.g. with
    a printer profile) gets the commands appended and its whole output is returned.
    """
    if width < _MIN_WIDTH:
        raise ValueError(f"a receipt is at least {_MIN_WIDTH} columns wide")
    receipt = _receipt(
        ticket, store=store, cashier=cashier, record_hash=record_hash, local_tz=local_tz
    )
    p = Dummy() if printer is None else printer
    p.hw("INIT")  # ESC @: the printer forgets any earlier mode, code page included
    p.magic.encoding = None  # so the code page below is always sent after the reset
    try:
        p.charcode(_CODE_PAGE)
    except (KeyError, ValueError):
        p.charcode("AUTO")
    for row in receipt.rows:
        _print_row(p, row, width)
    p.cut()
    return bytes(p.output)


def _print_row(p: Dummy, row: _Row, width: int) -> None:
    if row.style in (_Style.STORE, _Style.KIND):
        p.set(align="center", bold=True, double_width=True, double_height=True)
        for line in _wrap(row.left, width // 2):
            p.textln(line)
        p.set(align="left", bold=False, normal_textsize=True)
    elif row.style is _Style.TOTAL:
        p.set(bold=True, double_height=True)
        for line in _text_lines(row, width):
            p.textln(line)
        p.set(bold=False, normal_textsize=True)
    elif row.style is _Style.QR:
        p.set(align="center")
        p.ln()
        native = bool(p.profile.supports("qrCode"))
        p.qr(row.left, size=_QR_DOT_SIZE, native=native, center=not native)
        p.ln()
        p.set(align="left")
    else:
        for line in _text_lines(row, width):
            p.textln(line)


# --------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------

_HTML_TEMPLATE = """<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<title>Ticket {{ number }} – {{ store.name }}</title>
<style>
  @page { size: 80mm auto; margin: 3mm; }
  body { font-family: "DejaVu Sans Mono", "Courier New", monospace; font-size: 11px;
         width: 74mm; margin: 0 auto; color: #000; }
  p { margin: 0; }
  .store, .kind { font-weight: bold; font-size: 18px; text-align: center; }
  .centred { text-align: center; }
  .split { display: flex; justify-content: space-between; gap: 1em; }
  .amount { white-space: nowrap; text-align: right; }
  .detail { padding-left: 1.5em; }
  .total { font-weight: bold; font-size: 15px; }
  hr { border: 0; border-top: 1px dashed #000; margin: 2mm 0; }
  .qr { text-align: center; margin-top: 2mm; }
  .qr svg { width: 30mm; height: 30mm; }
  @media print { body { width: auto; } }
</style>
</head>
<body>
<div class="receipt">
{%- for row in rows %}
{%- if row.style == "RULE" %}
<hr>
{%- elif row.style == "QR" %}
<div class="qr">{{ qr_svg }}</div>
{%- elif row.right %}
<p class="{{ row.css }} split"><span>{{ row.left }}</span><span class="amount">{{ row.right }}</span></p>
{%- else %}
<p class="{{ row.css }}">{{ row.left }}</p>
{%- endif %}
{%- endfor %}
</div>
</body>
</html>
"""

_CSS_CLASSES = {
    _Style.STORE: "store",
    _Style.KIND: "kind",
    _Style.CENTRED: "centred",
    _Style.TEXT: "text",
    _Style.ROW: "row",
    _Style.DETAIL: "detail",
    _Style.TOTAL: "total",
    _Style.RULE: "rule",
    _Style.QR: "qr",
}

_html = Environment(autoescape=True, keep_trailing_newline=True)
_receipt_template = _html.from_string(_HTML_TEMPLATE)


def _qr_svg(payload: str) -> Markup:
    image = qrcode.make(payload, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    svg = image.to_string(encoding="unicode")
    # Inline SVG needs no XML declaration; the payload is hex, a colon and a ticket number.
    return Markup(re.sub(r"^<\?xml[^>]*\?>\s*", "", svg))


def receipt_html(
    ticket: Ticket,
    *,
    store: StoreHeader,
    cashier: str,
    record_hash: str,
    local_tz: tzinfo,
) -> str:
    """A standalone HTML copy of the receipt, laid out for 80 mm paper, QR code inline."""
    receipt = _receipt(
        ticket, store=store, cashier=cashier, record_hash=record_hash, local_tz=local_tz
    )
    rows = [
        {
            "style": row.style.name,
            "css": _CSS_CLASSES[row.style],
            "left": row.left,
            "right": row.right,
        }
        for row in receipt.rows
    ]
    return _receipt_template.render(
        number=receipt.number, store=receipt.store, rows=rows, qr_svg=_qr_svg(receipt.payload)
    )


# --------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------

_PAGE_WIDTH = 80.0  # mm
_MARGIN = 4.0
_FONT_SIZE = 8.0  # 42 columns of DejaVu Sans Mono fill the 72 mm between the margins
_LINE_HEIGHT = 3.6
_QR_SIZE = 30.0
_FOOTER_HEIGHT = 6.0


def receipt_pdf(
    ticket: Ticket,
    *,
    store: StoreHeader,
    cashier: str,
    record_hash: str,
    local_tz: tzinfo,
    compress: bool = True,
) -> bytes:
    """The receipt as a PDF on an 80 mm wide page, in the shared document font."""
    receipt = _receipt(
        ticket, store=store, cashier=cashier, record_hash=record_hash, local_tz=local_tz
    )
    pdf = PrintedDocument(
        orientation="P",
        margin=_MARGIN,
        footer_height=_FOOTER_HEIGHT,
        footer_size=6,
        footer_label=f"Ticket {receipt.number}",
        unicode_font=find_unicode_font(),
        compress=compress,
    )
    set_metadata(
        pdf, title=f"Ticket {receipt.number}", author=store.name, created=ticket.occurred_at
    )
    text_lines = sum(len(_text_lines(row, RECEIPT_WIDTH)) for row in receipt.rows)
    height = 2 * _MARGIN + _FOOTER_HEIGHT + (text_lines + 6) * _LINE_HEIGHT + _QR_SIZE + 4
    pdf.add_page(format=(_PAGE_WIDTH, height))
    for row in receipt.rows:
        _pdf_row(pdf, row, receipt.payload)
    return bytes(pdf.output())


def _pdf_row(pdf: PrintedDocument, row: _Row, payload: str) -> None:
    if row.style is _Style.RULE:
        y = pdf.get_y() + _LINE_HEIGHT / 2
        pdf.set_dash_pattern(dash=1, gap=1)
        pdf.line(pdf.l_margin, y, pdf.l_margin + pdf.epw, y)
        pdf.set_dash_pattern()
        pdf.ln(_LINE_HEIGHT)
        return
    if row.style is _Style.QR:
        image = qrcode.make(payload, border=2).get_image()
        pdf.image(image, x=pdf.l_margin + (pdf.epw - _QR_SIZE) / 2, y=pdf.get_y() + 1, w=_QR_SIZE)
        pdf.set_y(pdf.get_y() + _QR_SIZE + 2)
        return
    big = row.style in (_Style.STORE, _Style.KIND)
    bold = big or row.style is _Style.TOTAL
    size = _FONT_SIZE * (1.6 if big else 1.3 if row.style is _Style.TOTAL else 1)
    height = _LINE_HEIGHT * size / _FONT_SIZE
    pdf.set_font(pdf.family, size=size)
    left = pdf.clean(row.left)
    if bold and not pdf.unicode:
        pdf.set_font(pdf.family, style="B", size=size)  # the bundled font has no bold face
    if row.style in (_Style.STORE, _Style.KIND, _Style.CENTRED):
        pdf.multi_cell(pdf.epw, height, left, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return
    indent = 3.0 if row.style is _Style.DETAIL else 0.0
    right = pdf.clean(row.right)
    right_width = pdf.get_string_width(right) + 1 if right else 0.0
    top = pdf.get_y()
    pdf.set_x(pdf.l_margin + indent)
    pdf.multi_cell(
        pdf.epw - indent - right_width,
        height,
        left,
        align=Align.L,
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    if right:
        bottom = pdf.get_y()
        pdf.set_xy(pdf.l_margin + pdf.epw - right_width, top)
        pdf.cell(right_width, height, right, align=Align.R)
        pdf.set_xy(pdf.l_margin, max(bottom, top + height))
