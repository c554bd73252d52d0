"""Article GTIN/EAN check digits (business-rules A.7, python-stdnum)."""

from __future__ import annotations

import pytest
from stdnum import ean

from recommerce.catalog.gtin import normalise_gtin
from recommerce.errors import DomainError, ErrorCode


def test_valid_ean13_is_accepted() -> None:
    assert normalise_gtin("4006381333931") == "4006381333931"


def test_scanned_ean_with_spaces_or_dashes_is_compacted() -> None:
    assert normalise_gtin("400 6381 33393-1") == "4006381333931"


def test_upc_a_is_padded_to_13_digits() -> None:
    assert normalise_gtin("036000291452") == "0036000291452"


def test_ean8_is_padded_to_13_digits() -> None:
    assert normalise_gtin("96385074") == "0000096385074"


def test_gtin14_of_a_trade_unit_is_kept() -> None:
    gtin14 = "1" + "400638133393"
    gtin14 += ean.calc_check_digit(gtin14)
    assert normalise_gtin(gtin14) == gtin14


def test_same_article_scanned_as_gtin13_or_gtin14_normalises_the_same() -> None:
    assert normalise_gtin("04006381333931") == normalise_gtin("4006381333931")


def test_wrong_check_digit_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        normalise_gtin("4006381333932")
    assert refused.value.code is ErrorCode.INVALID_GTIN
    assert refused.value.field == "gtin"


def test_refusal_names_the_field_it_was_given() -> None:
    with pytest.raises(DomainError) as refused:
        normalise_gtin("4006381333932", field="lines[2].gtin")
    assert refused.value.field == "lines[2].gtin"


@pytest.mark.parametrize("value", ["", "abc", "400638133393", "40063813339311", "123456789"])
def test_what_is_not_a_gtin_is_refused(value: str) -> None:
    with pytest.raises(DomainError) as refused:
        normalise_gtin(value)
    assert refused.value.code is ErrorCode.INVALID_GTIN


@pytest.mark.parametrize("prefix", [str(p) for p in range(20, 30)])
def test_restricted_circulation_codes_are_not_article_gtins(prefix: str) -> None:
    body = prefix + "1234567890"
    with pytest.raises(DomainError) as refused:
        normalise_gtin(body + ean.calc_check_digit(body))
    assert refused.value.code is ErrorCode.INVALID_GTIN
    assert "in-store" in refused.value.message


def test_restricted_circulation_code_wrapped_in_a_gtin14_is_refused_too() -> None:
    body = "0" + "21" + "1234567890"
    with pytest.raises(DomainError):
        normalise_gtin(body + ean.calc_check_digit(body))
