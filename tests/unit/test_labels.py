"""Item labels: an in-store EAN-13 in the restricted-circulation range, printed as SVG or PNG."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from stdnum import ean

from recommerce.catalog.gtin import normalise_gtin
from recommerce.errors import DomainError, ErrorCode
from recommerce.inventory.labels import (
    MAX_SEQUENCE,
    MAX_STORE_NUMBER,
    LabelContent,
    label_code,
    parse_label_code,
    render_png,
    render_svg,
)

store_numbers = st.integers(0, MAX_STORE_NUMBER)
sequences = st.integers(1, MAX_SEQUENCE)


@settings(max_examples=300)
@given(store_numbers, sequences)
def test_label_code_is_a_valid_in_store_ean13_that_round_trips(store: int, sequence: int) -> None:
    code = label_code(store, sequence)
    assert len(code) == 13
    assert code.isdigit()
    assert code.startswith("2")
    assert ean.validate(code) == code
    assert parse_label_code(code) == (store, sequence)


@settings(max_examples=300)
@given(store_numbers, sequences)
def test_label_code_is_never_accepted_as_an_article_gtin(store: int, sequence: int) -> None:
    with pytest.raises(DomainError) as refused:
        normalise_gtin(label_code(store, sequence))
    assert refused.value.code is ErrorCode.INVALID_GTIN


@settings(max_examples=50)
@given(store_numbers, sequences)
def test_changing_any_single_digit_of_a_label_is_caught_by_its_check_digit(
    store: int, sequence: int
) -> None:
    code = label_code(store, sequence)
    for position, digit in enumerate(code):
        for other in "0123456789":
            if other == digit:
                continue
            mistyped = code[:position] + other + code[position + 1 :]
            assert not ean.is_valid(mistyped), mistyped
            with pytest.raises(DomainError):
                parse_label_code(mistyped)


def test_label_code_layout_is_2_store_sequence_check() -> None:
    code = label_code(42, 1234)
    assert code[:12] == "204200001234"
    assert code[12] == ean.calc_check_digit(code[:12])


@pytest.mark.parametrize(("store", "sequence"), [(-1, 1), (1000, 1), (1, 0), (1, MAX_SEQUENCE + 1)])
def test_label_code_refuses_a_store_or_sequence_out_of_range(store: int, sequence: int) -> None:
    with pytest.raises(ValueError):
        label_code(store, sequence)


@pytest.mark.parametrize(
    "scanned",
    [
        "4006381333931",  # a real article's GTIN, not one of our labels
        "2042000012342",  # wrong check digit
        "96385074",  # an EAN-8
        "not a code",
        "",
    ],
)
def test_a_scan_that_is_not_one_of_our_labels_is_refused(scanned: str) -> None:
    with pytest.raises(DomainError) as refused:
        parse_label_code(scanned)
    assert refused.value.field == "label"


def a_label() -> LabelContent:
    return LabelContent(
        code=label_code(42, 1234),
        article_name="Apple iPhone 12, 64 GB",
        grade="B",
        price="349,00 EUR",
        register_number=1187,
        store_number=42,
    )


def test_label_text_shows_article_grade_price_and_register_number() -> None:
    # business-rules A.3: the register order number is printed on the label.
    assert a_label().lines == [
        "Apple iPhone 12, 64 GB",
        "Grade B   349,00 EUR",
        "Registre n° 1187 - magasin 042",
    ]


def test_svg_label_carries_the_register_number_and_the_price() -> None:
    svg = render_svg(a_label())
    assert "Registre n° 1187" in svg
    assert "349,00 EUR" in svg
    assert "Apple iPhone 12, 64 GB" in svg


def test_svg_label_is_well_formed_svg_with_its_texts() -> None:
    root = ET.fromstring(render_svg(a_label()))
    assert root.tag.endswith("svg")
    texts = [t.text for t in root.iter() if t.tag.endswith("text")]
    assert any("1187" in (t or "") for t in texts)
    assert any("349,00 EUR" in (t or "") for t in texts)


def test_png_label_is_a_png_at_printer_resolution() -> None:
    png = render_png(a_label(), dpi=300)
    assert png.startswith(b"\x89PNG")
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.width >= int(60 / 25.4 * 300)  # at least 60 mm wide
