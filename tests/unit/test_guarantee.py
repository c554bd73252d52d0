"""The legal guarantee of a used item (business-rules E.21, Code de la consommation L217-3,
L217-7)."""

from __future__ import annotations

from datetime import date

from recommerce.pos.guarantee import guarantee_of


def test_used_goods_are_guaranteed_two_years_from_delivery():
    g = guarantee_of("2042000000015", "042-T1-000001", date(2026, 11, 20))
    assert g.ends_on == date(2028, 11, 20)
    assert g.status_on(date(2028, 11, 20)).startswith("covered")
    assert g.status_on(date(2028, 11, 21)) == "expired"


def test_a_defect_within_12_months_is_presumed_to_have_existed_at_delivery():
    g = guarantee_of("2042000000015", "042-T1-000001", date(2026, 11, 20))
    assert g.presumption_ends_on == date(2027, 11, 20)
    assert "presumed" in g.status_on(date(2027, 11, 20))
    assert "customer proves" in g.status_on(date(2027, 11, 21))


def test_an_item_sold_on_29_february_is_covered_until_28_february():
    g = guarantee_of("2042000000015", "042-T1-000001", date(2028, 2, 29))
    assert g.presumption_ends_on == date(2029, 2, 28)
    assert g.ends_on == date(2030, 2, 28)
