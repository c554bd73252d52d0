"""Stock moves a manager makes by hand: off to repair, back on the shelf, scrapped."""

from __future__ import annotations

from recommerce.errors import DomainError, ErrorCode, NotFound
from recommerce.inventory.model import Item, ItemStatus
from recommerce.staff.model import Permission, StaffMember
from recommerce.store.bootstrap import StoreNode
from recommerce.sync.events import ITEM_STATUS_CHANGED, Event

# Sold, reserved and in transit belong to the till, online orders and transfers.
MANUAL_STATUSES = frozenset({ItemStatus.IN_STOCK, ItemStatus.TO_REPAIR, ItemStatus.SCRAPPED})


def change_status(
    node: StoreNode, staff: StaffMember, id_or_label: str, new: ItemStatus, *, reason: str
) -> Item:
    staff.require(Permission.MANAGE_STOCK)
    if new not in MANUAL_STATUSES:
        raise DomainError(
            f"{new.value} is set by the till, online orders or transfers, not by hand",
            code=ErrorCode.ITEM_STATUS_TRANSITION_FORBIDDEN,
            field="status",
        )
    if not reason.strip():
        raise DomainError("say why the item moves", field="reason")
    with node.uow() as uow:
        item = uow.items.get(id_or_label)
        if item is None:
            raise NotFound(f"no item {id_or_label!r}", code=ErrorCode.ITEM_NOT_FOUND, field="item")
        previous = item.status
        item.set_status(new)
        now = node.clock.now()
        uow.items.save_status(item, previous=previous, at=now, by=staff.id)
        uow.outbox.add(
            Event(
                type=ITEM_STATUS_CHANGED,
                occurred_at=now,
                payload={
                    "item_id": item.id,
                    "label_code": item.label_code,
                    "from": previous.value,
                    "to": new.value,
                    "reason": reason.strip(),
                    "staff_id": staff.id,
                },
            )
        )
        uow.commit()
    return item
