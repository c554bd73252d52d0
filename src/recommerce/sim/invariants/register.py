"""Invariant 2: every acquisition has exactly one police-register entry, and the numbering of
each store's register books has no gap (Code pénal R321-3 ff., business-rules A.1 to A.5).

Per store and book, the entries are numbered 1, 2, 3... up to the book's counter. Each item
bought appears in exactly one acquisition entry (a lot lists several items), the one its
label names, written for its own purchase, in the register of the store that bought it (an
item received from another store of the chain keeps that store's entry: a transfer is no
acquisition). Central's copy of each register (from the stores' events) holds the same entries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from recommerce.central.db import sync_tables as c
from recommerce.registers.police import EntryKind
from recommerce.sim.invariants.databases import Databases, OpenStore
from recommerce.sim.invariants.results import Findings, InvariantResult
from recommerce.store.db import tables as t

ACQUISITION = EntryKind.ACQUISITION.value
COUNTER_PREFIX = "register:"  # the gapless counter of a book: "register:general"
MAX_NUMBERS = 50  # missing numbers named per book


@dataclass
class Register:
    """One store's register books, and the items and purchases they answer for."""

    store: int
    entries: dict[tuple[str, int], Any] = field(default_factory=dict)  # (book, number) -> row
    counters: dict[str, int] = field(default_factory=dict)  # book -> its counter's value
    acquired: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # label -> entries
    purchases: set[str] = field(default_factory=set)
    items: list[Any] = field(default_factory=list)


def _read(store: OpenStore) -> Register:
    reg = t.police_register
    register = Register(store.number)
    with store.reading() as conn:
        for entry in conn.execute(
            select(
                reg.c.book,
                reg.c.number,
                reg.c.kind,
                reg.c.purchase_id,
                reg.c.objects,
                reg.c.corrects,
            )
        ):
            register.entries[entry.book, entry.number] = entry
            if entry.kind == ACQUISITION:
                for obj in entry.objects:
                    label = str(obj.get("label_code"))
                    register.acquired.setdefault(label, []).append((entry.book, entry.number))
        for name, value in conn.execute(
            select(t.counters.c.name, t.counters.c.value).where(
                t.counters.c.name.startswith(COUNTER_PREFIX)
            )
        ):
            register.counters[name.removeprefix(COUNTER_PREFIX)] = int(value)
        register.purchases = set(conn.execute(select(t.purchases.c.id)).scalars())
        register.items = list(
            conn.execute(
                select(
                    t.items.c.id,
                    t.items.c.label_code,
                    t.items.c.purchase_id,
                    t.items.c.register_book,
                    t.items.c.register_number,
                )
            )
        )
    return register


def _check_books(register: Register, findings: Findings) -> None:
    """Numbering without gap up to each book's counter; acquisitions with their purchase;
    corrections of entries the book holds."""
    store = register.store
    numbers: dict[str, set[int]] = defaultdict(set)
    for (book, number), entry in register.entries.items():
        numbers[book].add(number)
        if entry.kind == ACQUISITION and entry.purchase_id not in register.purchases:
            findings.add(
                store=store,
                book=book,
                number=number,
                problem="an acquisition entry without its purchase",
                purchase_id=entry.purchase_id,
            )
        elif entry.kind != ACQUISITION and (book, entry.corrects) not in register.entries:
            findings.add(
                store=store,
                book=book,
                number=number,
                problem="a correction of an entry the book does not hold",
                corrects=entry.corrects,
            )
    for book in sorted(set(numbers) | set(register.counters)):
        held = numbers[book]
        last = max(max(held, default=0), register.counters.get(book, 0))
        missing = [n for n in range(1, last + 1) if n not in held]
        if missing:
            findings.add(
                store=store,
                book=book,
                problem="numbers missing from the register",
                missing_numbers=missing[:MAX_NUMBERS],
                missing_count=len(missing),
                last_number=last,
            )


def _check_items(registers: list[Register], findings: Findings) -> int:
    """Each item in exactly one acquisition entry, of the store that bought it; the items
    whose buying store was not given to the checker (not checked)."""
    buyer = {purchase: r for r in registers for purchase in r.purchases}
    elsewhere = 0
    for register in registers:
        for item in register.items:
            acquiring = buyer.get(item.purchase_id)
            if acquiring is None:
                elsewhere += 1
                continue
            where = acquiring.acquired.get(item.label_code, [])
            named = (item.register_book, item.register_number)
            what = {
                "store": register.store,
                "item_id": item.id,
                "label_code": item.label_code,
                "entry": {"store": acquiring.store, "book": named[0], "number": named[1]},
            }
            if len(where) != 1:
                findings.add(
                    problem=f"the item is in {len(where)} acquisition entries, not one",
                    entries=[{"book": b, "number": n} for b, n in where],
                    **what,
                )
            elif where[0] != named:
                findings.add(problem="the entry the item names does not list it", **what)
            elif acquiring.entries[named].purchase_id != item.purchase_id:
                findings.add(
                    problem="the item's entry was written for another purchase",
                    purchase_id=item.purchase_id,
                    entry_purchase_id=acquiring.entries[named].purchase_id,
                    **what,
                )
    return elsewhere


def _compare_with_central(
    dbs: Databases, number: int, mine: dict[tuple[str, int], Any], findings: Findings
) -> None:
    """Central's copy of the store's register holds the same entries, no more, no fewer."""
    entries = c.register_entries
    with dbs.central_reading() as conn:
        theirs = {
            (row.book, row.number): row
            for row in conn.execute(
                select(
                    entries.c.book, entries.c.number, entries.c.kind, entries.c.purchase_id
                ).where(entries.c.store_number == number)
            )
        }
    for key in sorted(set(mine) | set(theirs)):
        store_entry, central_entry = mine.get(key), theirs.get(key)
        if store_entry is None:
            problem = "central's copy holds an entry the store's register does not"
        elif central_entry is None:
            problem = "central's copy of the register lacks the entry"
        elif store_entry.kind != central_entry.kind or (
            # A correction restates its original's purchase at the store; central keeps none.
            store_entry.kind == ACQUISITION and store_entry.purchase_id != central_entry.purchase_id
        ):
            problem = "central's copy of the entry differs"
        else:
            continue
        findings.add(store=number, book=key[0], number=key[1], problem=problem)


def check_police_register(dbs: Databases) -> InvariantResult:
    findings = Findings()
    registers = [_read(store) for store in dbs.stores]
    for register in registers:
        _check_books(register, findings)
        _compare_with_central(dbs, register.store, register.entries, findings)
    elsewhere = _check_items(registers, findings)
    return findings.result(
        2,
        stores=len(registers),
        entries=sum(len(r.entries) for r in registers),
        items=sum(len(r.items) for r in registers),
        items_bought_by_stores_not_checked=elsewhere,
    )
