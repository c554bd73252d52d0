"""Markdowns of aging stock at the store (recommerce.argus.markdown): suggested from the
store's own sell-through, applied by a manager, each logged and sent to central (the item's
online listing shows the new price)."""

from __future__ import annotations

from statistics import median
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from recommerce.argus.markdown import Markdown, StockedItem, steps_from_configuration, suggest
from recommerce.errors import DomainError, ErrorCode
from recommerce.ids import new_id
from recommerce.inventory.model import ItemStatus
from recommerce.money import Money
from recommerce.staff.model import Permission, StaffMember
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t
from recommerce.sync.events import ITEM_PRICE_CHANGED, Event

STEPS_KEY = "markdown_steps"  # central's configuration: [{"after_days", "percent"}]
SELL_THROUGH_SALES = 2000  # the store's latest sales that say how fast each category sells


def due(node: StoreNode) -> list[Markdown]:
    """The markdowns the store's aging stock is due today."""
    with node.reading() as conn:
        return _due(conn, node)


def apply(node: StoreNode, staff: StaffMember, labels: list[str]) -> list[Markdown]:
    """Apply the due markdowns of these items (a manager's approval); what was applied. An
    item no longer due (sold, already marked down) is refused with the others unchanged."""
    staff.require(Permission.MANAGE_STOCK)
    if not labels:
        raise DomainError("name the items to mark down", field="labels")
    with node.uow() as uow:
        by_label = {m.label_code: m for m in _due(uow.conn, node)}
        missing = [label for label in labels if label not in by_label]
        if missing:
            raise DomainError(
                f"no markdown is due for {', '.join(missing)}",
                code=ErrorCode.CONFLICT,
                field="labels",
            )
        now = node.clock.now()
        applied = [by_label[label] for label in dict.fromkeys(labels)]
        for markdown in applied:
            changed = uow.conn.execute(
                update(t.items)
                .where(
                    t.items.c.id == markdown.item_id,
                    t.items.c.status == ItemStatus.IN_STOCK.value,
                    t.items.c.asking_price_cents == markdown.current_price.cents,
                )
                .values(
                    asking_price_cents=markdown.new_price.cents, updated_at=now, updated_by=staff.id
                )
            ).rowcount
            if changed != 1:
                raise DomainError(
                    f"item {markdown.label_code} changed meanwhile", code=ErrorCode.CONFLICT
                )
            uow.conn.execute(
                insert(t.price_changes).values(
                    id=new_id(),
                    item_id=markdown.item_id,
                    at=now,
                    from_cents=markdown.current_price.cents,
                    to_cents=markdown.new_price.cents,
                    reason=markdown.reason,
                    approved_by=staff.id,
                )
            )
            uow.outbox.add(
                Event(
                    type=ITEM_PRICE_CHANGED,
                    occurred_at=now,
                    payload={
                        "item_id": markdown.item_id,
                        "label_code": markdown.label_code,
                        "from_cents": markdown.current_price.cents,
                        "to_cents": markdown.new_price.cents,
                        "reason": markdown.reason,
                        "staff_id": staff.id,
                    },
                )
            )
        uow.commit()
    return applied


def _due(conn: Connection, node: StoreNode) -> list[Markdown]:
    zone = node.settings.zone
    first_prices = dict(
        conn.execute(
            select(t.price_changes.c.item_id, func.max(t.price_changes.c.from_cents)).group_by(
                t.price_changes.c.item_id
            )
        ).all()
    )
    rows = conn.execute(
        select(
            t.items.c.id,
            t.items.c.label_code,
            t.items.c.created_at,
            t.items.c.asking_price_cents,
            t.items.c.purchase_price_cents,
            t.articles.c.category_code,
        )
        .join(t.articles, t.articles.c.id == t.items.c.article_id)
        .where(t.items.c.status == ItemStatus.IN_STOCK.value)
    ).all()
    stocked = [
        StockedItem(
            item_id=row.id,
            label_code=row.label_code,
            category_code=row.category_code,
            stocked_on=row.created_at.astimezone(zone).date(),
            first_price=Money(max(first_prices.get(row.id, 0), row.asking_price_cents)),
            current_price=Money(row.asking_price_cents),
            purchase_price=Money(row.purchase_price_cents),
        )
        for row in rows
    ]
    configured = conn.execute(
        select(t.store_configuration.c.value).where(t.store_configuration.c.key == STEPS_KEY)
    ).scalar_one_or_none()
    return suggest(
        stocked,
        today=node.clock.now().astimezone(zone).date(),
        sell_through=_sell_through(conn),
        steps=steps_from_configuration(configured),
    )


def _sell_through(conn: Connection) -> dict[str, float]:
    """Median days from purchase to sale per category, over the store's latest sales."""
    rows = conn.execute(
        select(t.articles.c.category_code, t.items.c.created_at, t.tickets.c.occurred_at)
        .join(t.items, t.items.c.article_id == t.articles.c.id)
        .join(t.tickets, t.tickets.c.display_number == t.items.c.sold_on)
        .where(t.items.c.status == ItemStatus.SOLD.value)
        .order_by(t.tickets.c.occurred_at.desc())
        .limit(SELL_THROUGH_SALES)
    ).all()
    days: dict[str, list[float]] = {}
    for row in rows:
        days.setdefault(row.category_code, []).append(
            max(0.0, (row.occurred_at - row.created_at).total_seconds() / 86400)
        )
    return {category: median(values) for category, values in days.items() if len(values) >= 5}


def as_dict(markdown: Markdown) -> dict[str, Any]:
    return {
        "item_id": markdown.item_id,
        "label_code": markdown.label_code,
        "days_in_stock": markdown.days_in_stock,
        "percent": markdown.step.percent,
        "current_price_cents": markdown.current_price.cents,
        "new_price_cents": markdown.new_price.cents,
        "reason": markdown.reason,
    }
