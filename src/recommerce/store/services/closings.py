"""Daily, monthly and yearly closings (rule D.19): each a chained, signed journal record with
the period's totals and the perpetual grand total."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select

from recommerce.errors import Conflict, DomainError, ErrorCode
from recommerce.fiscal.archive import write_archive
from recommerce.fiscal.closings import Period, closing_fields, closing_record_label
from recommerce.fiscal.journal import CLOSING, TICKET, JournalRecord, append_sealed
from recommerce.staff.model import Permission, StaffMember
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t
from recommerce.store.db.till import record_from_row
from recommerce.store.sync.totals import day_totals
from recommerce.sync.events import PERIOD_CLOSED, Event

SUB_PERIOD = {Period.MONTH: Period.DAY, Period.YEAR: Period.MONTH}


@dataclass(frozen=True, slots=True)
class Span:
    """A period as local days, first and last included."""

    period: Period
    label: str
    first: date
    last: date

    @classmethod
    def parse(cls, period: Period, label: str) -> Span:
        try:
            if period is Period.DAY:
                day = date.fromisoformat(label)
                return cls(period, day.isoformat(), day, day)
            if period is Period.MONTH:
                year, month = (int(x) for x in label.split("-"))
                end = calendar.monthrange(year, month)[1]
                return cls(
                    period, f"{year:04d}-{month:02d}", date(year, month, 1), date(year, month, end)
                )
            year = int(label)
            return cls(period, f"{year:04d}", date(year, 1, 1), date(year, 12, 31))
        except ValueError as exc:
            raise DomainError(
                f"{label!r} is not a {period.value} (2026-11-20, 2026-11 or 2026)", field="label"
            ) from exc

    def bounds(self, node: StoreNode) -> tuple[datetime, datetime]:
        zone = node.settings.zone
        start = datetime.combine(self.first, time(0), tzinfo=zone).astimezone(UTC)
        end = datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
        return start, end


def _last_closing(conn: Connection, period: Period) -> Any:
    return conn.execute(
        select(t.closings)
        .where(t.closings.c.period == period.value)
        .order_by(t.closings.c.label.desc())
        .limit(1)
    ).first()


def _records(conn: Connection, *conditions: Any) -> list[JournalRecord]:
    rows = conn.execute(
        select(t.fiscal_journal).where(*conditions).order_by(t.fiscal_journal.c.seq)
    )
    return [record_from_row(r._mapping) for r in rows]


def close_period(node: StoreNode, staff: StaffMember, period: Period, label: str) -> JournalRecord:
    staff.require(Permission.CLOSE_PERIOD)
    span = Span.parse(period, label)
    now = node.clock.now()
    today = now.astimezone(node.settings.zone).date()
    if span.first > today or (period is not Period.DAY and span.last >= today):
        raise DomainError(
            f"the {period.value} {span.label} is not over yet",
            code=ErrorCode.INVALID_INPUT,
            field="label",
        )
    start, end = span.bounds(node)
    with node.uow() as uow:
        conn = uow.conn
        seq = uow.journal.next_seq()  # locks the journal until commit: one closing at a time
        if conn.execute(
            select(t.closings.c.seq).where(
                t.closings.c.period == period.value, t.closings.c.label == span.label
            )
        ).first():
            raise Conflict(f"the {period.value} {span.label} is already closed", field="label")
        last = _last_closing(conn, period)
        if last is not None and last.label > span.label:
            raise Conflict(
                f"{period.value} {last.label} is already closed: periods close in order",
                field="label",
            )
        in_period = (t.fiscal_journal.c.occurred_at >= start, t.fiscal_journal.c.occurred_at < end)
        if period is Period.DAY:
            records = _records(conn, t.fiscal_journal.c.kind == TICKET, *in_period)
        else:
            sub = SUB_PERIOD[period]
            _require_sub_periods_closed(conn, span, sub, start, end, node.settings.zone)
            sub_closings = select(t.closings.c.seq).where(
                t.closings.c.period == sub.value, t.closings.c.label.like(f"{span.label}-%")
            )
            records = _records(conn, t.fiscal_journal.c.seq.in_(sub_closings))
        fields = closing_fields(
            period=period,
            label=span.label,
            records=records,
            previous_grand_total_cents=last.grand_total_cents if last is not None else 0,
        )
        record = append_sealed(
            uow.journal,
            seq,
            kind=CLOSING,
            label=closing_record_label(period, span.label),
            occurred_at=now,
            fields=fields,
            key=node.fiscal_key,
        )
        conn.execute(
            insert(t.closings).values(
                period=period.value,
                label=span.label,
                seq=seq,
                grand_total_cents=fields["grand_total_cents"],
                closed_at=now,
                closed_by=staff.id,
            )
        )
        payload = {"seq": seq, "hash": record.hash, "staff_id": staff.id, **fields}
        if period is Period.DAY:
            # For reconciliation with central: in the event only, not in the signed record.
            payload["day_totals"] = day_totals(conn, span.first, node.settings.zone).as_payload()
        uow.outbox.add(Event(type=PERIOD_CLOSED, occurred_at=now, payload=payload))
        uow.commit()
    return record


def _require_sub_periods_closed(
    conn: Connection, span: Span, sub: Period, start: datetime, end: datetime, zone: tzinfo
) -> None:
    """A month closes once every day with tickets in it is closed; a year, every month."""
    if sub is Period.DAY:
        days = conn.execute(
            select(t.fiscal_journal.c.occurred_at).where(
                t.fiscal_journal.c.kind == TICKET,
                t.fiscal_journal.c.occurred_at >= start,
                t.fiscal_journal.c.occurred_at < end,
            )
        ).scalars()
        needed = {d.astimezone(zone).date().isoformat() for d in days}
    else:
        needed = {
            label[:7]
            for label in conn.execute(
                select(t.closings.c.label).where(
                    t.closings.c.period == Period.DAY.value,
                    t.closings.c.label.like(f"{span.label}-%"),
                )
            ).scalars()
        }
    closed = set(
        conn.execute(
            select(t.closings.c.label).where(
                t.closings.c.period == sub.value, t.closings.c.label.like(f"{span.label}-%")
            )
        ).scalars()
    )
    missing = sorted(needed - closed)
    if missing:
        raise DomainError(
            f"close the {sub.value} {missing[0]} first",
            code=ErrorCode.INVALID_INPUT,
            field="label",
            missing=missing,
        )


def list_closings(node: StoreNode, period: Period | None = None) -> list[dict[str, Any]]:
    query = select(t.closings).order_by(t.closings.c.period, t.closings.c.label)
    if period is not None:
        query = query.where(t.closings.c.period == period.value)
    with node.reading() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def archive_year(node: StoreNode, year: int, directory: Path) -> list[Path]:
    """The signed yearly archive (rule D.19): every journal record after the previous yearly
    closing up to this year's, readable and checkable without the software."""
    with node.reading() as conn:
        closing = conn.execute(
            select(t.closings.c.seq).where(
                t.closings.c.period == Period.YEAR.value, t.closings.c.label == f"{year:04d}"
            )
        ).scalar_one_or_none()
        if closing is None:
            raise DomainError(f"close the year {year} before archiving it", field="year")
        before = (
            conn.execute(
                select(t.closings.c.seq)
                .where(t.closings.c.period == Period.YEAR.value, t.closings.c.label < f"{year:04d}")
                .order_by(t.closings.c.label.desc())
                .limit(1)
            ).scalar_one_or_none()
            or 0
        )
        records = _records(conn, t.fiscal_journal.c.seq > before, t.fiscal_journal.c.seq <= closing)
    return write_archive(
        directory,
        year=year,
        store_number=node.settings.store_number,
        records=records,
        key=node.fiscal_key,
    )
