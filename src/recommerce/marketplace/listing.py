"""When an item may be shown online: the rules a store's staff meet to publish it."""

from __future__ import annotations

from datetime import datetime

from recommerce.inventory.model import Item, ItemStatus

MAX_PHOTOS = 8
MIN_DESCRIPTION = 20  # characters: a customer needs more than a word to buy unseen
MAX_DESCRIPTION = 4000


def publication_problems(item: Item, *, photos: int, description: str, now: datetime) -> list[str]:
    """Why the item cannot be published now, in words for the staff; empty when it can."""
    problems = []
    if item.status is not ItemStatus.IN_STOCK:
        problems.append(f"item {item.label_code} is {item.status.value}, not in stock")
    if item.resale_blocked_until is not None and item.resale_blocked_until > now:
        # Precious metals may not be resold during the seller's withdrawal period (rule A.8).
        problems.append(
            f"item {item.label_code} cannot be sold before "
            f"{item.resale_blocked_until.isoformat(timespec='minutes')} (withdrawal period)"
        )
    if item.asking_price.cents <= 0:
        problems.append(f"item {item.label_code} has no price")
    if photos < 1:
        problems.append("add at least one photo")
    if len(description.strip()) < MIN_DESCRIPTION:
        problems.append(f"describe the item for customers (at least {MIN_DESCRIPTION} characters)")
    return problems
