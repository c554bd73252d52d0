"""VAT of a till line: on the margin (second-hand goods) or normal, per item (rules C.12-C.14).

Rates are percents held as `Fraction`; amounts are `Money` (integer cents). Each line's VAT is
rounded once, through `Money.times` (and so `round_cents`); totals are sums of rounded lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from recommerce.errors import DomainError, ErrorCode
from recommerce.fiscal import legal
from recommerce.inventory.model import VatRegime
from recommerce.money import Money, total

# The standard French VAT rate, in percent (legal.STANDARD_RATE_ARTICLE).
STANDARD_RATE = Fraction(20)

# Order of the regimes on a ticket's VAT breakdown: declaration order of VatRegime.
_REGIME_ORDER: dict[VatRegime, int] = {regime: i for i, regime in enumerate(VatRegime)}


def _included_share(rate: Fraction) -> Fraction:
    """The share of a VAT-included amount that is VAT: rate / (100 + rate)."""
    if rate < 0:
        raise DomainError(
            f"a VAT rate cannot be negative: {rate}%", code=ErrorCode.INVALID_INPUT, field="rate"
        )
    return Fraction(rate) / (100 + Fraction(rate))


def margin_scheme_vat(
    sale_price: Money, purchase_price: Money, rate: Fraction = STANDARD_RATE
) -> Money:
    """VAT due on one item sold under the margin scheme (rule C.12)."""
    # legal.MARGIN_SCHEME (CGI art. 297 A): VAT = margin x rate / (100 + rate), where
    # margin = sale price - purchase price, both VAT included. Per item: a zero or negative
    # margin gives zero VAT and never offsets the margin of another item.
    if sale_price.cents < 0:
        raise DomainError(
            f"a sale price cannot be negative: {sale_price}",
            code=ErrorCode.INVALID_AMOUNT,
            field="sale_price",
        )
    if purchase_price.cents < 0:
        raise DomainError(
            f"a purchase price cannot be negative: {purchase_price}",
            code=ErrorCode.INVALID_AMOUNT,
            field="purchase_price",
        )
    share = _included_share(rate)
    margin = sale_price - purchase_price
    if margin.cents <= 0:
        return Money.zero()
    return margin.times(share)  # the one rounding


def normal_vat(price_incl_vat: Money, rate: Fraction = STANDARD_RATE) -> Money:
    """VAT included in a price under the normal regime (rule C.13): price x rate / (100 + rate)."""
    return price_incl_vat.times(_included_share(rate))  # the one rounding


@dataclass(frozen=True, slots=True)
class TaxedLine:
    """A till line's price with its VAT, as the fiscal journal records it."""

    regime: VatRegime
    rate: Fraction
    price: Money  # VAT included
    vat: Money

    @property
    def net(self) -> Money:
        """The price without VAT."""
        return self.price - self.vat

    @property
    def vat_shown_to_customer(self) -> bool:
        """Rule C.14: the VAT of a margin-scheme item is never shown on the receipt."""
        return self.regime is not VatRegime.MARGIN


def tax_line(
    regime: VatRegime, price: Money, purchase_price: Money, rate: Fraction = STANDARD_RATE
) -> TaxedLine:
    """Tax one item sold at `price` (VAT included) under its regime from intake (rule C.13)."""
    if regime is VatRegime.MARGIN:
        vat = margin_scheme_vat(price, purchase_price, rate)
    else:
        vat = normal_vat(price, rate)
    return TaxedLine(regime=regime, rate=Fraction(rate), price=price, vat=vat)


def reverse(line: TaxedLine) -> TaxedLine:
    """The exact opposite of a line, for a return counter-ticket (rule D.16).

    Nothing is recomputed, so the return cancels exactly the VAT of the original line.
    """
    return TaxedLine(regime=line.regime, rate=line.rate, price=-line.price, vat=-line.vat)


@dataclass(frozen=True, slots=True)
class VatRow:
    """One row of a ticket's totals per VAT rate (rule D.18)."""

    regime: VatRegime
    rate: Fraction
    total: Money  # VAT included
    vat: Money

    @property
    def net(self) -> Money:
        return self.total - self.vat


def vat_breakdown(lines: Iterable[TaxedLine]) -> list[VatRow]:
    """Totals per (regime, rate), sorted by regime then rate (rule D.18).

    Sums of the lines' already-rounded amounts: nothing is rounded again.
    """
    groups: dict[tuple[VatRegime, Fraction], list[TaxedLine]] = {}
    for line in lines:
        groups.setdefault((line.regime, line.rate), []).append(line)
    keys = sorted(groups, key=lambda key: (_REGIME_ORDER[key[0]], key[1]))
    return [
        VatRow(
            regime=regime,
            rate=rate,
            total=total(line.price for line in groups[regime, rate]),
            vat=total(line.vat for line in groups[regime, rate]),
        )
        for regime, rate in keys
    ]


def receipt_mentions(lines: Iterable[TaxedLine]) -> list[str]:
    """The mandatory texts of a receipt for these lines (rule C.14)."""
    mentions: list[str] = []
    if any(line.regime is VatRegime.MARGIN for line in lines):
        mentions.append(legal.MARGIN_SCHEME_RECEIPT_MENTION)
    return mentions
