"""Till sessions: what the drawer and the card terminal should hold at closing, and the
difference with what the cashier counted."""

from __future__ import annotations

from collections.abc import Mapping

from recommerce.pos.tenders import TenderKind

# What a till holds and its cashier counts: not an order paid on the marketplace, handed over.
COUNTED_TENDERS = (TenderKind.CASH, TenderKind.CARD, TenderKind.STORE_CREDIT)


def expected_amounts(
    *, float_cents: int, movements_cents: int, tenders_cents: Mapping[TenderKind, int]
) -> dict[str, int]:
    """Cash expected = the opening float + cash in/out + cash taken (refunds are negative);
    card and credit notes as recorded on the session's tickets."""
    expected = {kind.value: int(tenders_cents.get(kind, 0)) for kind in COUNTED_TENDERS}
    expected[TenderKind.CASH.value] += float_cents + movements_cents
    return expected


def differences(expected: Mapping[str, int], counted: Mapping[str, int]) -> dict[str, int]:
    """Counted minus expected per tender: negative is missing money, positive is a surplus."""
    kinds = sorted(set(expected) | set(counted))
    return {kind: int(counted.get(kind, 0)) - int(expected.get(kind, 0)) for kind in kinds}
