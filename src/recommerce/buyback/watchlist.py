"""The chain's watchlist of serial numbers and IMEIs reported stolen (business-rules A.7)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from stdnum import imei as stdnum_imei
from stdnum.exceptions import ValidationError

from recommerce.errors import DomainError, ErrorCode


def normalise_serial(value: str) -> str:
    """Serials compare without case, spaces or dashes: "sn 12-ab" == "SN12AB"."""
    return "".join(ch for ch in value.upper() if ch.isalnum())


def validate_imei(value: str, *, field: str = "imei") -> str:
    """A 15-digit IMEI with a correct Luhn check digit (business-rules A.7)."""
    try:
        digits = stdnum_imei.validate(value)
        if len(digits) != 15:  # 14 digits carry no check digit; 16 is an IMEISV
            raise ValidationError("an IMEI has 15 digits, the last being the Luhn check digit")
        return digits
    except ValidationError as exc:
        raise DomainError(
            f"{value!r} is not a valid IMEI: {exc}",
            code=ErrorCode.INVALID_IMEI,
            field=field,
        ) from exc


@dataclass(frozen=True, slots=True)
class WatchlistEntry:
    serial: str  # normalised
    reported_on: date | None
    source: str  # who reported it: police station, insurer, another store
    reference: str  # their case number


def parse_watchlist_csv(text: str, *, default_source: str) -> list[WatchlistEntry]:
    """Read a CSV with a `serial` (or `imei`) column and optional `reported_on`, `source`,
    `reference` columns; the whole file is refused on the first bad row, with its line."""
    if "\x00" in text:
        raise DomainError(
            "the file is not a CSV text (it contains NUL characters)",
            code=ErrorCode.INVALID_INPUT,
            field="file",
        )
    try:
        return _parse(text, default_source)
    except csv.Error as exc:
        raise DomainError(
            f"the file is not a readable CSV: {exc}", code=ErrorCode.INVALID_INPUT, field="file"
        ) from exc


def _parse(text: str, default_source: str) -> list[WatchlistEntry]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    columns = {c.strip().lower() for c in (reader.fieldnames or [])}
    if not columns & {"serial", "imei"}:
        raise DomainError(
            "the CSV needs a 'serial' or 'imei' column", code=ErrorCode.INVALID_INPUT, field="file"
        )
    entries: list[WatchlistEntry] = []
    for raw in reader:
        line = reader.line_num
        row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        serial = normalise_serial(row.get("serial") or row.get("imei") or "")
        if not serial:
            raise DomainError(
                f"line {line}: no serial", code=ErrorCode.INVALID_INPUT, field=f"file:{line}"
            )
        reported = row.get("reported_on") or ""
        try:
            reported_on = date.fromisoformat(reported) if reported else None
        except ValueError as exc:
            raise DomainError(
                f"line {line}: reported_on {reported!r} is not a date (YYYY-MM-DD)",
                code=ErrorCode.INVALID_INPUT,
                field=f"file:{line}",
            ) from exc
        entries.append(
            WatchlistEntry(
                serial=serial,
                reported_on=reported_on,
                source=row.get("source") or default_source,
                reference=row.get("reference") or "",
            )
        )
    return entries
