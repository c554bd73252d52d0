"""What each upstream event changes in central's read models (docs/sync-protocol.md, "Events").

Ingest applies a batch of up to a thousand events in one transaction. To keep that fast, the
events are first gathered, in seq order, into the rows they write (`Changes`), and the rows are
then written with one statement per table (executemany). Item statuses are the one place where
order matters: the last event of the batch that touches an item decides its status, whether
the item is new in this batch (its pending row is updated) or already known (one UPDATE).
The batch's tickets and purchases are then added to reporting's rollups, one upsert per rollup.

An event reaching this module has passed `recommerce.sync.validation`: the keys read here
exist and have their types.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import Connection, bindparam, insert, update

from recommerce.central.db import marketplace_tables as m
from recommerce.central.db import sync_tables as s
from recommerce.central.services.listings import ListingRefused, save_listings
from recommerce.central.services.order_events import OrderEventRefused, apply_order_events
from recommerce.central.services.rollups import add_batch
from recommerce.central.services.transfers import TransferRefused, apply_transfer_events
from recommerce.fiscal.closings import Period, closing_record_label
from recommerce.inventory.model import ItemStatus
from recommerce.pos.ticket import TicketKind
from recommerce.registers.police import EntryKind
from recommerce.sync import events as ev
from recommerce.sync import reservations as rs
from recommerce.sync.reservations import Answer

IN_STOCK = ItemStatus.IN_STOCK.value
SOLD = ItemStatus.SOLD.value
RESERVED = ItemStatus.RESERVED.value
IN_TRANSIT = ItemStatus.IN_TRANSIT.value
TICKET_RECORD = "ticket"
CLOSING_RECORD = "closing"


class Clash(Exception):
    """An event would write a row central already holds (found before the database does)."""


@dataclass
class Changes:
    """The read-model rows of a run of events, written together by `write`."""

    store_number: int
    zone: tzinfo  # the store's time zone: its business day
    purchases: list[dict[str, Any]] = field(default_factory=list)
    new_items: dict[str, dict[str, Any]] = field(default_factory=dict)
    item_moves: dict[str, dict[str, Any]] = field(default_factory=dict)  # known items
    register_entries: list[dict[str, Any]] = field(default_factory=list)
    tickets: list[dict[str, Any]] = field(default_factory=list)
    journal_records: list[dict[str, Any]] = field(default_factory=list)
    closings: list[dict[str, Any]] = field(default_factory=list)
    till_sessions: list[dict[str, Any]] = field(default_factory=list)
    listings: dict[str, dict[str, Any]] = field(default_factory=dict)  # by item: the last wins
    # Online orders (order_events): the store's answers and updates, and the batch's sales,
    # looked at for conflicts once the rows are written.
    order_events: list[tuple[str, dict[str, Any], datetime]] = field(default_factory=list)
    sales: list[tuple[dict[str, Any], datetime]] = field(default_factory=list)
    released_holds: set[str] = field(default_factory=set)
    prices: dict[str, int] = field(default_factory=dict)  # known items' new asking price
    # Transfers between stores (central.services.transfers), in the batch's order.
    transfers: list[tuple[str, dict[str, Any], datetime]] = field(default_factory=list)

    @property
    def marketplace_items(self) -> set[str]:
        """The items whose place on the marketplace these changes may alter: listed, delisted
        (sold, moved off the shelf) or back in stock."""
        return (
            set(self.listings)
            | set(self.item_moves)
            | set(self.prices)
            | {item for item, row in self.new_items.items() if row["status"] != IN_STOCK}
        )

    def business_day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def move_item(
        self, item_id: str, status: str, at: datetime, sold_ticket_id: str | None = None
    ) -> None:
        """The item's status from now on; `sold_ticket_id` is kept only while it is sold."""
        pending = self.new_items.get(item_id)
        if pending is not None:
            pending.update(status=status, status_at=at, sold_ticket_id=sold_ticket_id)
        else:
            self.item_moves[item_id] = {
                "b_item_id": item_id,
                "b_status": status,
                "b_status_at": at,
                "b_sold_ticket_id": sold_ticket_id,
            }


def gather(changes: Changes, event_type: str, payload: dict[str, Any], at: datetime) -> None:
    """Add the rows of one valid event (`at` is its parsed `occurred_at`)."""
    _APPLIERS[event_type](changes, payload, at)


def _purchase_recorded(changes: Changes, p: dict[str, Any], at: datetime) -> None:
    store = changes.store_number
    items = p["items"]
    changes.purchases.append(
        {
            "id": p["purchase_id"],
            "store_number": store,
            "occurred_at": at,
            "business_day": changes.business_day(at),
            "payment_method": p["payment_method"],
            "total_cents": p["total_cents"],
            "item_count": len(items),
        }
    )
    for item in items:
        if item["item_id"] in changes.new_items:
            raise Clash(f"item {item['item_id']} is bought twice")
        changes.new_items[item["item_id"]] = {
            "item_id": item["item_id"],
            "store_number": store,
            "label_code": item["label_code"],
            "article_id": item["article_id"],
            "grade": item["grade"],
            "purchase_id": p["purchase_id"],
            "purchase_price_cents": item["purchase_price_cents"],
            "asking_price_cents": item["asking_price_cents"],
            "vat_regime": item["vat_regime"],
            "status": IN_STOCK,
            "status_at": at,
            "sold_ticket_id": None,
        }
    for entry in p["register_entries"]:
        changes.register_entries.append(
            {
                "store_number": store,
                "book": entry["book"],
                "number": entry["number"],
                "kind": EntryKind.ACQUISITION.value,
                "purchase_id": p["purchase_id"],
                "labels": entry["labels"],
                "corrects": None,
                "reason": None,
                "recorded_at": at,
            }
        )


def _register_entry_corrected(changes: Changes, p: dict[str, Any], at: datetime) -> None:
    changes.register_entries.append(
        {
            "store_number": changes.store_number,
            "book": p["book"],
            "number": p["number"],
            "kind": EntryKind.CORRECTION.value,
            "purchase_id": None,
            "labels": None,
            "corrects": p["corrects"],
            "reason": p["reason"],
            "recorded_at": at,
        }
    )


def _item_status_changed(changes: Changes, p: dict[str, Any], at: datetime) -> None:
    changes.move_item(p["item_id"], p["to"], at)


def _ticket_validated(changes: Changes, p: dict[str, Any], at: datetime) -> None:
    store = changes.store_number
    ticket_id = p["ticket_id"]
    changes.tickets.append(
        {
            "id": ticket_id,
            "store_number": store,
            "number": p["number"],
            "till": p["till"],
            "kind": p["kind"],
            "occurred_at": at,
            "business_day": changes.business_day(at),
            "total_cents": p["total_cents"],
            "refers_to": p["refers_to"],
            "lines": p["lines"],
            "tenders": p["tenders"],
            "vat": p["vat"],
        }
    )
    journal = p["journal"]
    changes.journal_records.append(
        {
            "store_number": store,
            "seq": journal["seq"],
            "kind": TICKET_RECORD,
            "hash": journal["hash"],
            "occurred_at": at,
            "label": p["number"],
        }
    )
    # A sale takes the items off the shelf; a return (a counter-ticket) puts them back in
    # stock, or aside for repair when the event says so.
    if p["kind"] == TicketKind.SALE:
        for item in p["items"]:
            changes.move_item(item["item_id"], SOLD, at, ticket_id)
        changes.sales.append((p, at))
    else:
        for item in p["items"]:
            changes.move_item(item["item_id"], item.get("status", IN_STOCK), at)


def _period_closed(changes: Changes, p: dict[str, Any], at: datetime) -> None:
    store = changes.store_number
    changes.closings.append(
        {
            "store_number": store,
            "period": p["period"],
            "label": p["label"],
            "seq": p["seq"],
            "sales_count": p["sales_count"],
            "returns_count": p["returns_count"],
            "total_cents": p["total_cents"],
            "grand_total_cents": p["grand_total_cents"],
            "day_totals": p.get("day_totals"),
            "closed_at": at,
        }
    )
    changes.journal_records.append(
        {
            "store_number": store,
            "seq": p["seq"],
            "kind": CLOSING_RECORD,
            "hash": p["hash"],
            "occurred_at": at,
            "label": closing_record_label(Period(p["period"]), p["label"]),
        }
    )


def _item_listing_changed(changes: Changes, p: dict[str, Any], at: datetime) -> None:
    changes.listings[p["item_id"]] = {
        "item_id": p["item_id"],
        "store_number": changes.store_number,
        "article_id": p["article_id"],
        "grade": p["grade"],
        "price_cents": p["asking_price_cents"],
        "description": p["description"],
        "photos": p["photos"],
        "published": p["published"],
        "published_at": at,
        "updated_at": at,
    }


def _item_price_changed(changes: Changes, p: dict[str, Any], at: datetime) -> None:
    pending = changes.new_items.get(p["item_id"])
    if pending is not None:
        pending["asking_price_cents"] = p["to_cents"]
    else:
        changes.prices[p["item_id"]] = p["to_cents"]
    listing = changes.listings.get(p["item_id"])
    if listing is not None:  # listed in this batch: the listing shows the new price
        listing["price_cents"] = p["to_cents"]


def _reservation_answered(changes: Changes, p: dict[str, Any], at: datetime) -> None:
    if p["answer"] == Answer.RESERVED:
        for item in p["items"]:
            changes.move_item(item["item_id"], RESERVED, at)
    changes.order_events.append((rs.RESERVATION_ANSWERED, p, at))


def _reservation_released(changes: Changes, p: dict[str, Any], at: datetime) -> None:
    for item in p["items"]:
        changes.move_item(item["item_id"], IN_STOCK, at)


def _online_order_updated(changes: Changes, p: dict[str, Any], at: datetime) -> None:
    changes.order_events.append((rs.ONLINE_ORDER_UPDATED, p, at))


def _items_transferred(changes: Changes, p: dict[str, Any], at: datetime) -> None:
    for item in p["items"]:
        changes.move_item(item["item_id"], IN_TRANSIT, at)
    changes.transfers.append((ev.ITEMS_TRANSFERRED, p, at))


def _transfer_received(changes: Changes, p: dict[str, Any], at: datetime) -> None:
    for item in p["received"]:  # the missing ones stay in transit
        changes.move_item(item["item_id"], IN_STOCK, at)
    changes.transfers.append((ev.TRANSFER_RECEIVED, p, at))


def _till_session_closed(changes: Changes, p: dict[str, Any], at: datetime) -> None:
    changes.till_sessions.append(
        {
            "session_id": p["session_id"],
            "store_number": changes.store_number,
            "till": p["till"],
            "closed_at": at,
            "expected": p["expected"],
            "counted": p["counted"],
            "difference": p["difference"],
        }
    )


_APPLIERS: dict[str, Callable[[Changes, dict[str, Any], datetime], None]] = {
    ev.PURCHASE_RECORDED: _purchase_recorded,
    ev.REGISTER_ENTRY_CORRECTED: _register_entry_corrected,
    ev.ITEM_STATUS_CHANGED: _item_status_changed,
    ev.TICKET_VALIDATED: _ticket_validated,
    ev.PERIOD_CLOSED: _period_closed,
    ev.TILL_SESSION_CLOSED: _till_session_closed,
    ev.ITEM_LISTING_CHANGED: _item_listing_changed,
    ev.ITEM_PRICE_CHANGED: _item_price_changed,
    rs.RESERVATION_ANSWERED: _reservation_answered,
    rs.RESERVATION_RELEASED: _reservation_released,
    rs.ONLINE_ORDER_UPDATED: _online_order_updated,
    ev.ITEMS_TRANSFERRED: _items_transferred,
    ev.TRANSFER_RECEIVED: _transfer_received,
}

_MOVE_ITEM = (
    update(s.items)
    .where(s.items.c.item_id == bindparam("b_item_id"))
    .values(
        status=bindparam("b_status"),
        status_at=bindparam("b_status_at"),
        sold_ticket_id=bindparam("b_sold_ticket_id"),
    )
)


_PRICE_ITEM = (
    update(s.items)
    .where(s.items.c.item_id == bindparam("b_item_id"))
    .values(asking_price_cents=bindparam("b_price"))
)
_PRICE_LISTING = (
    update(m.listings)
    .where(m.listings.c.item_id == bindparam("b_item_id"))
    .values(price_cents=bindparam("b_price"))
)


def write(conn: Connection, changes: Changes) -> None:
    """One INSERT per table for the new rows, then one UPDATE for the moves of known items.

    Raises IntegrityError when a row clashes with what central already holds (an item id
    bought twice, a register number used twice): ingest then retries event by event."""
    for table, rows in (
        (s.purchases, changes.purchases),
        (s.items, list(changes.new_items.values())),
        (s.register_entries, changes.register_entries),
        (s.tickets, changes.tickets),
        (s.journal_records, changes.journal_records),
        (s.closings, changes.closings),
        (s.till_sessions, changes.till_sessions),
    ):
        if rows:
            conn.execute(insert(table), rows)
    if changes.item_moves:
        conn.execute(_MOVE_ITEM, list(changes.item_moves.values()))
    if changes.transfers:  # before the listings: a received item's new store may list it
        try:
            apply_transfer_events(conn, changes.store_number, changes.transfers)
        except TransferRefused as exc:
            raise Clash(str(exc)) from exc
    if changes.prices:
        rows = [{"b_item_id": i, "b_price": cents} for i, cents in changes.prices.items()]
        conn.execute(_PRICE_ITEM, rows)
        conn.execute(_PRICE_LISTING, rows)
    if changes.listings:
        try:
            save_listings(conn, list(changes.listings.values()))
        except ListingRefused as exc:
            raise Clash(str(exc)) from exc
    if changes.order_events or changes.sales:
        try:
            changes.released_holds |= apply_order_events(
                conn, changes.store_number, changes.order_events, changes.sales
            )
        except OrderEventRefused as exc:
            raise Clash(str(exc)) from exc
    if changes.tickets or changes.purchases:
        # Last: the items a ticket names are in the read models by now (bought in this batch,
        # or received through a transfer), each in the store that sells it.
        add_batch(
            conn,
            tickets=changes.tickets,
            purchases=changes.purchases,
            items=changes.new_items.values(),
        )
