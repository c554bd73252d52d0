"""The buying counter's handler: one purchase, its register entries, its items and its event,
written in one unit of work that commits at the end or not at all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from recommerce.buyback.offer import OfferOverride, OverrideBounds, check_agreed_price
from recommerce.buyback.payment import check_payment
from recommerce.buyback.ports import BuyingUnitOfWork, IdentityKeys
from recommerce.buyback.purchase import Purchase, PurchaseLine, RecordPurchase
from recommerce.buyback.quote import ArgusPort, Quote
from recommerce.buyback.seller import check_seller_may_sell
from recommerce.buyback.watchlist import WatchlistEntry, normalise_serial, validate_imei
from recommerce.catalog.model import Article, Category
from recommerce.clock import Clock
from recommerce.errors import DomainError, ErrorCode
from recommerce.ids import new_id
from recommerce.inventory.labels import label_code
from recommerce.inventory.model import Item
from recommerce.money import Money, total
from recommerce.registers.police import (
    EntryKind,
    RegisterBook,
    RegisteredObject,
    RegisterEntry,
    group_into_entries,
)
from recommerce.sync.events import PURCHASE_RECORDED, Event


@dataclass(frozen=True, slots=True)
class BuyingPolicy:
    store_number: int
    # Cash paid to the same seller within this window counts toward one cap (rule B.9).
    cash_split_window: timedelta = timedelta(hours=24)
    # The precious-metals seller may withdraw within this time; no resale meanwhile (rule A.8, ?).
    precious_metal_hold: timedelta = timedelta(hours=48)
    provenance: str = "achat à un particulier"
    # The store's legal day: an identity document or an 18th birthday counts in local time.
    zone: tzinfo = UTC
    # How far above the argus' buy offer each role may pay, with a reason (buyback.offer).
    override_bounds: OverrideBounds = field(default_factory=OverrideBounds)


class SerialOnWatchlist(DomainError):
    code = ErrorCode.SERIAL_ON_WATCHLIST

    def __init__(self, matches: list[WatchlistEntry]) -> None:
        serials = ", ".join(m.serial for m in matches)
        super().__init__(
            f"serial {serials} is on the chain's watchlist of stolen goods: the purchase is "
            "refused and the manager has been alerted",
            field="lines",
            serials=[m.serial for m in matches],
        )
        self.matches = matches


@dataclass(frozen=True, slots=True)
class _CheckedLine:
    line: PurchaseLine
    article: Article
    category: Category
    serials: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _PricedLine:
    checked: _CheckedLine
    quote: Quote
    override_reason: str | None  # set when the agreed price is above the argus' offer


def _check_line(index: int, line: PurchaseLine, uow: BuyingUnitOfWork) -> _CheckedLine:
    where = f"lines[{index}]"
    article = uow.catalog.article(line.article_id)
    if article is None:
        raise DomainError(
            f"no article {line.article_id!r} in the catalogue",
            code=ErrorCode.ARTICLE_NOT_FOUND,
            field=f"{where}.article_id",
        )
    category = uow.catalog.category(article.category_code)
    if category is None:  # the catalogue guarantees it; a broken row must not slip through
        raise DomainError(
            f"article {article.id} has no category", code=ErrorCode.ARTICLE_NOT_FOUND, field=where
        )
    if line.agreed_price <= Money.zero():
        raise DomainError(
            "the agreed price must be positive",
            code=ErrorCode.INVALID_AMOUNT,
            field=f"{where}.agreed_price",
        )
    serials: list[str] = []
    if line.imei:
        serials.append(validate_imei(line.imei, field=f"{where}.imei"))
    if line.serial_number:
        serial = normalise_serial(line.serial_number)
        if not serial:
            raise DomainError(
                "the serial number is empty",
                code=ErrorCode.INVALID_INPUT,
                field=f"{where}.serial_number",
            )
        serials.append(serial)
    if category.precious_metal and (not line.weight_grams or not line.fineness):
        # R321-6-1 / business-rules A.8: the precious-metals register needs weight and fineness.
        raise DomainError(
            "precious metals need their weight and fineness",
            code=ErrorCode.PRECIOUS_METAL_FACTS_MISSING,
            field=f"{where}.weight_grams" if not line.weight_grams else f"{where}.fineness",
        )
    return _CheckedLine(line, article, category, tuple(serials))


def _described(checked: _CheckedLine) -> str:
    parts = [checked.line.description.strip()]
    if checked.line.imei:
        parts.append(f"IMEI {checked.serials[0]}")
    if checked.line.serial_number:
        parts.append(f"S/N {checked.serials[-1]}")
    if checked.line.accessories:
        parts.append("accessoires : " + ", ".join(checked.line.accessories))
    return " ; ".join(p for p in parts if p)


def record_purchase(
    cmd: RecordPurchase,
    uow_factory: Callable[[], BuyingUnitOfWork],
    *,
    argus: ArgusPort,
    clock: Clock,
    keys: IdentityKeys,
    policy: BuyingPolicy,
) -> Purchase:
    """Buy objects from a member of the public (business-rules A.1-A.8, B.9-B.10).

    Either everything is written — purchase, register entries, items with labels, offer
    overrides, outbox event — or nothing is: a failed register write fails the purchase (rule
    A.1). A serial on the watchlist refuses the purchase and leaves an alert for the manager
    (rule A.7). A price above the argus' offer needs a reason and stays within the staff
    member's role's bound (buyback.offer).
    """
    try:
        return _record(cmd, uow_factory(), argus=argus, clock=clock, keys=keys, policy=policy)
    except SerialOnWatchlist as exc:
        with uow_factory() as uow:
            uow.watchlist.record_alert(
                at=clock.now(),
                staff_id=cmd.staff_id,
                seller_name=cmd.seller.display_name,
                matches=exc.matches,
            )
            uow.commit()
        raise


def _record(
    cmd: RecordPurchase,
    uow: BuyingUnitOfWork,
    *,
    argus: ArgusPort,
    clock: Clock,
    keys: IdentityKeys,
    policy: BuyingPolicy,
) -> Purchase:
    now = clock.now()
    if not cmd.lines:
        raise DomainError("a purchase needs at least one object", field="lines")
    check_seller_may_sell(cmd.seller, now.astimezone(policy.zone).date())
    with uow:
        checked = [_check_line(i, line, uow) for i, line in enumerate(cmd.lines)]
        hits = uow.watchlist.matches(s for c in checked for s in c.serials)
        if hits:
            raise SerialOnWatchlist(hits)
        priced = [_price(i, c, argus, cmd, now=now, policy=policy) for i, c in enumerate(checked)]
        amount = total(c.line.agreed_price for c in checked)
        precious = any(c.category.precious_metal for c in checked)
        seller_key = keys.seller_key(cmd.seller.document)
        check_payment(
            cmd.payment,
            amount=amount,
            seller=cmd.seller,
            precious_metal=precious,
            cash_already_paid_to_seller=uow.purchases.cash_paid_to_seller_since(
                seller_key, now - policy.cash_split_window
            ),
        )
        purchase_id = new_id()
        items: list[Item] = []
        overrides: list[OfferOverride] = []
        objects: dict[str, tuple[RegisterBook, RegisteredObject]] = {}
        for p in priced:
            c = p.checked
            code = label_code(policy.store_number, uow.items.next_label_sequence())
            asking = c.line.asking_price or p.quote.resale_price
            book, registered, item = _intake(
                c,
                code,
                asking,
                purchase_id=purchase_id,
                staff_id=cmd.staff_id,
                now=now,
                policy=policy,
            )
            objects[code] = (book, registered)
            items.append(item)
            if p.override_reason is not None:
                overrides.append(
                    OfferOverride(
                        purchase_id=purchase_id,
                        label_code=code,
                        article_id=c.article.id,
                        grade=c.line.grade,
                        offer=p.quote.buy_offer,
                        agreed_price=c.line.agreed_price,
                        method=p.quote.method,
                        staff_id=cmd.staff_id,
                        role=cmd.staff_role,
                        reason=p.override_reason,
                        at=now,
                    )
                )
        entries = _number_entries(cmd, uow, objects, purchase_id=purchase_id, now=now)
        number_of = {o.label_code: e.number for e in entries for o in e.objects}
        purchase = Purchase(
            id=purchase_id,
            store_number=policy.store_number,
            occurred_at=now,
            seller=cmd.seller,
            seller_key=seller_key,
            payment=cmd.payment,
            total=amount,
            staff_id=cmd.staff_id,
            item_ids=tuple(i.id for i in items),
            register_numbers=tuple((e.book.value, e.number) for e in entries),
        )
        uow.purchases.add(purchase)
        for entry in entries:
            uow.register.append(entry)
        for item in items:
            item.register_number = number_of[item.label_code]
            uow.items.add(item)
        for override in overrides:
            uow.offer_overrides.add(override)
        uow.outbox.add(_purchase_recorded(purchase, items, entries, overrides))
        uow.commit()
    return purchase


def _price(
    index: int,
    c: _CheckedLine,
    argus: ArgusPort,
    cmd: RecordPurchase,
    *,
    now: datetime,
    policy: BuyingPolicy,
) -> _PricedLine:
    """The argus' quote for one object (asked once: it gives the offer and the asking price),
    and the agreed price checked against the offer."""
    quote = argus.quote(c.article, c.line.grade, on=now.date())
    reason = check_agreed_price(
        c.line,
        quote,
        role=cmd.staff_role,
        bounds=policy.override_bounds,
        where=f"lines[{index}]",
        what=f"line {index + 1} ({c.article.name}, grade {c.line.grade.value})",
    )
    return _PricedLine(c, quote, reason)


def _intake(
    c: _CheckedLine,
    code: str,
    asking: Money,
    *,
    purchase_id: str,
    staff_id: str,
    now: datetime,
    policy: BuyingPolicy,
) -> tuple[RegisterBook, RegisteredObject, Item]:
    """One object as the register describes it, and as the stock holds it."""
    precious = c.category.precious_metal
    book = RegisterBook.PRECIOUS_METALS if precious else RegisterBook.GENERAL
    characteristics = f"{c.article.brand} {c.article.model}, grade {c.line.grade.value}"
    if precious:
        characteristics += f", {c.line.weight_grams} g, titre {c.line.fineness}/1000"
    registered = RegisteredObject(
        label_code=code,
        nature=c.category.name,
        characteristics=characteristics,
        description=_described(c),
        provenance=policy.provenance,
        price=c.line.agreed_price,
        serials=c.serials,
        weight_grams=c.line.weight_grams,
        fineness=c.line.fineness,
    )
    item = Item(
        id=new_id(),
        label_code=code,
        store_number=policy.store_number,
        article_id=c.article.id,
        grade=c.line.grade,
        purchase_id=purchase_id,
        purchase_price=c.line.agreed_price,
        asking_price=asking,
        vat_regime=c.line.vat_regime,
        register_number=0,  # set once the entry is numbered
        register_book=book.value,
        created_at=now,
        created_by=staff_id,
        serials=c.serials,
        accessories=c.line.accessories,
        description=c.line.description,
        resale_blocked_until=now + policy.precious_metal_hold if precious else None,
        weight_grams=c.line.weight_grams,
        fineness=c.line.fineness,
    )
    return book, registered, item


def _number_entries(
    cmd: RecordPurchase,
    uow: BuyingUnitOfWork,
    objects: dict[str, tuple[RegisterBook, RegisteredObject]],
    *,
    purchase_id: str,
    now: datetime,
) -> list[RegisterEntry]:
    entries: list[RegisterEntry] = []
    for book in RegisterBook:
        in_book = [o for b, o in objects.values() if b is book]
        for group in group_into_entries(in_book, book=book, allow_lots=cmd.group_lots):
            entry = RegisterEntry(
                book=book,
                number=uow.register.next_number(book),
                recorded_at=now,
                kind=EntryKind.ACQUISITION,
                seller=cmd.seller,
                objects=tuple(group),
                payment_method=cmd.payment.method.value,
                payment_summary=cmd.payment.summary(),
                recorded_by=cmd.staff_id,
                purchase_id=purchase_id,
            )
            entries.append(entry)
    return entries


def _purchase_recorded(
    purchase: Purchase,
    items: list[Item],
    entries: list[RegisterEntry],
    overrides: list[OfferOverride],
) -> Event:
    # The seller's identity document stays in the store's register (GDPR minimisation, rule F.24).
    return Event(
        type=PURCHASE_RECORDED,
        occurred_at=purchase.occurred_at,
        payload={
            "purchase_id": purchase.id,
            "store_number": purchase.store_number,
            "staff_id": purchase.staff_id,
            "payment_method": purchase.payment.method.value,
            "total_cents": purchase.total.cents,
            "seller_key": purchase.seller_key,
            "register_entries": [
                {
                    "book": e.book.value,
                    "number": e.number,
                    "labels": [o.label_code for o in e.objects],
                }
                for e in entries
            ],
            "items": [
                {
                    "item_id": i.id,
                    "label_code": i.label_code,
                    "article_id": i.article_id,
                    "grade": i.grade.value,
                    "purchase_price_cents": i.purchase_price.cents,
                    "asking_price_cents": i.asking_price.cents,
                    "vat_regime": i.vat_regime.value,
                    "register_number": i.register_number,
                    "resale_blocked_until": i.resale_blocked_until.isoformat()
                    if i.resale_blocked_until
                    else None,
                }
                for i in items
            ],
            # Prices agreed above the argus' offer. Central reads what it knows and ignores
            # the rest, so this list may be added within schema version 1.
            "offer_overrides": [
                {
                    "label_code": o.label_code,
                    "offer_cents": o.offer.cents,
                    "agreed_price_cents": o.agreed_price.cents,
                    "method": o.method,
                    "staff_id": o.staff_id,
                    "role": o.role.value,
                    "reason": o.reason,
                }
                for o in overrides
            ],
        },
    )
