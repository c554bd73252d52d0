"""The chain's watchlist of stolen serials and IMEIs, and the IMEI check (business-rules A.7)."""

from __future__ import annotations

from datetime import date

import pytest
from buying_fakes import VALID_IMEI

from recommerce.buyback.watchlist import (
    WatchlistEntry,
    normalise_serial,
    parse_watchlist_csv,
    validate_imei,
)
from recommerce.errors import DomainError, ErrorCode


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("sn 12-ab", "SN12AB"),
        ("SN12AB", "SN12AB"),
        (" c02-xk1/q.z ", "C02XK1QZ"),
        ("", ""),
        ("--", ""),
    ],
)
def test_serials_compare_without_case_spaces_or_punctuation(typed: str, normalised: str) -> None:
    assert normalise_serial(typed) == normalised


@pytest.mark.parametrize("typed", [VALID_IMEI, "49-015420-323751-8", "49 015420 323751 8"])
def test_valid_imei_is_accepted_and_compacted(typed: str) -> None:
    assert validate_imei(typed) == VALID_IMEI


def test_imei_with_a_wrong_check_digit_is_refused() -> None:
    # business-rules A.7: IMEI check digit (Luhn) with python-stdnum.
    with pytest.raises(DomainError) as refused:
        validate_imei("490154203237517", field="lines[0].imei")
    assert refused.value.code is ErrorCode.INVALID_IMEI
    assert refused.value.field == "lines[0].imei"


@pytest.mark.parametrize("typed", ["", "abc", "4901542032", "49015420323751899"])
def test_what_is_not_an_imei_is_refused(typed: str) -> None:
    with pytest.raises(DomainError) as refused:
        validate_imei(typed)
    assert refused.value.code is ErrorCode.INVALID_IMEI


@pytest.mark.parametrize("typed", [VALID_IMEI[:14], VALID_IMEI[:14] + "99"])
def test_imei_without_its_check_digit_is_refused(typed: str) -> None:
    with pytest.raises(DomainError):
        validate_imei(typed)


def parse(text: str) -> list[WatchlistEntry]:
    return parse_watchlist_csv(text, default_source="Gendarmerie de Villeurbanne")


def test_watchlist_csv_with_a_serial_column() -> None:
    entries = parse(
        "serial,reported_on,source,reference\n"
        "sn 12-ab,2025-05-30,Commissariat Lyon 3,PV 2025/118\n"
        "C02XK1QZ,,,\n"
    )
    assert entries == [
        WatchlistEntry("SN12AB", date(2025, 5, 30), "Commissariat Lyon 3", "PV 2025/118"),
        WatchlistEntry("C02XK1QZ", None, "Gendarmerie de Villeurbanne", ""),
    ]


def test_watchlist_csv_with_an_imei_column() -> None:
    entries = parse(f"imei\n49-015420-323751-8\n{VALID_IMEI}\n")
    assert [e.serial for e in entries] == [VALID_IMEI, VALID_IMEI]


def test_watchlist_csv_saved_by_excel_with_a_bom_and_odd_headers() -> None:
    entries = parse("\ufeff Serial , Reported_On \r\nab-1,2025-01-02\r\n")
    assert entries == [WatchlistEntry("AB1", date(2025, 1, 2), "Gendarmerie de Villeurbanne", "")]


def test_watchlist_csv_prefers_the_serial_column_over_the_imei_one() -> None:
    entries = parse(f"serial,imei\nsn1,{VALID_IMEI}\n,{VALID_IMEI}\n")
    assert [e.serial for e in entries] == ["SN1", VALID_IMEI]


def test_watchlist_csv_without_a_serial_or_imei_column_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        parse("numero,date\nAB1,2025-01-01\n")
    assert refused.value.field == "file"


def test_empty_watchlist_csv_is_refused() -> None:
    with pytest.raises(DomainError):
        parse("")


def test_watchlist_csv_with_a_bad_date_names_the_line() -> None:
    with pytest.raises(DomainError) as refused:
        parse("serial,reported_on\nAB1,2025-01-01\nAB2,31/12/2024\n")
    assert refused.value.code is ErrorCode.INVALID_INPUT
    assert refused.value.field == "file:3"
    assert refused.value.message.startswith("line 3:")
    assert "31/12/2024" in refused.value.message


def test_watchlist_csv_row_without_serial_names_the_line() -> None:
    with pytest.raises(DomainError) as refused:
        parse("serial,source\nAB1,x\nAB2,y\n --,z\n")
    assert refused.value.field == "file:4"


def test_watchlist_csv_bad_line_number_counts_blank_lines() -> None:
    with pytest.raises(DomainError) as refused:
        parse("serial,reported_on\nAB1,2025-01-01\n\nAB2,not-a-date\n")
    assert refused.value.field == "file:4"
