"""Every table of the back office as a file to download: CSV for any tool, XLSX for Excel.

A table is a `Sheet`: typed columns and rows of plain values (amounts in integer cents). The
same sheet is what a page shows and what its export writes, so a download holds the figures
of the screen. A list page offers `?format=csv` or `?format=xlsx` with its own filters.

- CSV: UTF-8 with a byte order mark, fields separated by semicolons, amounts written with a
  decimal comma (`12,50`). French Excel opens a CSV file with the list separator of the
  French locale, the semicolon (the comma being the decimal mark), and reads a file without
  a BOM as Windows-1252, which garbles every accented name; with both, a double-click opens
  the file in columns with its accents.
- XLSX: amounts are numbers in euros, formatted with two decimals and the euro sign, so that
  they add up in a spreadsheet; dates are dates; moments are Paris wall-clock times (Excel
  has no time zones).

Text that a spreadsheet would take for a formula (`=`, `+`, `-`, `@` first) is written as
text: a customer's name or a store's rejected event must never run as a formula (CSV
injection).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from recommerce.central.services.orders import MARKET_ZONE
from recommerce.web.i18n import euros_input

FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
CSV_DELIMITER = ";"  # French Excel's list separator (see the module's docstring)
BOM = "\ufeff"
PARIS = MARKET_ZONE  # the chain's head office reads times in Paris
MAX_EXPORT_ROWS = 100_000  # a list downloads whole up to this; filter it for more
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


class Kind(StrEnum):
    """What a column holds, which says how each format writes it."""

    TEXT = "text"
    INTEGER = "integer"
    MONEY = "money"  # integer cents
    PERCENT = "percent"  # a fraction: 0.25 is 25 %
    DATE = "date"
    MOMENT = "moment"  # an aware datetime


NUMBER_FORMATS: dict[Kind, str] = {
    Kind.INTEGER: "0",
    Kind.MONEY: '#,##0.00 "€"',
    Kind.PERCENT: "0.0%",
    Kind.DATE: "yyyy-mm-dd",
    Kind.MOMENT: "yyyy-mm-dd hh:mm",
}
WIDTHS: dict[Kind, int] = {
    Kind.TEXT: 24,
    Kind.INTEGER: 10,
    Kind.MONEY: 14,
    Kind.PERCENT: 10,
    Kind.DATE: 12,
    Kind.MOMENT: 17,
}


@dataclass(frozen=True, slots=True)
class Column:
    title: str  # already in the reader's language
    kind: Kind = Kind.TEXT


@dataclass(frozen=True, slots=True)
class Sheet:
    """One table: `name` makes the file's name (ASCII), `title` the spreadsheet tab's."""

    name: str
    title: str
    columns: Sequence[Column]
    rows: Sequence[Sequence[Any]]


def wanted_format(request: Request) -> str | None:
    """`csv` or `xlsx` when the page is asked for as a file (`?format=`), else None."""
    asked = request.query_params.get("format")
    return asked if asked in FORMATS else None


def safe_text(value: str) -> str:
    """Text a spreadsheet shows as it is, never as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def moment_in_paris(value: datetime) -> datetime:
    """An aware moment as Paris wall-clock time, without its zone (what Excel can hold)."""
    return value.astimezone(PARIS).replace(tzinfo=None, microsecond=0)


def _csv_value(kind: Kind, value: Any) -> str:
    if value is None:
        return ""
    if kind is Kind.MONEY:
        return euros_input(int(value))
    if kind is Kind.PERCENT:
        return f"{Decimal(str(value)) * 100:.1f}".replace(".", ",")
    if kind is Kind.MOMENT:
        return moment_in_paris(value).isoformat(sep=" ")
    if kind is Kind.DATE:
        return value.isoformat() if isinstance(value, date) else str(value)
    if kind is Kind.INTEGER:
        return str(int(value))
    return safe_text(str(value))


def csv_bytes(sheet: Sheet) -> bytes:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow([safe_text(column.title) for column in sheet.columns])
    for row in sheet.rows:
        writer.writerow(
            [
                _csv_value(column.kind, value)
                for column, value in zip(sheet.columns, row, strict=True)
            ]
        )
    return out.getvalue().encode("utf-8")


def _cell(ws: WriteOnlyWorksheet, kind: Kind, value: Any) -> WriteOnlyCell:
    if value is None:
        return WriteOnlyCell(ws, value=None)
    if kind is Kind.MONEY:
        cell = WriteOnlyCell(ws, value=Decimal(int(value)).scaleb(-2))
    elif kind is Kind.MOMENT:
        cell = WriteOnlyCell(ws, value=moment_in_paris(value))
    elif kind in (Kind.INTEGER, Kind.PERCENT, Kind.DATE):
        cell = WriteOnlyCell(ws, value=value)
    else:
        cell = WriteOnlyCell(ws, value=str(value))
        cell.data_type = "s"  # text, even when it starts with "=": never a formula
        return cell
    cell.number_format = NUMBER_FORMATS[kind]
    return cell


def sheet_title(title: str) -> str:
    """A tab name Excel accepts: at most 31 characters, none of []:*?/\\."""
    return _SHEET_TITLE_FORBIDDEN.sub(" ", title)[:31] or "Sheet"


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    """A workbook with one tab per sheet, its header in bold and frozen."""
    workbook = Workbook(write_only=True)
    used: set[str] = set()
    for sheet in sheets:
        title = sheet_title(sheet.title)
        while title in used:  # two tabs of the same name: Excel refuses the file
            title = sheet_title(f"{title[:28]} {len(used)}")
        used.add(title)
        ws = workbook.create_sheet(title)
        ws.freeze_panes = "A2"
        for n, column in enumerate(sheet.columns, start=1):
            ws.column_dimensions[get_column_letter(n)].width = max(
                WIDTHS[column.kind], min(40, len(column.title) + 2)
            )
        header = []
        for column in sheet.columns:
            cell = WriteOnlyCell(ws, value=column.title)
            cell.data_type = "s"
            cell.font = Font(bold=True)
            header.append(cell)
        ws.append(header)
        for row in sheet.rows:
            ws.append(
                [
                    _cell(ws, column.kind, value)
                    for column, value in zip(sheet.columns, row, strict=True)
                ]
            )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def download(fmt: str, sheets: Sequence[Sheet], name: str) -> Response:
    """The file of one sheet (CSV, or XLSX) or of several (XLSX, one tab each), named
    `<name>.<fmt>`."""
    if fmt == "csv":
        if len(sheets) != 1:
            raise ValueError("a CSV file holds one table")
        content, media_type = csv_bytes(sheets[0]), CSV_TYPE
    else:
        content, media_type = xlsx_bytes(sheets), XLSX_TYPE
    filename = f"{name}.{fmt}"
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def file_name(*parts: object) -> str:
    """A download's name from its parts: ASCII letters, digits and dashes only."""
    text = "-".join(str(part) for part in parts if part not in (None, ""))
    return re.sub(r"[^A-Za-z0-9_.]+", "-", text).strip("-") or "export"
