"""Paying above the argus' buy offer: within bounds set per role, with a reason, logged.

The argus' buy offer is what the counter proposes. A price agreed at or below it is
negotiation. A price above it is an override: the staff member says why, and may go only as
far above the offer as their role allows (a share of the offer, set per store). Every override
is kept with the purchase.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction

from recommerce.buyback.purchase import PurchaseLine
from recommerce.buyback.quote import Quote
from recommerce.catalog.model import Grade
from recommerce.errors import DomainError, ErrorCode
from recommerce.ids import new_id
from recommerce.money import Money
from recommerce.staff.model import Role

# How far above the offer each role may pay, in percent of the offer. A role not named may not
# pay above the offer at all.
DEFAULT_PERCENT_ABOVE_OFFER: Mapping[Role, int] = {
    Role.BUYER: 10,
    Role.MANAGER: 30,
    Role.ADMIN: 30,
}
MAX_REASON_LENGTH = 200


@dataclass(frozen=True, slots=True)
class OverrideBounds:
    """The most each role may pay above the argus' buy offer, in percent of the offer."""

    percent_above_offer: Mapping[Role, int] = field(
        default_factory=lambda: dict(DEFAULT_PERCENT_ABOVE_OFFER)
    )

    def __post_init__(self) -> None:
        for role, percent in self.percent_above_offer.items():
            if percent < 0:
                raise ValueError(f"the bound of role {role.value} is negative: {percent} %")

    def percent(self, role: Role) -> int:
        return self.percent_above_offer.get(role, 0)

    def ceiling(self, offer: Money, role: Role) -> Money:
        """The highest price the role may agree to. Not rounded to the offers' 50-cent step:
        a step would let the bound give or take up to 49 cents that nobody decided."""
        return offer.times(Fraction(100 + self.percent(role), 100))


@dataclass(frozen=True, slots=True)
class OfferOverride:
    """A price agreed above the argus' buy offer, as the store keeps it."""

    purchase_id: str
    label_code: str
    article_id: str
    grade: Grade
    offer: Money
    agreed_price: Money
    method: str  # how the argus priced the offer (the quote's method)
    staff_id: str
    role: Role
    reason: str
    at: datetime
    id: str = field(default_factory=new_id)

    @property
    def above_offer(self) -> Money:
        return self.agreed_price - self.offer


def check_agreed_price(
    line: PurchaseLine,
    quote: Quote,
    *,
    role: Role,
    bounds: OverrideBounds,
    where: str,
    what: str,
) -> str | None:
    """Accept the price agreed for one object, or refuse it saying why.

    Returns None for a price at or below the argus' offer (negotiation), and the reason given
    for a price above it (an override, to be logged). `where` is the line's field path
    ("lines[0]"), `what` names the object in the message.
    """
    offer = quote.buy_offer
    if line.agreed_price <= offer:
        return None
    ceiling = bounds.ceiling(offer, role)
    if line.agreed_price > ceiling:
        raise DomainError(
            f"{what}: {line.agreed_price} is above the argus' offer of {offer} by more than "
            f"the {role.value} role allows ({bounds.percent(role)} % above the offer, at most "
            f"{ceiling})",
            code=ErrorCode.OFFER_OVERRIDE_ABOVE_BOUND,
            field=f"{where}.agreed_price",
            offer_cents=offer.cents,
            ceiling_cents=ceiling.cents,
            percent_above_offer=bounds.percent(role),
            role=role.value,
        )
    reason = (line.override_reason or "").strip()
    if not reason:
        raise DomainError(
            f"{what}: {line.agreed_price} is above the argus' offer of {offer}: say why",
            code=ErrorCode.OFFER_OVERRIDE_REASON_MISSING,
            field=f"{where}.override_reason",
            offer_cents=offer.cents,
        )
    if len(reason) > MAX_REASON_LENGTH:
        raise DomainError(
            f"{what}: the reason has {len(reason)} characters, at most {MAX_REASON_LENGTH}",
            code=ErrorCode.INVALID_INPUT,
            field=f"{where}.override_reason",
        )
    return reason
