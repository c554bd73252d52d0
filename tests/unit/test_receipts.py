"""The customer's receipt: what it must say and never say (rules C.14, D.16-D.18, E.21)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from escpos.printer import Dummy
from test_register_export import page_count, pdf_text

from recommerce.fiscal import legal
from recommerce.fiscal.vat import reverse, tax_line
from recommerce.inventory.model import VatRegime
from recommerce.money import Money
from recommerce.pos.receipts import (
    NBSP,
    StoreHeader,
    escpos_bytes,
    receipt_html,
    receipt_lines,
    receipt_pdf,
    verification_payload,
)
from recommerce.pos.tenders import Tender, TenderKind
from recommerce.pos.ticket import Ticket, TicketKind, TicketLine

PARIS = ZoneInfo("Europe/Paris")
SHOP = StoreHeader(
    name="Recommerce Lyon Part-Dieu",
    address="12 rue de la Villette",
    city="69003 Lyon",
    store_number=12,
    siret="123 456 789 00012",
)
RECORD_HASH = "0123456789abcdef" + "f" * 48
GUARANTEE = (
    "Garantie légale de conformité de 2 ans (Code de la consommation L217-3 et suivants) ; "
    "défaut apparu dans les 12 mois présumé existant à la livraison (L217-7)."
)


def eur(text: str) -> str:
    """ "1 234,50 €" as the receipt writes it: a no-break space in numbers and before units."""
    return re.sub(r"(?<=\d) (?=[\d€%])", NBSP, text)


def a_line(
    name: str,
    label: str,
    regime: VatRegime,
    price: str,
    *,
    bought: str = "0",
    discount: str = "0",
) -> TicketLine:
    paid = Money.euros(price) - Money.euros(discount)
    return TicketLine(
        item_id=f"item-{label}",
        label_code=label,
        article_name=name,
        unit_price=Money.euros(price),
        discount=Money.euros(discount),
        taxed=tax_line(regime, paid, Money.euros(bought)),
    )


# A camera bought 100 from an individual and sold 160: 10.00 of margin VAT, never shown.
CAMERA = a_line("Appareil photo Canon AE-1", "2000000000017", VatRegime.MARGIN, "160", bought="100")
# A refurbished phone bought on an invoice: 240 with 40 of VAT on 200 net, shown.
PHONE = a_line(
    "iPhone 12 reconditionné 128 Go",
    "2000000000024",
    VatRegime.NORMAL,
    "250",
    discount="10",
)


def a_sale(*lines: TicketLine, tenders: tuple[Tender, ...] = (), change: str = "0") -> Ticket:
    return Ticket(
        id="ticket-1",
        store_number=12,
        till="T1",
        number=42,
        kind=TicketKind.SALE,
        occurred_at=datetime(2025, 3, 14, 14, 42, tzinfo=UTC),
        staff_id="staff-1",
        lines=lines,
        tenders=tenders,
        change=Money.euros(change),
    )


CASH_SALE = a_sale(CAMERA, tenders=(Tender(TenderKind.CASH, Money.euros(160)),), change="40")
MIXED_SALE = a_sale(
    CAMERA,
    PHONE,
    tenders=(
        Tender(TenderKind.CASH, Money.euros(100)),
        Tender(TenderKind.CARD, Money.euros(250), reference="AUTH-7781"),
        Tender(TenderKind.STORE_CREDIT, Money.euros(50), reference="AV-2025-0031"),
    ),
    change="5.50",
)


def lines_of(ticket: Ticket, width: int = 42) -> list[str]:
    return receipt_lines(
        ticket,
        store=SHOP,
        cashier="Marie D.",
        record_hash=RECORD_HASH,
        local_tz=PARIS,
        width=width,
    )


def text_of(ticket: Ticket) -> str:
    """The receipt as one paragraph: wrapped sentences read whole again."""
    return " ".join(" ".join(lines_of(ticket)).split(" "))


def html_of(ticket: Ticket) -> str:
    return receipt_html(
        ticket, store=SHOP, cashier="Marie D.", record_hash=RECORD_HASH, local_tz=PARIS
    )


def test_receipt_of_a_margin_item_says_regime_particulier_and_never_shows_its_vat() -> None:
    lines = lines_of(CASH_SALE)
    text = text_of(CASH_SALE)

    assert legal.MARGIN_SCHEME_RECEIPT_MENTION == "Régime particulier – Biens d'occasion"
    assert "Régime particulier – Biens d'occasion" in lines
    assert "TVA" not in text
    assert eur("10,00 €") not in text, "the margin VAT (10.00) is never shown"
    assert "Appareil photo Canon AE-1" in text
    assert eur("160,00 €") in text
    html = html_of(CASH_SALE)
    assert "Régime particulier – Biens d&#39;occasion" in html
    assert "TVA" not in html


def test_receipt_shows_vat_of_normal_regime_items() -> None:
    lines = lines_of(MIXED_SALE)
    text = text_of(MIXED_SALE)

    # Only the phone's VAT: 240 paid, 40 of VAT on 200 net; nothing of the camera's 10.
    vat_rows = [line for line in lines if line.startswith("TVA")]
    assert len(vat_rows) == 1
    assert vat_rows[0].startswith(eur("TVA 20 % : 40,00 €"))
    assert vat_rows[0].endswith(eur("base HT 200,00 €"))
    assert "Réf. 2000000000024 · TVA 20" in text
    assert "Réf. 2000000000017" in lines[lines.index(next(x for x in lines if "Canon" in x)) + 1]
    assert "TVA" not in next(x for x in lines if "2000000000017" in x)
    assert eur("remise -10,00 €") in text
    assert eur("10,00 €") not in text.replace(eur("remise -10,00 €"), "")
    assert "Régime particulier – Biens d'occasion" in lines
    total_line = next(line for line in lines if line.startswith("TOTAL TTC"))
    assert total_line.endswith(eur("400,00 €"))


def test_receipt_states_the_two_year_legal_guarantee() -> None:
    text = text_of(CASH_SALE)

    assert GUARANTEE in text
    assert "code de son étiquette" in text
    assert GUARANTEE in " ".join(html_of(CASH_SALE).split())


def test_receipt_carries_the_ticket_number_and_a_qr_code_of_the_record_hash() -> None:
    payload = verification_payload("012-T1-000042", RECORD_HASH)
    assert payload == f"recommerce:ticket:012-T1-000042:{RECORD_HASH}"

    lines = lines_of(MIXED_SALE)
    assert "n° 012-T1-000042" in " ".join(lines)
    assert "Empreinte : 0123456789abcdef" in [line.strip() for line in lines]
    assert RECORD_HASH not in " ".join(lines), "the text shows the hash in short"
    # In the store's zone: 14:42 UTC is 15:42 in Paris in March.
    assert "14/03/2025 15:42 (UTC+01:00)" in lines
    assert "Caisse T1 · Vendeur : Marie D." in lines

    html = html_of(MIXED_SALE)
    assert "<svg" in html and "<path" in html
    assert "<?xml" not in html
    assert "012-T1-000042" in html

    data = escpos_bytes(
        MIXED_SALE, store=SHOP, cashier="Marie D.", record_hash=RECORD_HASH, local_tz=PARIS
    )
    assert b"\x1d(k" in data, "a native QR code (GS ( k)"
    assert payload.encode() in data


def test_verification_payload_refuses_what_is_not_a_record_hash() -> None:
    for wrong in ("", "abc", "z" * 64, RECORD_HASH + "0"):
        try:
            verification_payload("012-T1-000042", wrong)
        except ValueError:
            continue
        raise AssertionError(f"accepted {wrong!r}")


def test_return_receipt_references_the_original_ticket() -> None:
    refund = Ticket(
        id="ticket-2",
        store_number=12,
        till="T1",
        number=43,
        kind=TicketKind.RETURN,
        occurred_at=datetime(2025, 3, 15, 9, 5, tzinfo=UTC),
        staff_id="staff-1",
        lines=(
            TicketLine(
                item_id=CAMERA.item_id,
                label_code=CAMERA.label_code,
                article_name=CAMERA.article_name,
                unit_price=-CAMERA.unit_price,
                discount=-CAMERA.discount,
                taxed=reverse(CAMERA.taxed),
            ),
        ),
        tenders=(Tender(TenderKind.CASH, Money.euros(-160)),),
        change=Money.zero(),
        refers_to="012-T1-000042",
    )

    lines = lines_of(refund)

    assert "AVOIR / RETOUR" in [line.strip() for line in lines]
    assert "TICKET" not in [line.strip() for line in lines]
    assert "Annule le ticket 012-T1-000042" in [line.strip() for line in lines]
    assert "n° 012-T1-000043" in [line.strip() for line in lines]
    assert next(x for x in lines if x.startswith("TOTAL TTC")).endswith(eur("-160,00 €"))
    assert "Remboursement" in lines
    assert "Régime particulier – Biens d'occasion" in lines
    assert "TVA" not in " ".join(lines)


def test_escpos_receipt_is_printer_bytes_with_cut() -> None:
    data = escpos_bytes(
        MIXED_SALE, store=SHOP, cashier="Marie D.", record_hash=RECORD_HASH, local_tz=PARIS
    )

    assert data.startswith(b"\x1b@"), "ESC @ initialises the printer"
    assert b"\x1bt\x10" in data, "ESC t 16 selects Windows-1252"
    assert data.endswith(b"\x1dV\x00"), "GS V 0: full cut"
    assert b"012-T1-000042" in data
    assert "é".encode("cp1252") in data and "€".encode("cp1252") in data
    assert "Régime particulier – Biens d'occasion".encode("cp1252") in data
    assert b"\x1bE\x01" in data, "bold header and total"
    assert b"\x1b!0" in data, "double size"


def test_escpos_receipt_prints_on_a_given_printer_after_a_reset() -> None:
    printer = Dummy()
    printer.charcode("CP1252")
    printer.text("déjà imprimé\n")

    data = escpos_bytes(
        CASH_SALE,
        store=SHOP,
        cashier="Marie D.",
        record_hash=RECORD_HASH,
        local_tz=PARIS,
        printer=printer,
    )

    receipt = data[data.index(b"\x1b@") :]
    assert receipt.startswith(b"\x1b@\x1bt\x10"), "the code page is sent again after ESC @"


def test_receipt_lines_fit_an_80mm_printer() -> None:
    long_name = StoreHeader(
        name="Recommerce " + "Très-Long-Nom-De-Magasin " * 4,
        address="Centre commercial de la Part-Dieu, niveau 2, " * 2,
        city="69003 Lyon",
        store_number=7,
    )
    ticket = a_sale(
        a_line(
            "Ordinateur " * 12 + "Supercalifragilisticexpialidocious" * 3,
            "L1",
            VatRegime.NORMAL,
            "123456.78",
        ),
        CAMERA,
        tenders=(Tender(TenderKind.CARD, Money.euros("123616.78"), reference="X" * 60),),
    )
    for width in (42, 32):
        lines = receipt_lines(
            ticket,
            store=long_name,
            cashier="Jean-Baptiste " * 5,
            record_hash=RECORD_HASH,
            local_tz=PARIS,
            width=width,
        )
        too_long = [line for line in lines if len(line) > width]
        assert not too_long, too_long
    assert eur("123 456,78 €") in " ".join(lines)


def test_html_receipt_escapes_article_names() -> None:
    ticket = a_sale(a_line("<script>alert(1)</script>", "L9", VatRegime.MARGIN, "5", bought="1"))

    html = html_of(ticket)

    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert "@page" in html and "80mm" in html


def test_pdf_receipt_is_a_pdf() -> None:
    pdf = receipt_pdf(
        MIXED_SALE,
        store=SHOP,
        cashier="Marie D.",
        record_hash=RECORD_HASH,
        local_tz=PARIS,
        compress=False,
    )

    assert pdf.startswith(b"%PDF")
    assert page_count(pdf) == 1
    assert b"/Subtype /Image" in pdf, "the QR code"
    # The document's default is A4; the one page is 80 mm wide (226.77 pt).
    assert b"/MediaBox [0 0 226.77 " in pdf
    text = " ".join(pdf_text(pdf).split())
    assert "012-T1-000042" in text
    assert "Régime particulier – Biens d'occasion" in text
    assert "TOTAL TTC" in text
    assert "Empreinte : 0123456789abcdef" in text
