"""Transfers between stores (architecture.md section 3): the owner sends items to another store,
which receives them; ownership moves with the items.

Sending is one transaction at the sending store: the items go in transit (the till refuses
them and names the store they travel to), their online listing ends, the transfer is recorded
and `ItemsTransferred` goes up the outbox with everything the other store needs to hold them.
Central tells the receiving store (`TransferIncoming` down its feed), where the transfer is
expected until a manager counts what arrived: the items received are in stock there at once,
with the same id and label; those missing stay in transit and are listed as missing until they
turn up. `TransferReceived` tells central, which then moves the items' ownership.

The police register stays with the store that acquired an item: a transfer between two stores
of the chain is no acquisition from a non-trader, so it makes no entry (business-rules A.1),
and the item keeps its label and the register number printed on it, which name the acquiring
store's register (rule A.3).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import Connection, insert, select, update

from recommerce.errors import Conflict, DomainError, ErrorCode, NotFound
from recommerce.ids import new_id
from recommerce.inventory.model import Item, ItemStatus, OffShelf
from recommerce.money import Money
from recommerce.pos.sale import withdrawal_end
from recommerce.staff.model import Permission, StaffMember
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t
from recommerce.store.db.repositories import next_value
from recommerce.store.db.uow import SqlUnitOfWork
from recommerce.sync.events import ITEMS_TRANSFERRED, TRANSFER_RECEIVED, Event
from recommerce.sync.feed_events import (
    PayloadError,
    TransferredItem,
    transferred_item,
    transferred_item_from_payload,
)

OUTGOING = "outgoing"
INCOMING = "incoming"
# A transfer's status: sent (at the sending store); expected, then received or
# partially_received (at the receiving store, until every item has arrived).
SENT = "sent"
EXPECTED = "expected"
RECEIVED = "received"
PARTIALLY_RECEIVED = "partially_received"
# An item's status within a transfer.
IN_TRANSIT = ItemStatus.IN_TRANSIT.value
ARRIVED = "received"
MISSING = "missing"

TRANSFER_COUNTER = "transfer"
NOTE_MAX = 500
MAX_ITEMS = 500


def transfer_number(store_number: int, sequence: int) -> str:
    """What staff write on the parcel and quote: TR-042-000001, unique in the chain."""
    return f"TR-{store_number:03d}-{sequence:06d}"


@dataclass(frozen=True, slots=True)
class TransferLine:
    item_id: str
    label_code: str
    status: str  # in_transit | received | missing


@dataclass(frozen=True, slots=True)
class Transfer:
    id: str
    number: str
    direction: str  # outgoing | incoming
    from_store: int
    to_store: int
    status: str
    note: str
    sent_at: datetime
    sent_by: str | None
    received_at: datetime | None
    received_by: str | None
    items: tuple[TransferLine, ...]

    @property
    def missing(self) -> list[str]:
        """The labels of the items that did not arrive: still in transit, never lost silently."""
        return [line.label_code for line in self.items if line.status == MISSING]


def send(
    node: StoreNode, staff: StaffMember, *, to_store: int, labels: Sequence[str], note: str
) -> Transfer:
    """Send items in stock to store `to_store`, in one transaction."""
    staff.require(Permission.MANAGE_STOCK)
    own = node.settings.store_number
    if not 0 <= to_store <= 999:
        raise DomainError(f"{to_store} is not a store number", field="to_store")
    if to_store == own:
        raise DomainError("the items are already in this store", field="to_store")
    _check_labels(labels, allow_none=False)
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise DomainError(f"a note holds at most {NOTE_MAX} characters", field="note")
    now = node.clock.now()
    with node.uow() as uow:
        # Locked like a basket; an item already in transit is refused there, naming its store.
        locked = uow.items.lock(list(labels))
        items = []
        for i, label in enumerate(labels):
            found = locked.get(label)
            if found is None:
                raise DomainError(
                    f"no item with label {label} in this store",
                    code=ErrorCode.ITEM_NOT_FOUND,
                    field=f"labels[{i}]",
                )
            _check_transferable(found[0], now, node.settings.zone, field=f"labels[{i}]")
            items.append(found[0])
        transfer_id = new_id()
        number = transfer_number(own, next_value(uow.conn, TRANSFER_COUNTER, create=True))
        for item in items:
            item.set_status(ItemStatus.IN_TRANSIT)
            uow.items.save_status(item, previous=ItemStatus.IN_STOCK, at=now, by=staff.id)
        uow.conn.execute(
            insert(t.transfers).values(
                id=transfer_id,
                number=number,
                direction=OUTGOING,
                from_store=own,
                to_store=to_store,
                status=SENT,
                note=note,
                sent_at=now,
                sent_by=staff.id,
            )
        )
        uow.conn.execute(
            insert(t.transfer_items),
            [
                {
                    "transfer_id": transfer_id,
                    "item_id": item.id,
                    "label_code": item.label_code,
                    "status": IN_TRANSIT,
                    "item": None,
                }
                for item in items
            ],
        )
        # Its listing ends with this store's custody (central takes it offline too); the
        # receiving store publishes it again once it holds it.
        uow.conn.execute(
            update(t.online_listings)
            .where(
                t.online_listings.c.item_id.in_([item.id for item in items]),
                t.online_listings.c.published.is_(True),
            )
            .values(published=False, updated_at=now, updated_by=staff.id)
        )
        uow.outbox.add(
            Event(
                type=ITEMS_TRANSFERRED,
                occurred_at=now,
                payload={
                    "transfer_id": transfer_id,
                    "number": number,
                    "from_store": own,
                    "to_store": to_store,
                    "note": note,
                    "staff_id": staff.id,
                    "items": [transferred_item(item) for item in items],
                },
            )
        )
        transfer = _read(uow.conn, transfer_id)
        uow.commit()
    return transfer


def _check_transferable(item: Item, now: datetime, zone: tzinfo, *, field: str) -> None:
    """Only an item on this store's shelf leaves it: not one an online order holds, not one
    sold, not one off the shelf."""
    refusal = item.off_shelf(now)
    if refusal is None:
        return
    why, details = refusal
    label = item.label_code
    said = {
        OffShelf.RESERVED: (
            f"item {label} is reserved for online order {item.reserved_for}: it stays here"
        ),
        OffShelf.SOLD: f"item {label} was sold on ticket {item.sold_on}: it is no longer in stock",
        OffShelf.NOT_IN_STOCK: (
            f"item {label} is {item.status.value.replace('_', ' ')}: only items in stock "
            "can be transferred"
        ),
        # The seller may still come back for it here (business-rules A.8).
        OffShelf.WITHDRAWAL_PERIOD: (
            f"item {label} is under the seller's withdrawal period until "
            f"{withdrawal_end(item, zone)}: it stays in the store that bought it"
        ),
    }
    raise DomainError(
        said[why], code=ErrorCode.ITEM_STATUS_TRANSITION_FORBIDDEN, field=field, **details
    )


def receive(
    node: StoreNode, staff: StaffMember, transfer_id: str, labels: Sequence[str]
) -> Transfer:
    """Count an incoming transfer: the items scanned are in stock here from now on; on the
    first count, those not scanned are missing (still in transit). A missing item that turns
    up later is received the same way."""
    staff.require(Permission.MANAGE_STOCK)
    now = node.clock.now()
    with node.uow() as uow:
        transfer = _incoming(uow.conn, transfer_id)
        if transfer.status == RECEIVED:
            raise Conflict(
                f"transfer {transfer.number} was received in full already", field="transfer"
            )
        _check_labels(labels, allow_none=transfer.status == EXPECTED)
        lines = {line.label_code: line for line in transfer.items}
        for i, label in enumerate(labels):
            line = lines.get(label)
            if line is None:
                raise DomainError(
                    f"item {label} is not in transfer {transfer.number}",
                    code=ErrorCode.ITEM_NOT_FOUND,
                    field=f"labels[{i}]",
                )
            if line.status == ARRIVED:
                raise Conflict(f"item {label} was received already", field=f"labels[{i}]")
        described = _described_items(uow.conn, transfer.id)
        arrived = [lines[label] for label in labels]
        for line in arrived:
            _hold(uow, described[line.item_id], staff, now)
        scanned = set(labels)
        missing = [
            line
            for line in transfer.items
            if line.status != ARRIVED and line.label_code not in scanned
        ]
        _set_lines(uow.conn, transfer.id, arrived, ARRIVED)
        _set_lines(uow.conn, transfer.id, missing, MISSING)
        uow.conn.execute(
            update(t.transfers)
            .where(t.transfers.c.id == transfer.id)
            .values(
                status=PARTIALLY_RECEIVED if missing else RECEIVED,
                received_at=now,
                received_by=staff.id,
            )
        )
        uow.outbox.add(
            Event(
                type=TRANSFER_RECEIVED,
                occurred_at=now,
                payload={
                    "transfer_id": transfer.id,
                    "number": transfer.number,
                    "from_store": transfer.from_store,
                    "to_store": transfer.to_store,
                    "staff_id": staff.id,
                    "received": [_ref(line) for line in arrived],
                    "missing": [_ref(line) for line in missing],
                },
            )
        )
        received = _read(uow.conn, transfer.id)
        uow.commit()
    return received


def _hold(
    uow: SqlUnitOfWork, described: TransferredItem, staff: StaffMember, now: datetime
) -> None:
    """The item is this store's from now on, in stock, under its own id and label."""
    label = described.label_code
    known = uow.items.get(described.item_id)
    if known is not None:
        # It comes back to a store that sent it before: its row is still here, in transit.
        if known.status is not ItemStatus.IN_TRANSIT:
            raise Conflict(
                f"item {label} is {known.status.value.replace('_', ' ')} in this store: "
                "it cannot be received",
                field="labels",
            )
        uow.conn.execute(
            update(t.items)
            .where(
                t.items.c.id == described.item_id, t.items.c.status == ItemStatus.IN_TRANSIT.value
            )
            .values(
                status=ItemStatus.IN_STOCK.value,
                grade=described.grade.value,
                asking_price_cents=described.asking_price_cents,
                serials=list(described.serials),
                accessories=list(described.accessories),
                description=described.description,
                updated_at=now,
                updated_by=staff.id,
            )
        )
        return
    if uow.items.get(label) is not None:
        raise Conflict(f"another item of this store has label {label}", field="labels")
    if uow.catalog.article(described.article_id) is None:
        raise DomainError(
            f"item {label} is article {described.article_id}, which this store's catalogue "
            "does not have yet: receive it once the catalogue is up to date",
            code=ErrorCode.ARTICLE_NOT_FOUND,
            field="labels",
        )
    uow.items.add(
        Item(
            id=described.item_id,
            label_code=label,
            store_number=described.store_number,
            article_id=described.article_id,
            grade=described.grade,
            purchase_id=described.purchase_id,
            purchase_price=Money(described.purchase_price_cents),
            asking_price=Money(described.asking_price_cents),
            vat_regime=described.vat_regime,
            register_number=described.register_number,
            register_book=described.register_book,
            # its age in the chain's stock (markdowns of aging stock) runs from its purchase
            created_at=described.purchased_at,
            created_by=staff.id,
            serials=described.serials,
            accessories=described.accessories,
            description=described.description,
            resale_blocked_until=described.resale_blocked_until,
            weight_grams=described.weight_grams,
            fineness=described.fineness,
        )
    )


def _check_labels(labels: Sequence[str], *, allow_none: bool) -> None:
    if not labels and not allow_none:
        raise DomainError("name the items by their labels", field="labels")
    if len(labels) > MAX_ITEMS:
        raise DomainError(f"at most {MAX_ITEMS} items per transfer", field="labels")
    if len(set(labels)) != len(labels):
        raise DomainError("an item is named twice", field="labels")


def _ref(line: TransferLine) -> dict[str, str]:
    return {"item_id": line.item_id, "label_code": line.label_code}


def _set_lines(
    conn: Connection, transfer_id: str, lines: Sequence[TransferLine], status: str
) -> None:
    if lines:
        conn.execute(
            update(t.transfer_items)
            .where(
                t.transfer_items.c.transfer_id == transfer_id,
                t.transfer_items.c.item_id.in_([line.item_id for line in lines]),
            )
            .values(status=status)
        )


def _described_items(conn: Connection, transfer_id: str) -> dict[str, TransferredItem]:
    rows = conn.execute(
        select(t.transfer_items.c.item_id, t.transfer_items.c.item).where(
            t.transfer_items.c.transfer_id == transfer_id
        )
    ).all()
    try:
        return {row.item_id: transferred_item_from_payload(row.item) for row in rows}
    except PayloadError as exc:  # checked when the feed event was applied
        raise RuntimeError(f"transfer {transfer_id}: an item's description is unreadable") from exc


# --- reading --------------------------------------------------------------------------------


def list_transfers(
    node: StoreNode,
    *,
    direction: str | None = None,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Transfer]:
    """This store's transfers, newest first: outgoing and incoming, or one direction."""
    query = select(t.transfers.c.id).order_by(t.transfers.c.sent_at.desc(), t.transfers.c.number)
    if direction is not None:
        query = query.where(t.transfers.c.direction == direction)
    if status is not None:
        query = query.where(t.transfers.c.status == status)
    with node.reading() as conn:
        ids = conn.execute(query.limit(limit).offset(offset)).scalars().all()
        return _read_many(conn, ids)


def get_transfer(node: StoreNode, id_or_number: str) -> Transfer:
    with node.reading() as conn:
        found = _find(conn, id_or_number)
        if found is None:
            raise NotFound(f"no transfer {id_or_number!r}", field="transfer")
        return _read(conn, found)


def _incoming(conn: Connection, id_or_number: str) -> Transfer:
    found = _find(conn, id_or_number, t.transfers.c.direction == INCOMING)
    if found is None:
        raise NotFound(f"no incoming transfer {id_or_number!r}", field="transfer")
    return _read(conn, found)


def _find(conn: Connection, id_or_number: str, *where: Any) -> str | None:
    """A transfer by id, or by number (the newest of that number)."""
    return conn.execute(
        select(t.transfers.c.id)
        .where((t.transfers.c.id == id_or_number) | (t.transfers.c.number == id_or_number), *where)
        .order_by((t.transfers.c.id == id_or_number).desc(), t.transfers.c.sent_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def _read(conn: Connection, transfer_id: str) -> Transfer:
    return _read_many(conn, [transfer_id])[0]


def _read_many(conn: Connection, ids: Sequence[str]) -> list[Transfer]:
    """The transfers of `ids`, in that order: two queries however many there are."""
    rows = {
        row.id: row for row in conn.execute(select(t.transfers).where(t.transfers.c.id.in_(ids)))
    }
    lines: dict[str, list[TransferLine]] = defaultdict(list)
    for r in conn.execute(
        select(
            t.transfer_items.c.transfer_id,
            t.transfer_items.c.item_id,
            t.transfer_items.c.label_code,
            t.transfer_items.c.status,
        )
        .where(t.transfer_items.c.transfer_id.in_(ids))
        .order_by(t.transfer_items.c.label_code)
    ):
        lines[r.transfer_id].append(TransferLine(r.item_id, r.label_code, r.status))
    return [
        Transfer(
            id=row.id,
            number=row.number,
            direction=row.direction,
            from_store=row.from_store,
            to_store=row.to_store,
            status=row.status,
            note=row.note,
            sent_at=row.sent_at,
            sent_by=row.sent_by,
            received_at=row.received_at,
            received_by=row.received_by,
            items=tuple(lines[row.id]),
        )
        for row in (rows[transfer_id] for transfer_id in ids)
    ]
