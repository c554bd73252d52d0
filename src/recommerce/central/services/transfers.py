"""Transfers between stores at central, applied by ingest in the batch's transaction
(architecture.md section 3, docs/sync-protocol.md).

- `ItemsTransferred`, from the store that owns the items: the transfer is recorded, the items
  are in transit (their row keeps the sender's number until they are received), their
  listings go offline, and the receiving store hears of it down its feed (`TransferIncoming`).
- `TransferReceived`, from the receiving store: the items it received are its own from now on
  (`items.store_number`) and in stock, so that its till sales and listings of them apply; the
  items missing stay in transit under the sender's number and are listed as missing.

The items' statuses move in `read_models`, in the order of the batch's events (a received item
sold in the same batch ends sold); this module writes the rest, after those moves and before
the batch's listings. An event that does not fit the transfers central holds (a transfer
applied twice, items of another store, a reception of items received already) is refused and
quarantined: applying it again changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from recommerce.central.db import marketplace_tables as m
from recommerce.central.db import sync_tables as s
from recommerce.central.db import tables as t
from recommerce.central.services import feed
from recommerce.inventory.model import ItemStatus
from recommerce.sync.events import ITEMS_TRANSFERRED
from recommerce.sync.feed_events import TRANSFER_INCOMING, transfer_incoming

# A transfer's status at central, and an item's within it.
SENT = "sent"
RECEIVED = "received"
PARTIALLY_RECEIVED = "partially_received"
IN_TRANSIT = ItemStatus.IN_TRANSIT.value
MISSING = "missing"


class TransferRefused(Exception):
    """The event does not fit the transfers central holds: ingest quarantines it."""


def apply_transfer_events(
    conn: Connection, store_number: int, events: Iterable[tuple[str, dict[str, Any], datetime]]
) -> None:
    for kind, payload, at in events:
        if kind == ITEMS_TRANSFERRED:
            _sent(conn, store_number, payload, at)
        else:
            _received(conn, store_number, payload, at)


def _sent(conn: Connection, store: int, p: dict[str, Any], at: datetime) -> None:
    number, to_store = p["number"], p["to_store"]
    if _transfer(conn, p["transfer_id"]) is not None:
        raise TransferRefused(f"transfer {number} is known already")
    if conn.execute(select(t.stores.c.number).where(t.stores.c.number == to_store)).first() is None:
        raise TransferRefused(f"transfer {number} goes to store {to_store:03d}, unknown to central")
    ids = [item["item_id"] for item in p["items"]]
    holders = dict(
        conn.execute(
            select(s.items.c.item_id, s.items.c.store_number).where(
                s.items.c.item_id.in_(bindparam("ids", expanding=True))
            ),
            {"ids": ids},
        ).all()
    )
    for item in p["items"]:
        holder = holders.get(item["item_id"])
        if holder != store:
            where = "unknown to central" if holder is None else f"held by store {holder:03d}"
            raise TransferRefused(
                f"item {item['label_code']} is {where}: only the store holding it sends it"
            )
    conn.execute(
        insert(s.transfers).values(
            id=p["transfer_id"],
            number=number,
            from_store=store,
            to_store=to_store,
            status=SENT,
            note=p["note"],
            sent_at=at,
        )
    )
    conn.execute(
        insert(s.transfer_items),
        [
            {
                "transfer_id": p["transfer_id"],
                "item_id": item["item_id"],
                "label_code": item["label_code"],
                "status": IN_TRANSIT,
                "received_at": None,
            }
            for item in p["items"]
        ],
    )
    # The listing ends with the sender's custody; the receiving store publishes it again.
    conn.execute(update(m.listings).where(m.listings.c.item_id.in_(ids)).values(published=False))
    feed.append_to_feeds(
        conn, TRANSFER_INCOMING, transfer_incoming(p, at), now=at, stores=[to_store]
    )


def _received(conn: Connection, store: int, p: dict[str, Any], at: datetime) -> None:
    number = p["number"]
    transfer = _transfer(conn, p["transfer_id"])
    if transfer is None or transfer.to_store != store:
        raise TransferRefused(f"transfer {number} is not one sent to store {store:03d}")
    lines = dict(
        conn.execute(
            select(s.transfer_items.c.item_id, s.transfer_items.c.status).where(
                s.transfer_items.c.transfer_id == transfer.id
            )
        ).all()
    )
    for ref in p["received"] + p["missing"]:
        status = lines.get(ref["item_id"])
        if status is None:
            raise TransferRefused(f"item {ref['label_code']} is not in transfer {number}")
        if status == RECEIVED:
            raise TransferRefused(f"item {ref['label_code']} of transfer {number} was received")
    received = [ref["item_id"] for ref in p["received"]]
    missing = [ref["item_id"] for ref in p["missing"]]
    _set_lines(conn, transfer.id, received, RECEIVED, at)
    _set_lines(conn, transfer.id, missing, MISSING, None)
    if received:
        # Ownership moves with the items: the receiving store's sales and listings apply now.
        conn.execute(
            update(s.items).where(s.items.c.item_id.in_(received)).values(store_number=store)
        )
    lines.update(dict.fromkeys(received, RECEIVED))
    complete = all(status == RECEIVED for status in lines.values())
    conn.execute(
        update(s.transfers)
        .where(s.transfers.c.id == transfer.id)
        .values(status=RECEIVED if complete else PARTIALLY_RECEIVED, received_at=at)
    )


def _set_lines(
    conn: Connection, transfer_id: str, item_ids: list[str], status: str, at: datetime | None
) -> None:
    if item_ids:
        conn.execute(
            update(s.transfer_items)
            .where(
                s.transfer_items.c.transfer_id == transfer_id,
                s.transfer_items.c.item_id.in_(item_ids),
            )
            .values(status=status, received_at=at)
        )


def _transfer(conn: Connection, transfer_id: str) -> Any:
    return conn.execute(select(s.transfers).where(s.transfers.c.id == transfer_id)).first()
