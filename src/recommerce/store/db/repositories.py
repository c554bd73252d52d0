"""Repositories on one open connection; they never commit (the unit of work does)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, bindparam, func, insert, or_, select, update

from recommerce.buyback.offer import OfferOverride
from recommerce.buyback.payment import PaymentMethod
from recommerce.buyback.purchase import Purchase
from recommerce.buyback.watchlist import WatchlistEntry, normalise_serial
from recommerce.catalog.model import Article, Category, Grade
from recommerce.catalog.search import fold as fold  # searches fold text the same everywhere
from recommerce.catalog.search import search_text as search_text
from recommerce.db.upsert import insert_missing
from recommerce.errors import Conflict, DomainError, ErrorCode
from recommerce.ids import new_id
from recommerce.inventory.model import Item, ItemStatus, VatRegime
from recommerce.money import Money
from recommerce.registers.police import EntryKind, RegisterBook, RegisterEntry
from recommerce.store.db import tables as t
from recommerce.store.db.identity import IdentityVault
from recommerce.store.db.serialise import (
    object_from_json,
    object_to_json,
    seller_from_json,
    seller_to_json,
)
from recommerce.sync.events import Event

# Counters created by the first migration; each is a gapless per-store sequence.
LABEL_COUNTER = "label"
OUTBOX_COUNTER = "outbox"
# Flag in `Connection.info`: this transaction wrote an outbox row (the sync worker wakes on its
# commit, see recommerce.store.sync.wakeup).
OUTBOX_WRITTEN = "recommerce_outbox_written"


def register_counter(book: RegisterBook) -> str:
    return f"register:{book.value}"


def ensure_counter(conn: Connection, name: str) -> None:
    """Create a counter at 0 if it does not exist yet (e.g. the first ticket of a new till)."""
    insert_missing(conn, t.counters, [{"name": name, "value": 0}])


_INCREMENT = (
    update(t.counters)
    .where(t.counters.c.name == bindparam("counter"))
    .values(value=t.counters.c.value + 1)
    .returning(t.counters.c.value)
)


def next_value(conn: Connection, name: str, *, create: bool = False) -> int:
    """Take the next number of a gapless counter. The row stays locked until commit, so
    concurrent transactions number in commit order and a rollback returns the number.
    `create` starts a missing counter at 1 (e.g. the first ticket of a new till)."""
    value = conn.execute(_INCREMENT, {"counter": name}).scalar_one_or_none()
    if value is None and create:
        ensure_counter(conn, name)
        value = conn.execute(_INCREMENT, {"counter": name}).scalar_one_or_none()
    if value is None:
        raise RuntimeError(f"counter {name!r} is missing: run `recommerce store init`")
    return int(value)


# Statements of the hot paths (the till) are built once: SQLAlchemy then only binds values.
_ARTICLE = select(t.articles).where(t.articles.c.id == bindparam("article_id"))
_LOCK_ITEMS = (
    select(t.items, t.articles.c.name.label("article_name"))
    .join(t.articles, t.articles.c.id == t.items.c.article_id)
    .where(t.items.c.label_code.in_(bindparam("labels", expanding=True)))
    .order_by(t.items.c.label_code)
    .with_for_update(of=t.items)
)
_SAVE_STATUS = (
    update(t.items)
    .where(t.items.c.id == bindparam("item_id"), t.items.c.status == bindparam("previous"))
    .values(
        status=bindparam("status"),
        reserved_for=bindparam("reserved_for"),
        sold_on=bindparam("sold_on"),
        updated_at=bindparam("at"),
        updated_by=bindparam("by"),
    )
)


# A basket's items are found by key, their status only checked: `status || ''` keeps SQLite's
# planner (a store database has no statistics) from scanning every item of that status through
# the status index instead, which costs more with each item in stock.
def _status_is(status: ItemStatus) -> ColumnElement[bool]:
    return t.items.c.status.concat("") == status.value


_MARK_ORDER_SOLD = (
    update(t.items)
    .where(
        t.items.c.id.in_(bindparam("ids", expanding=True)),
        _status_is(ItemStatus.RESERVED),
        t.items.c.reserved_for == bindparam("order"),
    )
    .values(
        status=ItemStatus.SOLD.value,
        reserved_for=None,
        sold_on=bindparam("ticket"),
        updated_at=bindparam("at"),
        updated_by=bindparam("by"),
    )
)
_MARK_SOLD = (
    update(t.items)
    .where(
        t.items.c.id.in_(bindparam("ids", expanding=True)),
        _status_is(ItemStatus.IN_STOCK),
    )
    .values(
        status=ItemStatus.SOLD.value,
        sold_on=bindparam("ticket"),
        updated_at=bindparam("at"),
        updated_by=bindparam("by"),
    )
)
_INSERT_OUTBOX = insert(t.outbox)
# Where an item in transit is going: the latest transfer this store sent it on.
_TRANSFER_OF = (
    select(t.transfers.c.number, t.transfers.c.to_store)
    .join(t.transfer_items, t.transfer_items.c.transfer_id == t.transfers.c.id)
    .where(
        t.transfer_items.c.item_id == bindparam("item_id"), t.transfers.c.direction == "outgoing"
    )
    .order_by(t.transfers.c.sent_at.desc())
    .limit(1)
)


@dataclass
class SqlCatalog:
    conn: Connection

    def article(self, article_id: str) -> Article | None:
        row = self.conn.execute(_ARTICLE, {"article_id": article_id}).first()
        return article_from_row(row._mapping) if row else None

    def category(self, code: str) -> Category | None:
        row = self.conn.execute(select(t.categories).where(t.categories.c.code == code)).first()
        if row is None:
            return None
        definitions = self.conn.execute(
            select(t.grade_definitions).where(t.grade_definitions.c.category_code == code)
        ).all()
        return Category(
            code=row.code,
            name=row.name,
            precious_metal=row.precious_metal,
            grade_definitions={Grade(d.grade): d.definition for d in definitions},
        )


def article_from_row(row: Any) -> Article:
    return Article(
        id=row["id"],
        category_code=row["category_code"],
        brand=row["brand"],
        model=row["model"],
        name=row["name"],
        gtin=row["gtin"],
        reference_new_price=Money(row["reference_new_price_cents"]),
        released_on=row["released_on"],
        attributes=dict(row["attributes"] or {}),
    )


@dataclass
class SqlPurchases:
    conn: Connection
    vault: IdentityVault

    def add(self, purchase: Purchase) -> None:
        payment = purchase.payment
        self.conn.execute(
            insert(t.purchases).values(
                id=purchase.id,
                store_number=purchase.store_number,
                occurred_at=purchase.occurred_at,
                seller_key=purchase.seller_key,
                seller_name=purchase.seller.display_name,
                payment_method=payment.method.value,
                payment={
                    "account_holder": payment.account_holder,
                    "iban_encrypted": self.vault.encrypt(payment.iban) if payment.iban else None,
                    "crossed": payment.crossed,
                },
                total_cents=purchase.total.cents,
                created_by=purchase.staff_id,
            )
        )

    def cash_paid_to_seller_since(self, seller_key: str, since: datetime) -> Money:
        paid = self.conn.execute(
            select(func.coalesce(func.sum(t.purchases.c.total_cents), 0)).where(
                t.purchases.c.seller_key == seller_key,
                t.purchases.c.payment_method == PaymentMethod.CASH.value,
                t.purchases.c.occurred_at >= since,
            )
        ).scalar_one()
        return Money(int(paid))


@dataclass
class SqlOfferOverrides:
    """Prices agreed above the argus' offer, appended with their purchase; never changed."""

    conn: Connection

    def add(self, override: OfferOverride) -> None:
        self.conn.execute(
            insert(t.offer_overrides).values(
                id=override.id,
                at=override.at,
                purchase_id=override.purchase_id,
                label_code=override.label_code,
                article_id=override.article_id,
                grade=override.grade.value,
                offer_cents=override.offer.cents,
                agreed_price_cents=override.agreed_price.cents,
                method=override.method,
                staff_id=override.staff_id,
                role=override.role.value,
                reason=override.reason,
            )
        )


@dataclass
class SqlPoliceRegister:
    """Append and read only: there is deliberately no update or delete here."""

    conn: Connection
    vault: IdentityVault

    def next_number(self, book: RegisterBook) -> int:
        return next_value(self.conn, register_counter(book))

    def append(self, entry: RegisterEntry) -> None:
        self.conn.execute(
            insert(t.police_register).values(
                book=entry.book.value,
                number=entry.number,
                recorded_at=entry.recorded_at,
                kind=entry.kind.value,
                corrects=entry.corrects,
                reason=entry.reason,
                purchase_id=entry.purchase_id,
                seller=seller_to_json(entry.seller, self.vault),
                seller_name=fold(entry.seller.display_name),
                objects=[object_to_json(o) for o in entry.objects],
                serials=" " + " ".join(entry.serials) + " ",
                total_cents=entry.total_price.cents,
                payment_method=entry.payment_method,
                payment_summary=entry.payment_summary,
                recorded_by=entry.recorded_by,
            )
        )

    def get(self, book: RegisterBook, number: int) -> RegisterEntry | None:
        row = self.conn.execute(
            select(t.police_register).where(
                t.police_register.c.book == book.value, t.police_register.c.number == number
            )
        ).first()
        return self._entry(row._mapping) if row else None

    def search(
        self,
        *,
        book: RegisterBook | None = None,
        recorded_from: datetime | None = None,
        recorded_before: datetime | None = None,
        serial: str | None = None,
        seller: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[RegisterEntry]:
        reg = t.police_register
        conditions = []
        if book is not None:
            conditions.append(reg.c.book == book.value)
        if recorded_from is not None:
            conditions.append(reg.c.recorded_at >= recorded_from)
        if recorded_before is not None:
            conditions.append(reg.c.recorded_at < recorded_before)
        if serial:
            conditions.append(reg.c.serials.contains(f" {normalise_serial(serial)} "))
        if seller:
            conditions.append(reg.c.seller_name.contains(fold(seller), autoescape=True))
        query = select(reg).where(*conditions).order_by(reg.c.book, reg.c.number).offset(offset)
        rows = self.conn.execute(query.limit(limit) if limit is not None else query).all()
        return [self._entry(r._mapping) for r in rows]

    def _entry(self, row: Any) -> RegisterEntry:
        return RegisterEntry(
            book=RegisterBook(row["book"]),
            number=row["number"],
            recorded_at=row["recorded_at"],
            kind=EntryKind(row["kind"]),
            seller=seller_from_json(row["seller"], self.vault),
            objects=tuple(object_from_json(o) for o in row["objects"]),
            payment_method=row["payment_method"],
            payment_summary=row["payment_summary"],
            recorded_by=row["recorded_by"],
            purchase_id=row["purchase_id"],
            corrects=row["corrects"],
            reason=row["reason"],
        )

    def log_consultation(
        self,
        *,
        at: datetime,
        staff_id: str,
        action: str,
        query: dict[str, Any],
        reason: str,
        results: int,
    ) -> None:
        self.conn.execute(
            insert(t.register_consultations).values(
                id=new_id(),
                at=at,
                staff_id=staff_id,
                action=action,
                query=query,
                reason=reason,
                results=results,
            )
        )


@dataclass
class SqlItems:
    conn: Connection

    def next_label_sequence(self) -> int:
        return next_value(self.conn, LABEL_COUNTER)

    def add(self, item: Item) -> None:
        self.conn.execute(insert(t.items).values(**_item_row(item)))

    def get(self, item_id_or_label: str) -> Item | None:
        row = self.conn.execute(
            select(t.items).where(
                or_(t.items.c.id == item_id_or_label, t.items.c.label_code == item_id_or_label)
            )
        ).first()
        return item_from_row(row._mapping) if row else None

    def lock(self, labels: list[str]) -> dict[str, tuple[Item, str]]:
        """Read items for a change of status, with their article's name (a ticket line's
        wording), locking the items' rows until commit (PostgreSQL; SQLite's write lock
        already serialises). Locks are taken in label order, so two baskets sharing items
        never deadlock."""
        rows = self.conn.execute(_LOCK_ITEMS, {"labels": sorted(labels)}).all()
        for r in rows:
            if r.status == ItemStatus.IN_TRANSIT.value:
                raise self._in_transit(r.id, r.label_code)
        return {r.label_code: (item_from_row(r._mapping), r.article_name) for r in rows}

    def _in_transit(self, item_id: str, label_code: str) -> DomainError:
        """An item sent to another store is no longer this store's to sell or move: say where
        it is going (architecture.md section 3)."""
        transfer = self.conn.execute(_TRANSFER_OF, {"item_id": item_id}).first()
        where = (
            f" to store {transfer.to_store:03d} (transfer {transfer.number})" if transfer else ""
        )
        return DomainError(
            f"item {label_code} is in transit{where}, not in this store's stock",
            code=ErrorCode.ITEM_NOT_SELLABLE,
            field="lines",
            transfer=transfer.number if transfer else None,
            to_store=transfer.to_store if transfer else None,
        )

    def mark_sold(
        self, items: list[Item], *, ticket: str, at: datetime, by: str, order: str | None = None
    ) -> None:
        """A basket's items sold in one statement, each only if still in stock (or, for the
        hand-over of online order `order`, still reserved for it)."""
        params = {"ids": [i.id for i in items], "ticket": ticket, "at": at, "by": by}
        if order is None:
            changed = self.conn.execute(_MARK_SOLD, params).rowcount
        else:
            changed = self.conn.execute(_MARK_ORDER_SOLD, {**params, "order": order}).rowcount
        if changed != len(items):
            raise Conflict("an item of the basket changed meanwhile; scan it again", field="lines")
        for item in items:
            item.sold_on = ticket

    def save_status(self, item: Item, *, previous: ItemStatus, at: datetime, by: str) -> None:
        """Write the new status only if nobody changed the item since it was read."""
        changed = self.conn.execute(
            _SAVE_STATUS,
            {
                "item_id": item.id,
                "previous": previous.value,
                "status": item.status.value,
                "reserved_for": item.reserved_for,
                "sold_on": item.sold_on,
                "at": at,
                "by": by,
            },
        ).rowcount
        if changed != 1:
            raise Conflict(
                f"item {item.label_code} changed meanwhile; read it again",
                field="status",
            )


def _item_row(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "label_code": item.label_code,
        "store_number": item.store_number,
        "article_id": item.article_id,
        "grade": item.grade.value,
        "purchase_id": item.purchase_id,
        "purchase_price_cents": item.purchase_price.cents,
        "asking_price_cents": item.asking_price.cents,
        "vat_regime": item.vat_regime.value,
        "register_book": item.register_book,
        "register_number": item.register_number,
        "status": item.status.value,
        "serials": list(item.serials),
        "accessories": list(item.accessories),
        "description": item.description,
        "resale_blocked_until": item.resale_blocked_until,
        "weight_grams": item.weight_grams,
        "fineness": item.fineness,
        "reserved_for": item.reserved_for,
        "sold_on": item.sold_on,
        "created_at": item.created_at,
        "created_by": item.created_by,
        "updated_at": item.created_at,
        "updated_by": item.created_by,
    }


def item_from_row(row: Any) -> Item:
    return Item(
        id=row["id"],
        label_code=row["label_code"],
        store_number=row["store_number"],
        article_id=row["article_id"],
        grade=Grade(row["grade"]),
        purchase_id=row["purchase_id"],
        purchase_price=Money(row["purchase_price_cents"]),
        asking_price=Money(row["asking_price_cents"]),
        vat_regime=VatRegime(row["vat_regime"]),
        register_number=row["register_number"],
        register_book=row["register_book"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        status=ItemStatus(row["status"]),
        serials=tuple(row["serials"]),
        accessories=tuple(row["accessories"]),
        description=row["description"],
        resale_blocked_until=row["resale_blocked_until"],
        weight_grams=row["weight_grams"],
        fineness=row["fineness"],
        reserved_for=row["reserved_for"],
        sold_on=row["sold_on"],
    )


@dataclass
class SqlWatchlist:
    conn: Connection

    def matches(self, serials: Iterable[str]) -> list[WatchlistEntry]:
        wanted = sorted({normalise_serial(s) for s in serials if s})
        if not wanted:
            return []
        rows = self.conn.execute(select(t.watchlist).where(t.watchlist.c.serial.in_(wanted))).all()
        return [
            WatchlistEntry(
                serial=r.serial, reported_on=r.reported_on, source=r.source, reference=r.reference
            )
            for r in rows
        ]

    def record_alert(
        self, *, at: datetime, staff_id: str, seller_name: str, matches: list[WatchlistEntry]
    ) -> None:
        self.conn.execute(
            insert(t.watchlist_alerts).values(
                id=new_id(),
                at=at,
                staff_id=staff_id,
                seller_name=seller_name,
                serials=[m.serial for m in matches],
                details=[
                    {
                        "serial": m.serial,
                        "source": m.source,
                        "reference": m.reference,
                        "reported_on": m.reported_on.isoformat() if m.reported_on else None,
                    }
                    for m in matches
                ],
            )
        )


@dataclass
class SqlOutbox:
    conn: Connection

    def add(self, event: Event) -> int:
        seq = next_value(self.conn, OUTBOX_COUNTER)
        self.conn.execute(
            _INSERT_OUTBOX,
            {
                "seq": seq,
                "event_id": event.event_id,
                "type": event.type,
                "schema_version": event.schema_version,
                "occurred_at": event.occurred_at,
                "payload": event.payload,
                "acked_at": None,
            },
        )
        self.conn.info[OUTBOX_WRITTEN] = True
        return seq
