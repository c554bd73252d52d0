"""Reconciliation (docs/sync-protocol.md, "Reconciliation"): per store and business day, what
central computed from the events against what the store declared in its daily closing.

Central's figures come from its read models: purchases, sales and returns of the day (count
and sum of totals; a return's total is negative, as on its ticket), and the perpetual grand
total (central's previous daily closing's grand total plus the day's tickets). The store's
come from its daily `PeriodClosed` event: the closing's own counts and totals, its grand total,
and, when the store sends them, the `day_totals` of purchases, sales and returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select, union

from recommerce.central.db import sync_tables as s
from recommerce.central.db import tables as t
from recommerce.fiscal.closings import Period
from recommerce.pos.ticket import TicketKind

FIGURES = ("purchases", "sales", "returns")


@dataclass(frozen=True)
class Totals:
    count: int = 0
    total_cents: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"count": self.count, "total_cents": self.total_cents}


@dataclass(frozen=True)
class DayFigures:
    """One store's business day as central knows it."""

    store_number: int
    day: date
    purchases: Totals
    sales: Totals
    returns: Totals
    closing: dict[str, Any] | None  # the daily closing received, if any
    last_applied_seq: int  # central's figures include the store's events up to this seq

    def as_dict(self) -> dict[str, Any]:
        return {
            "store_number": self.store_number,
            "day": self.day.isoformat(),
            "purchases": self.purchases.as_dict(),
            "sales": self.sales.as_dict(),
            "returns": self.returns.as_dict(),
            "closing": self.closing,
            "last_applied_seq": self.last_applied_seq,
        }


@dataclass(frozen=True)
class Difference:
    figure: str  # "sales.count", "grand_total_cents", ...
    central: int
    store: int


@dataclass
class DayReport:
    store_number: int
    day: date
    closing_received: bool
    differences: list[Difference] = field(default_factory=list)

    @property
    def status(self) -> str:
        if not self.closing_received:
            return "no_closing"
        return "differs" if self.differences else "agrees"

    def as_dict(self) -> dict[str, Any]:
        return {
            "store_number": self.store_number,
            "day": self.day.isoformat(),
            "status": self.status,
            "differences": [
                {"figure": d.figure, "central": d.central, "store": d.store}
                for d in self.differences
            ],
        }


def _totals(conn: Connection, table: Any, store_number: int, day: date, *where: Any) -> Totals:
    count, cents = conn.execute(
        select(func.count(), func.coalesce(func.sum(table.c.total_cents), 0)).where(
            table.c.store_number == store_number, table.c.business_day == day, *where
        )
    ).one()
    return Totals(int(count), int(cents))


def _daily_closing(conn: Connection, store_number: int, day: date) -> Any:
    return conn.execute(
        select(s.closings).where(
            s.closings.c.store_number == store_number,
            s.closings.c.period == Period.DAY.value,
            s.closings.c.label == day.isoformat(),
        )
    ).first()


def _previous_grand_total(conn: Connection, store_number: int, day: date) -> int:
    """The grand total of central's last daily closing before `day` (0 before the first)."""
    value = conn.execute(
        select(s.closings.c.grand_total_cents)
        .where(
            s.closings.c.store_number == store_number,
            s.closings.c.period == Period.DAY.value,
            s.closings.c.label < day.isoformat(),
        )
        .order_by(s.closings.c.label.desc())
        .limit(1)
    ).scalar()
    return int(value or 0)


def day_figures(conn: Connection, store_number: int, day: date) -> DayFigures:
    tickets = s.tickets
    closing = _daily_closing(conn, store_number, day)
    applied = conn.execute(
        select(s.sync_cursors.c.last_applied_seq).where(
            s.sync_cursors.c.store_number == store_number
        )
    ).scalar()
    return DayFigures(
        store_number=store_number,
        day=day,
        purchases=_totals(conn, s.purchases, store_number, day),
        sales=_totals(conn, tickets, store_number, day, tickets.c.kind == TicketKind.SALE.value),
        returns=_totals(
            conn, tickets, store_number, day, tickets.c.kind == TicketKind.RETURN.value
        ),
        closing=None
        if closing is None
        else {
            "seq": closing.seq,
            "sales_count": closing.sales_count,
            "returns_count": closing.returns_count,
            "total_cents": closing.total_cents,
            "grand_total_cents": closing.grand_total_cents,
            "closed_at": closing.closed_at.isoformat(),
        },
        last_applied_seq=int(applied or 0),
    )


def reconcile_day(conn: Connection, store_number: int, day: date) -> DayReport:
    figures = day_figures(conn, store_number, day)
    closing = _daily_closing(conn, store_number, day)
    report = DayReport(store_number, day, closing_received=closing is not None)
    if closing is None:
        return report
    sales, returns = figures.sales, figures.returns
    tickets_total = sales.total_cents + returns.total_cents
    pairs: list[tuple[str, int, int]] = [
        ("closing.sales_count", sales.count, closing.sales_count),
        ("closing.returns_count", returns.count, closing.returns_count),
        ("closing.total_cents", tickets_total, closing.total_cents),
        (
            "closing.grand_total_cents",
            _previous_grand_total(conn, store_number, day) + tickets_total,
            closing.grand_total_cents,
        ),
    ]
    declared = closing.day_totals
    if isinstance(declared, dict):
        for name in FIGURES:
            ours: Totals = getattr(figures, name)
            theirs = declared.get(name) or {}
            pairs.append((f"{name}.count", ours.count, theirs.get("count", 0)))
            pairs.append((f"{name}.total_cents", ours.total_cents, theirs.get("total_cents", 0)))
    report.differences = [
        Difference(figure, ours_, theirs_) for figure, ours_, theirs_ in pairs if ours_ != theirs_
    ]
    return report


def business_days(conn: Connection, store_number: int) -> list[date]:
    """Every day with a purchase, a ticket or a daily closing of the store, in order."""
    days = union(
        select(s.purchases.c.business_day.label("day")).where(
            s.purchases.c.store_number == store_number
        ),
        select(s.tickets.c.business_day.label("day")).where(
            s.tickets.c.store_number == store_number
        ),
    )
    found = {row for row in conn.execute(days).scalars()}
    for label in conn.execute(
        select(s.closings.c.label).where(
            s.closings.c.store_number == store_number, s.closings.c.period == Period.DAY.value
        )
    ).scalars():
        found.add(date.fromisoformat(label))
    return sorted(found)


def reconcile(
    conn: Connection, *, store_number: int | None = None, day: date | None = None
) -> list[DayReport]:
    """Every (store, day) report, stores in number order; a store or a day narrows it."""
    query = select(t.stores.c.number).order_by(t.stores.c.number)
    if store_number is not None:
        query = query.where(t.stores.c.number == store_number)
    reports: list[DayReport] = []
    for number in conn.execute(query).scalars():
        days = business_days(conn, number)
        if day is not None:
            # A store named on the command line is reported even for a day without activity.
            days = [day] if day in days or store_number is not None else []
        reports.extend(reconcile_day(conn, number, d) for d in days)
    return reports
