"""Invariant 1: an item is sold at most once, or a recorded conflict says why it was not
prevented (architecture.md section 3).

Every sale is a ticket: at the till, or the hand-over of an online order (a ticket paid by the
online tender). So the tickets tell the whole story: per item, in time order, a sale follows
the item's purchase or a return of its previous sale, never another sale. Tickets are read
from each store's own tables and from central's read model, so that a ticket only one side
holds counts too; a double sale is excused only where central recorded a conflict for the item.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from recommerce.central.db import marketplace_tables as m
from recommerce.central.db import sync_tables as c
from recommerce.pos.ticket import TicketKind
from recommerce.sim.invariants.databases import Databases
from recommerce.sim.invariants.results import MAX_LISTED, Findings, InvariantResult
from recommerce.store.db import tables as t

SALE = TicketKind.SALE.value


@dataclass
class TicketFact:
    ticket_id: str
    number: str  # the display number printed on it
    store: int
    kind: str
    occurred_at: datetime
    seen_at: str  # "store" or "central": where it was read
    items: Counter[str] = field(default_factory=Counter)  # item id -> lines

    def named(self) -> dict[str, Any]:
        return {
            "ticket": self.number,
            "store": self.store,
            "occurred_at": self.occurred_at,
            "seen_at": self.seen_at,
        }


@dataclass
class Labels:
    """Items by label and labels by item: central's ticket lines name items by label."""

    of_item: dict[str, str] = field(default_factory=dict)
    item_of: dict[tuple[int, str], str] = field(default_factory=dict)

    def add(self, store: int, item_id: str, label: str) -> None:
        self.of_item[item_id] = label
        self.item_of[store, label] = item_id


def _store_tickets(dbs: Databases, facts: dict[str, TicketFact], labels: Labels) -> None:
    query = select(
        t.tickets.c.id,
        t.tickets.c.display_number,
        t.tickets.c.kind,
        t.tickets.c.occurred_at,
        t.ticket_lines.c.item_id,
    ).join(t.ticket_lines, t.ticket_lines.c.ticket_id == t.tickets.c.id)
    for store in dbs.stores:
        with store.reading() as conn:
            for item_id, label in conn.execute(select(t.items.c.id, t.items.c.label_code)):
                labels.add(store.number, item_id, label)
            for row in conn.execute(query):
                fact = facts.get(row.id)
                if fact is None:
                    fact = facts[row.id] = TicketFact(
                        row.id, row.display_number, store.number, row.kind, row.occurred_at, "store"
                    )
                fact.items[row.item_id] += 1


def _central_tickets(dbs: Databases, facts: dict[str, TicketFact], labels: Labels) -> None:
    """Central's tickets the stores do not hold; their lines name items by label."""
    with dbs.central_reading() as conn:
        for row in conn.execute(
            select(c.items.c.item_id, c.items.c.store_number, c.items.c.label_code)
        ):
            labels.item_of.setdefault((row.store_number, row.label_code), row.item_id)
        rows = conn.execute(
            select(
                c.tickets.c.id,
                c.tickets.c.number,
                c.tickets.c.store_number,
                c.tickets.c.kind,
                c.tickets.c.occurred_at,
                c.tickets.c.lines,
            )
        )
        for ticket in rows:
            if ticket.id in facts:
                continue
            fact = facts[ticket.id] = TicketFact(
                ticket.id,
                ticket.number,
                ticket.store_number,
                ticket.kind,
                ticket.occurred_at,
                "central",
            )
            for line in ticket.lines or []:
                label = str(line.get("label_code"))
                item_id = labels.item_of.get((ticket.store_number, label))
                if item_id is None:  # an item central never heard bought
                    item_id = f"{ticket.store_number}:{label}"
                    labels.add(ticket.store_number, item_id, label)
                fact.items[item_id] += 1


def _conflicts(dbs: Databases) -> dict[str, list[dict[str, Any]]]:
    with dbs.central_reading() as conn:
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in conn.execute(select(m.conflicts)):
            found[row.item_id].append(
                {
                    "store_fact": row.store_fact,
                    "online_fact": row.online_fact,
                    "resolution": row.resolution,
                }
            )
        return found


def check_items_sold_once(dbs: Databases) -> InvariantResult:
    facts: dict[str, TicketFact] = {}
    labels = Labels()
    _store_tickets(dbs, facts, labels)
    _central_tickets(dbs, facts, labels)
    conflicts = _conflicts(dbs)

    timelines: dict[str, list[TicketFact]] = defaultdict(list)
    for fact in facts.values():
        for item_id in fact.items:
            timelines[item_id].append(fact)
    findings = Findings()
    excused: list[dict[str, Any]] = []
    sold_items = 0
    for item_id, timeline in timelines.items():
        timeline.sort(key=lambda f: (f.occurred_at, f.number))
        sold_by: TicketFact | None = None
        sold_ever = False
        for fact in timeline:
            if fact.kind != SALE:
                sold_by = None  # a return puts the item back: it may be sold again
                continue
            sold_ever = True
            twice = [sold_by] if sold_by is not None else []
            if fact.items[item_id] > 1:
                twice.append(fact)  # the same item on two lines of one ticket
            for first in twice:
                what = {
                    "item_id": item_id,
                    "label_code": labels.of_item.get(item_id),
                    "first": first.named(),
                    "second": fact.named(),
                }
                if item_id in conflicts:
                    excused.append({**what, "conflicts": conflicts[item_id]})
                else:
                    findings.add(problem="sold twice", **what)
            sold_by = fact
        sold_items += sold_ever
    return findings.result(
        1,
        tickets=len(facts),
        items_sold=sold_items,
        conflicts_recorded=sum(len(v) for v in conflicts.values()),
        double_sales_explained_by_a_conflict=len(excused),
        explained=excused[:MAX_LISTED],
    )
