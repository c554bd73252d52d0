"""The back office's downloads: CSV that French Excel opens in columns with its accents, XLSX
whose amounts are euro numbers, and text that never runs as a formula."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from openpyxl import load_workbook

from recommerce.central.web.backoffice.exports import (
    Column,
    Kind,
    Sheet,
    csv_bytes,
    download,
    file_name,
    sheet_title,
    xlsx_bytes,
)
from recommerce.web.i18n import parse_euros

SALES = Sheet(
    name="stores",
    title="Ventes par magasin",
    columns=[
        Column("Magasin"),
        Column("Jour", Kind.DATE),
        Column("Articles vendus", Kind.INTEGER),
        Column("Chiffre d'affaires", Kind.MONEY),
        Column("Taux de marge", Kind.PERCENT),
        Column("Dernier contact", Kind.MOMENT),
    ],
    rows=[
        [
            "042 Lyon Part-Dieu",
            date(2026, 11, 20),
            3,
            123456,
            0.514,
            datetime(2026, 11, 20, 10, 30, tzinfo=UTC),
        ],
        ['=HYPERLINK("http://evil")', date(2026, 11, 21), 0, 5, None, None],
    ],
)


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode()), "French Excel needs the BOM to read UTF-8"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def test_a_csv_is_semicolon_separated_utf8_with_decimal_commas() -> None:
    header, first, second = read_csv(csv_bytes(SALES))
    assert header[0] == "Magasin" and header[3] == "Chiffre d'affaires"
    assert first == [
        "042 Lyon Part-Dieu",
        "2026-11-20",
        "3",
        "1234,56",
        "51,4",
        "2026-11-20 11:30:00",
    ]
    assert parse_euros(first[3]) == 123456
    assert second[3] == "0,05" and second[4] == "" and second[5] == ""


def test_text_that_looks_like_a_formula_is_written_as_text() -> None:
    _, _, second = read_csv(csv_bytes(SALES))
    assert second[0] == '\'=HYPERLINK("http://evil")'
    sheet = load_workbook(io.BytesIO(xlsx_bytes([SALES]))).active
    assert sheet is not None
    cell = sheet["A3"]
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://evil")'


def test_xlsx_amounts_are_euro_numbers_with_two_decimals() -> None:
    workbook = load_workbook(io.BytesIO(xlsx_bytes([SALES])))
    sheet = workbook["Ventes par magasin"]
    assert [c.value for c in sheet[1]][:4] == [
        "Magasin",
        "Jour",
        "Articles vendus",
        "Chiffre d'affaires",
    ]
    assert sheet.freeze_panes == "A2"
    amount = sheet["D2"]
    assert amount.value == 1234.56 and amount.number_format == '#,##0.00 "€"'
    assert round(sheet["D3"].value * 100) == 5
    assert sheet["B2"].value == datetime(2026, 11, 20)  # a date, as Excel keeps them
    assert sheet["C2"].value == 3
    assert sheet["E2"].value == 0.514 and sheet["E2"].number_format == "0.0%"
    assert sheet["F2"].value == datetime(2026, 11, 20, 11, 30)  # Paris wall-clock time


def test_a_workbook_holds_one_tab_per_table_with_names_excel_accepts() -> None:
    other = Sheet("b", "Ventes par magasin", SALES.columns, [])
    odd = Sheet("c", "Stock: [tous]/magasins? et catégories*", SALES.columns, [])
    workbook = load_workbook(io.BytesIO(xlsx_bytes([SALES, other, odd])))
    assert len(workbook.sheetnames) == 3
    assert len(set(workbook.sheetnames)) == 3
    assert all(len(name) <= 31 and not set(name) & set("[]:*?/\\") for name in workbook.sheetnames)
    assert sheet_title("") == "Sheet"


def test_a_download_is_an_attachment_with_its_name() -> None:
    response = download("csv", [SALES], file_name("dashboard", "stores", "2026-11-01", None, "é/x"))
    assert response.headers["content-disposition"] == (
        'attachment; filename="dashboard-stores-2026-11-01-x.csv"'
    )
    assert response.headers["content-type"].startswith("text/csv")
    xlsx = download("xlsx", [SALES, SALES], "dashboard")
    assert xlsx.headers["content-type"].endswith("spreadsheetml.sheet")
