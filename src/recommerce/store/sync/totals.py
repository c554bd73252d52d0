"""The store's own figures of one business day (its local date): purchases, sales and returns,
counted and summed as central counts them from the events, so the two can be compared.

A return's total is negative, as on its ticket. The daily closing declares these figures to
central (`day_totals` of its `PeriodClosed` event) and `sync reconcile` compares them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import Connection, Table, func, select

from recommerce.fiscal.closings import Period
from recommerce.pos.ticket import TicketKind
from recommerce.store.db import tables as t

FIGURES = ("purchases", "sales", "returns")


@dataclass(frozen=True, slots=True)
class Totals:
    count: int
    total_cents: int

    def as_dict(self) -> dict[str, int]:
        return {"count": self.count, "total_cents": self.total_cents}


@dataclass(frozen=True, slots=True)
class DayTotals:
    purchases: Totals
    sales: Totals
    returns: Totals

    def as_payload(self) -> dict[str, dict[str, int]]:
        """The `day_totals` of a daily closing's event."""
        return {name: getattr(self, name).as_dict() for name in FIGURES}


def day_bounds(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The UTC instants a local business day starts and ends at (DST days included)."""
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def _totals(conn: Connection, table: Table, start: datetime, end: datetime, *where: Any) -> Totals:
    count, cents = conn.execute(
        select(func.count(), func.coalesce(func.sum(table.c.total_cents), 0)).where(
            table.c.occurred_at >= start, table.c.occurred_at < end, *where
        )
    ).one()
    return Totals(int(count), int(cents))


def day_totals(conn: Connection, day: date, zone: tzinfo) -> DayTotals:
    start, end = day_bounds(day, zone)
    kind = t.tickets.c.kind
    return DayTotals(
        purchases=_totals(conn, t.purchases, start, end),
        sales=_totals(conn, t.tickets, start, end, kind == TicketKind.SALE.value),
        returns=_totals(conn, t.tickets, start, end, kind == TicketKind.RETURN.value),
    )


def daily_grand_total(conn: Connection, day: date) -> int | None:
    """The perpetual grand total of the day's closing, or None while the day is not closed."""
    value = conn.execute(
        select(t.closings.c.grand_total_cents).where(
            t.closings.c.period == Period.DAY.value, t.closings.c.label == day.isoformat()
        )
    ).scalar_one_or_none()
    return None if value is None else int(value)
