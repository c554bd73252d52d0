"""The screens speak French and English, and write euros as France does."""

from __future__ import annotations

import pytest

from recommerce.errors import DomainError, ErrorCode
from recommerce.web import i18n


def test_every_sentence_of_the_screens_has_its_french() -> None:
    assert i18n.missing("fr") == []


def test_the_catalogue_reads_french_by_default() -> None:
    i18n.set_locale("fr")
    assert i18n.gettext("Log in") == "Connexion"
    i18n.set_locale("en")
    assert i18n.gettext("Log in") == "Log in"
    i18n.set_locale("fr")


@pytest.mark.parametrize(
    ("cents", "text"),
    [(0, "0,00\xa0€"), (1250, "12,50\xa0€"), (123456, "1\u202f234,56\xa0€"), (-500, "-5,00\xa0€")],
)
def test_amounts_are_written_as_in_france(cents: int, text: str) -> None:
    assert i18n.money(cents) == text


@pytest.mark.parametrize(
    ("typed", "cents"),
    [("12", 1200), ("12,5", 1250), ("12.50", 1250), ("1 234,56 €", 123456), ("0,01", 1)],
)
def test_amounts_typed_by_staff_are_read_to_the_cent(typed: str, cents: int) -> None:
    assert i18n.parse_euros(typed) == cents


@pytest.mark.parametrize("typed", ["", "abc", "1,2,3", "0,001"])
def test_an_amount_that_is_not_one_is_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        i18n.parse_euros(typed)


def test_a_refusal_is_said_in_french_with_its_english_details_beneath() -> None:
    error = DomainError("seller is 16 years old", code=ErrorCode.SELLER_UNDER_18)
    i18n.set_locale("fr")
    assert i18n.error_text(error) == "Nous ne pouvons pas acheter à un vendeur de moins de 18 ans."
    assert i18n.error_detail(error) == "seller is 16 years old"
    i18n.set_locale("en")
    assert i18n.error_text(error) == "Seller is 16 years old"
    assert i18n.error_detail(error) is None
    i18n.set_locale("fr")


def test_a_moment_is_shown_at_the_readers_clock_not_in_utc() -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    sold = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
    i18n.set_locale("fr")
    token = i18n._zone.set(ZoneInfo("Europe/Paris"))
    try:
        assert i18n.moment(sold) == "20/11/2026 11:30"
    finally:
        i18n._zone.reset(token)
    assert i18n.moment(sold) == "20/11/2026 10:30"  # no reader's zone: the moment's own
