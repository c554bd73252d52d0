"""Exporting the police register for the police, as CSV and printable PDF (business-rules A.6)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from recommerce.buyback.seller import DocumentType, IdentityDocument, SellerIdentity, SellerKind
from recommerce.money import Money
from recommerce.registers import export
from recommerce.registers.export import CSV_COLUMNS, to_csv, to_pdf
from recommerce.registers.police import (
    EntryKind,
    RegisterBook,
    RegisteredObject,
    RegisterEntry,
    correction_of,
)

# --------------------------------------------------------------------------------------
# Register entries, written by hand as a store would record them
# --------------------------------------------------------------------------------------

RECORDED_AT = datetime(2025, 3, 14, 10, 32, 5)
# A fixed offset rather than ZoneInfo("Europe/Paris"): the tests need no tz database.
PARIS_WINTER = timezone(timedelta(hours=1))


def a_seller(**changes: object) -> SellerIdentity:
    seller = SellerIdentity(
        surname="Lefèvre",
        first_names="Héloïse Marie",
        birth_date=date(1985, 3, 14),
        address="12 rue de l'Église, 69003 Lyon",
        document=IdentityDocument(
            type=DocumentType.NATIONAL_ID,
            number="X4RTBPFW4",
            issued_on=date(2019, 6, 1),
            issuing_authority="Préfecture du Rhône",
            expires_on=date(2029, 5, 31),
        ),
    )
    return replace(seller, **changes)  # type: ignore[arg-type]


def a_phone(**changes: object) -> RegisteredObject:
    phone = RegisteredObject(
        label_code="LYO-000123",
        nature="Téléphones",
        characteristics="Apple iPhone 12, 128 Go, grade B",
        description="Rayure au dos, coque d'origine",
        provenance="Achat au public",
        price=Money.euros("129"),
        serials=("356938035643809",),
    )
    return replace(phone, **changes)  # type: ignore[arg-type]


def a_dvd(label_code: str, title: str) -> RegisteredObject:
    return RegisteredObject(
        label_code=label_code,
        nature="DVD",
        characteristics=title,
        description="Boîtier d'origine",
        provenance="Achat au public",
        price=Money.euros("2.50"),
    )


def a_gold_ring() -> RegisteredObject:
    return RegisteredObject(
        label_code="LYO-MP-0007",
        nature="Bijoux or",
        characteristics="Bague or jaune 18 carats",
        description="Poinçon tête d'aigle",
        provenance="Succession",
        price=Money.euros("310"),
        weight_grams="4.2",
        fineness=750,
    )


def an_entry(number: int, *objects: RegisteredObject, **changes: object) -> RegisterEntry:
    entry = RegisterEntry(
        book=RegisterBook.GENERAL,
        number=number,
        recorded_at=RECORDED_AT,
        kind=EntryKind.ACQUISITION,
        seller=a_seller(),
        objects=objects or (a_phone(),),
        payment_method="virement",
        payment_summary="SEPA 129,00 €",
        recorded_by="c.martin",
        purchase_id=f"PUR-{number}",
    )
    return replace(entry, **changes)  # type: ignore[arg-type]


def a_correction(original: RegisterEntry, number: int, reason: str) -> RegisterEntry:
    return correction_of(
        original,
        number=number,
        recorded_at=datetime(2025, 3, 14, 11, 0),
        recorded_by="c.martin",
        reason=reason,
        seller=replace(original.seller, surname="Lefebvre"),
    )


# --------------------------------------------------------------------------------------
# Reading the exports back
# --------------------------------------------------------------------------------------


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))


_SHOWN_TEXT_OR_END = re.compile(rb"\(((?:\\.|[^\\)])*)\)\s*Tj|(?<![A-Za-z])ET(?![A-Za-z])", re.S)
_ESCAPE = re.compile(rb"\\([0-7]{1,3}|.)", re.S)
_ESCAPED = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
_CMAP_PAIR = re.compile(rb"<([0-9A-Fa-f]{4})>\s*<([0-9A-Fa-f]+)>")


def _unescape(raw: bytes) -> bytes:
    def one(match: re.Match[bytes]) -> bytes:
        token = match[1]
        if token[:1].isdigit():
            return bytes([int(token, 8) & 0xFF])
        return _ESCAPED.get(token, token)

    return _ESCAPE.sub(one, raw)


def pdf_text(pdf: bytes) -> str:
    """The text shown on the pages of an uncompressed fpdf2 PDF, one text object a line.

    With a TrueType font fpdf2 writes glyph codes, which its ToUnicode map turns back into
    characters; with a core font the strings are plain latin-1.
    """
    cmap = {
        int(code, 16): bytes.fromhex(target.decode()).decode("utf-16-be")
        for code, target in _CMAP_PAIR.findall(pdf)
    }
    lines, line = [], ""
    for match in _SHOWN_TEXT_OR_END.finditer(pdf):
        if match[1] is None:
            lines.append(line)
            line = ""
            continue
        shown = _unescape(match[1])
        if cmap:
            codes = (int.from_bytes(shown[i : i + 2], "big") for i in range(0, len(shown), 2))
            line += "".join(cmap.get(code, "\ufffd") for code in codes)
        else:
            line += shown.decode("latin-1")
    return "\n".join(lines)


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))


def a_pdf(entries: list[RegisterEntry]) -> bytes:
    return to_pdf(
        entries,
        store_label="Lyon Part-Dieu",
        period="du 01/03/2025 au 31/03/2025",
        generated_at=datetime(2025, 4, 2, 9, 15),
        generated_by="Inspecteur Durand (demande n° 2025-117)",
        compress=False,
    )


# --------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------


def test_register_export_csv_has_the_columns_the_police_read_in_order() -> None:
    text = to_csv([an_entry(12)])

    assert text.startswith("\ufeff"), "French Excel needs the BOM to read UTF-8"
    header = text.removeprefix("\ufeff").splitlines()[0].split(";")
    assert header == list(CSV_COLUMNS)
    assert header[:6] == [
        "numero",
        "registre",
        "date_heure",
        "type",
        "rectifie_numero",
        "motif_rectification",
    ]
    assert header[-5:] == ["prix_eur", "mode_paiement", "paiement", "etiquette", "saisi_par"]
    assert not to_csv([], excel_bom=False).count("\n") > 1


def test_register_export_csv_writes_the_entry_as_recorded() -> None:
    (row,) = csv_rows(to_csv([an_entry(12)]))

    assert row["numero"] == "12"
    assert row["registre"] == "general"
    assert row["date_heure"] == "2025-03-14T10:32:05"
    assert row["type"] == "acquisition"
    assert row["vendeur_nom"] == "Lefèvre"
    assert row["vendeur_prenoms"] == "Héloïse Marie"
    assert row["vendeur_date_naissance"] == "1985-03-14"
    assert row["piece_type"] == "carte nationale d'identité"
    assert row["piece_autorite"] == "Préfecture du Rhône"
    assert row["numeros_de_serie"] == "356938035643809"
    assert row["prix_eur"] == "129,00"
    assert row["rectifie_numero"] == row["motif_rectification"] == ""


def test_register_export_csv_writes_store_clock_times_in_the_store_time_zone() -> None:
    entry = an_entry(12, recorded_at=datetime(2025, 3, 14, 9, 32, 5, tzinfo=UTC))

    (as_stored,) = csv_rows(to_csv([entry]))
    (local,) = csv_rows(to_csv([entry], local_tz=PARIS_WINTER))

    assert as_stored["date_heure"] == "2025-03-14T09:32:05+00:00"
    assert local["date_heure"] == "2025-03-14T10:32:05+01:00"


def test_register_export_csv_has_one_row_per_object_of_a_lot() -> None:
    lot = an_entry(12, a_dvd("LYO-000201", "Amélie"), a_dvd("LYO-000202", "Le Dîner de cons"))
    single = an_entry(13)

    rows = csv_rows(to_csv([lot, single]))

    assert [row["numero"] for row in rows] == ["12", "12", "13"]
    assert [row["etiquette"] for row in rows] == ["LYO-000201", "LYO-000202", "LYO-000123"]
    assert [row["prix_eur"] for row in rows] == ["2,50", "2,50", "129,00"]
    assert rows[0]["vendeur_nom"] == rows[1]["vendeur_nom"] == "Lefèvre"


def test_register_export_csv_shows_corrections_with_the_corrected_number() -> None:
    original = an_entry(12)
    correction = a_correction(original, 14, "Erreur de saisie du nom")

    rows = csv_rows(to_csv([original, correction]))

    assert [row["type"] for row in rows] == ["acquisition", "rectification"]
    assert rows[1]["numero"] == "14"
    assert rows[1]["rectifie_numero"] == "12"
    assert rows[1]["motif_rectification"] == "Erreur de saisie du nom"
    assert rows[1]["vendeur_nom"] == "Lefebvre"
    assert rows[0]["vendeur_nom"] == "Lefèvre", "the original entry is exported unchanged"


def test_register_export_csv_writes_precious_metals_with_weight_and_fineness() -> None:
    entry = an_entry(7, a_gold_ring(), book=RegisterBook.PRECIOUS_METALS)

    (row,) = csv_rows(to_csv([entry]))

    assert row["registre"] == "metaux precieux"
    assert (row["poids_g"], row["titre"], row["prix_eur"]) == ("4,2", "750", "310,00")


def test_register_export_csv_shows_the_company_a_representative_sells_for() -> None:
    seller = a_seller(
        kind=SellerKind.COMPANY,
        quality="gérant",
        company_name="Débarras Rhône SARL",
        company_registered_office="3 quai Perrache, 69002 Lyon",
    )

    (row,) = csv_rows(to_csv([an_entry(12, seller=seller)]))

    assert (row["societe_nom"], row["societe_siege"]) == (
        "Débarras Rhône SARL",
        "3 quai Perrache, 69002 Lyon",
    )
    assert row["vendeur_qualite"] == "gérant"


def test_register_export_csv_escapes_formula_cells() -> None:
    seller = a_seller(surname='=HYPERLINK("http://evil.example","x")', address="@SUM(A1:A9)")
    phone = a_phone(description="+33 6 12 34 56 78", provenance="-2+3", serials=("=1+1",))
    entry = an_entry(12, phone, seller=seller, payment_summary="\t=cmd|' /C calc'!A0")

    (row,) = csv_rows(to_csv([entry]))

    assert row["vendeur_nom"] == '\'=HYPERLINK("http://evil.example","x")'
    assert row["vendeur_adresse"] == "'@SUM(A1:A9)"
    assert row["description"] == "'+33 6 12 34 56 78"
    assert row["provenance"] == "'-2+3"
    assert row["numeros_de_serie"] == "'=1+1"
    assert row["paiement"] == "'\t=cmd|' /C calc'!A0"
    assert row["prix_eur"] == "129,00"
    assert row["vendeur_prenoms"] == "Héloïse Marie", "harmless cells are left alone"


def test_register_export_csv_keeps_line_breaks_inside_one_cell() -> None:
    phone = a_phone(description="Rayure au dos;\nécran fêlé")

    (row,) = csv_rows(to_csv([an_entry(12, phone)]))

    assert row["description"] == "Rayure au dos;\nécran fêlé"


# --------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------


def test_register_export_pdf_is_a_pdf_with_every_entry_number() -> None:
    single = an_entry(4711)
    lot = an_entry(4712, a_dvd("LYO-000201", "Amélie"), a_dvd("LYO-000202", "Le Dîner de cons"))
    gold = an_entry(4713, a_gold_ring(), book=RegisterBook.PRECIOUS_METALS)
    correction = a_correction(single, 4714, "Erreur de saisie du nom")

    pdf = a_pdf([single, lot, gold, correction])
    text = pdf_text(pdf)

    assert pdf.startswith(b"%PDF")
    for number in ("4711", "4712", "4713", "4714"):
        assert number in text
    assert "Registre de police — Lyon Part-Dieu" in text
    assert "Sélection : du 01/03/2025 au 31/03/2025" in text
    assert "Inspecteur Durand (demande n° 2025-117)" in text
    assert "Lot de 2 objets :" in text
    assert "LYO-000201" in text and "LYO-000202" in text
    assert "métaux\nprécieux" in text, "each book has its own numbers"
    assert "Total du lot" in text
    assert "Rectification du n° 4711 — Erreur de saisie du nom" in text
    assert "page 1 / 1" in text


def test_register_export_pdf_handles_accents_and_euro_sign() -> None:
    text = pdf_text(a_pdf([an_entry(4711)]))

    assert "LEFÈVRE Héloïse Marie" in text
    assert "Préfecture du Rhône" in text
    assert "129,00 €" in text
    assert "SEPA 129,00 €" in text


def test_register_export_pdf_prints_times_in_the_store_time_zone() -> None:
    entry = an_entry(4711, recorded_at=datetime(2025, 3, 14, 9, 32, 5, tzinfo=UTC))

    pdf = to_pdf(
        [entry],
        store_label="Lyon Part-Dieu",
        period="n° de série 356938035643809",
        generated_at=datetime(2025, 4, 2, 7, 15, tzinfo=UTC),
        generated_by="c.martin",
        local_tz=PARIS_WINTER,
        compress=False,
    )
    text = pdf_text(pdf)

    assert "Édité le 02/04/2025 à 08:15 (UTC+01:00)" in text
    assert "14/03/2025\n10:32:05" in text


def test_register_export_pdf_reproduces_descriptions_that_look_like_pdf_placeholders() -> None:
    phone = a_phone(description="Gravure « {nb} » au dos")

    text = pdf_text(a_pdf([an_entry(4711, phone)]))

    assert "Gravure « {nb} » au dos" in text


def test_register_export_pdf_without_a_unicode_font_still_prints_in_latin1(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(export, "_find_unicode_font", lambda: None)
    phone = a_phone(description="Œuvre signée “Dupont” — état neuf… 漢字")

    pdf = a_pdf([an_entry(4711, phone)])
    text = pdf_text(pdf)

    assert pdf.startswith(b"%PDF")
    assert "Registre de police - Lyon Part-Dieu" in text
    assert "LEFÈVRE Héloïse Marie" in text
    assert "129,00 EUR" in text
    assert 'OEuvre signée "Dupont" - état neuf... ??' in text


def test_register_export_pdf_numbers_the_pages_of_a_long_export() -> None:
    entries = [an_entry(5000 + index) for index in range(60)]

    pdf = a_pdf(entries)
    text = pdf_text(pdf)
    pages = page_count(pdf)

    assert pages > 1
    assert f"page 1 / {pages}" in text
    assert f"page {pages} / {pages}" in text
    for entry in entries:
        assert str(entry.number) in text
    assert text.count("Vendeur et pièce d'identité") == pages, "headings repeat on every page"


def test_register_export_pdf_wraps_long_descriptions_and_splits_a_huge_lot() -> None:
    long_description = " ".join(["rayure"] * 400)
    dvds = [a_dvd(f"LYO-{index:06d}", "Coffret intégrale") for index in range(1, 41)]
    phone = a_phone(description=long_description, serials=("S" * 150,), price=Money.euros(60))

    pdf = a_pdf([an_entry(4711, *dvds, phone)])
    text = pdf_text(pdf)

    assert page_count(pdf) > 1
    assert "LYO-000040" in text
    assert text.count("4711 (suite)") == page_count(pdf) - 1
    assert text.count("rayure") == 400
    # DejaVu Sans Mono at 8 pt puts about 62 characters in the 109 mm objects column.
    assert all(len(line) <= 63 for line in text.splitlines() if "rayure" in line)
    assert text.replace("\n", "").count("S" * 150) == 1


def test_register_export_of_an_empty_selection_says_so() -> None:
    assert csv_rows(to_csv([])) == []
    assert "Aucune entrée pour cette sélection." in pdf_text(a_pdf([]))
