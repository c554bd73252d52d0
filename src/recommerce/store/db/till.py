"""Repositories of the till: tickets, the fiscal journal and store credits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from recommerce.errors import DomainError, ErrorCode
from recommerce.fiscal.journal import Head, JournalRecord
from recommerce.fiscal.vat import TaxedLine
from recommerce.inventory.model import VatRegime
from recommerce.money import Money
from recommerce.pos.tenders import Tender, TenderKind
from recommerce.pos.ticket import Ticket, TicketKind, TicketLine
from recommerce.store.db import tables as t
from recommerce.store.db.repositories import next_value

JOURNAL_COUNTER = "journal"

# The till's statements are built once; each sale only binds its values.
_INSERT_TICKET = insert(t.tickets)
_INSERT_LINES = insert(t.ticket_lines)
_INSERT_TENDERS = insert(t.ticket_tenders)
_INSERT_RECORD = insert(t.fiscal_journal)
_OPEN_SESSION = select(t.open_tills.c.session_id).where(t.open_tills.c.till == bindparam("till"))
_TICKET_ID = select(t.tickets.c.id).where(t.tickets.c.display_number == bindparam("number"))
_HASH = select(t.fiscal_journal.c.hash).where(t.fiscal_journal.c.seq == bindparam("seq"))
_TILL_STATE = select(
    _OPEN_SESSION.scalar_subquery().label("session_id"),
    select(t.closings.c.label)
    .where(t.closings.c.period == "day", t.closings.c.label >= bindparam("day"))
    .exists()
    .label("day_closed"),
)


@dataclass
class SqlTickets:
    conn: Connection

    def next_number(self, till: str) -> int:
        return next_value(self.conn, f"ticket:{till}", create=True)

    def add(self, ticket: Ticket) -> None:
        refers_to = None
        if ticket.refers_to is not None:
            refers_to = self.conn.execute(_TICKET_ID, {"number": ticket.refers_to}).scalar_one()
        self.conn.execute(
            _INSERT_TICKET,
            {
                "id": ticket.id,
                "store_number": ticket.store_number,
                "till": ticket.till,
                "number": ticket.number,
                "display_number": ticket.display_number,
                "kind": ticket.kind.value,
                "occurred_at": ticket.occurred_at,
                "staff_id": ticket.staff_id,
                "total_cents": ticket.total.cents,
                "change_cents": ticket.change.cents,
                "refers_to": refers_to,
                "non_resident_proof": ticket.non_resident_proof,
                "session_id": ticket.session_id,
            },
        )
        self.conn.execute(
            _INSERT_LINES,
            [
                {
                    "ticket_id": ticket.id,
                    "line_no": n,
                    "item_id": line.item_id,
                    "label_code": line.label_code,
                    "article_name": line.article_name,
                    "unit_price_cents": line.unit_price.cents,
                    "discount_cents": line.discount.cents,
                    "price_cents": line.price.cents,
                    "vat_regime": line.taxed.regime.value,
                    "vat_rate": str(line.taxed.rate),
                    "vat_cents": line.taxed.vat.cents,
                }
                for n, line in enumerate(ticket.lines, start=1)
            ],
        )
        if ticket.tenders:
            self.conn.execute(
                _INSERT_TENDERS,
                [
                    {
                        "ticket_id": ticket.id,
                        "line_no": n,
                        "kind": tender.kind.value,
                        "amount_cents": tender.amount.cents,
                        "reference": tender.reference,
                    }
                    for n, tender in enumerate(ticket.tenders, start=1)
                ],
            )

    def till_state(self, till: str, day: date) -> tuple[str | None, bool]:
        row = self.conn.execute(_TILL_STATE, {"till": till, "day": day.isoformat()}).one()
        return row.session_id, bool(row.day_closed)

    def get(self, display_number: str) -> Ticket | None:
        row = self.conn.execute(
            select(t.tickets).where(t.tickets.c.display_number == display_number)
        ).first()
        return self._ticket(row._mapping) if row else None

    def get_by_id(self, ticket_id: str) -> Ticket | None:
        row = self.conn.execute(select(t.tickets).where(t.tickets.c.id == ticket_id)).first()
        return self._ticket(row._mapping) if row else None

    def returned_items(self, sale_id: str) -> set[str]:
        """Items of a sale already brought back on an earlier return."""
        returns = select(t.tickets.c.id).where(t.tickets.c.refers_to == sale_id)
        return set(
            self.conn.execute(
                select(t.ticket_lines.c.item_id).where(t.ticket_lines.c.ticket_id.in_(returns))
            ).scalars()
        )

    def refunded(self, sale_id: str) -> dict[TenderKind, Money]:
        """What earlier returns of a sale already gave back, per tender kind (positive)."""
        returns = select(t.tickets.c.id).where(t.tickets.c.refers_to == sale_id)
        rows = self.conn.execute(
            select(t.ticket_tenders.c.kind, func.sum(t.ticket_tenders.c.amount_cents))
            .where(t.ticket_tenders.c.ticket_id.in_(returns))
            .group_by(t.ticket_tenders.c.kind)
        ).all()
        return {TenderKind(kind): Money(-int(cents)) for kind, cents in rows}

    def _ticket(self, row: Any) -> Ticket:
        lines = self.conn.execute(
            select(t.ticket_lines)
            .where(t.ticket_lines.c.ticket_id == row["id"])
            .order_by(t.ticket_lines.c.line_no)
        ).all()
        tenders = self.conn.execute(
            select(t.ticket_tenders)
            .where(t.ticket_tenders.c.ticket_id == row["id"])
            .order_by(t.ticket_tenders.c.line_no)
        ).all()
        refers_to = None
        if row["refers_to"]:
            refers_to = self.conn.execute(
                select(t.tickets.c.display_number).where(t.tickets.c.id == row["refers_to"])
            ).scalar_one()
        return Ticket(
            id=row["id"],
            store_number=row["store_number"],
            till=row["till"],
            number=row["number"],
            kind=TicketKind(row["kind"]),
            occurred_at=row["occurred_at"],
            staff_id=row["staff_id"],
            lines=tuple(
                TicketLine(
                    item_id=line.item_id,
                    label_code=line.label_code,
                    article_name=line.article_name,
                    unit_price=Money(line.unit_price_cents),
                    discount=Money(line.discount_cents),
                    taxed=TaxedLine(
                        regime=VatRegime(line.vat_regime),
                        rate=Fraction(line.vat_rate),
                        price=Money(line.price_cents),
                        vat=Money(line.vat_cents),
                    ),
                )
                for line in lines
            ),
            tenders=tuple(
                Tender(kind=TenderKind(x.kind), amount=Money(x.amount_cents), reference=x.reference)
                for x in tenders
            ),
            change=Money(row["change_cents"]),
            refers_to=refers_to,
            non_resident_proof=row["non_resident_proof"],
        )


@dataclass
class SqlJournal:
    conn: Connection

    def next_seq(self) -> int:
        return next_value(self.conn, JOURNAL_COUNTER)

    def head(self, seq: int) -> Head | None:
        """The seq and hash of one record, without decoding its fields."""
        digest = self.conn.execute(_HASH, {"seq": seq}).scalar_one_or_none()
        return Head(seq, digest) if digest is not None else None

    def append(self, record: JournalRecord) -> None:
        self.conn.execute(
            _INSERT_RECORD,
            {
                "seq": record.seq,
                "kind": record.kind,
                "label": record.label,
                "occurred_at": record.occurred_at,
                "fields": dict(record.fields),
                "previous_hash": record.previous_hash,
                "hash": record.hash,
                "signature": record.signature,
            },
        )


def record_from_row(row: Any) -> JournalRecord:
    return JournalRecord(
        seq=row["seq"],
        kind=row["kind"],
        label=row["label"],
        occurred_at=row["occurred_at"],
        fields=row["fields"],
        previous_hash=row["previous_hash"],
        hash=row["hash"],
        signature=row["signature"],
    )


@dataclass
class SqlStoreCredits:
    conn: Connection

    def debit(self, code: str, amount: Money) -> None:
        done = self.conn.execute(
            update(t.store_credits)
            .where(t.store_credits.c.code == code, t.store_credits.c.balance_cents >= amount.cents)
            .values(balance_cents=t.store_credits.c.balance_cents - amount.cents)
        ).rowcount
        if done != 1:
            raise DomainError(
                f"store credit {code!r} is unknown or holds less than {amount}",
                code=ErrorCode.STORE_CREDIT_INVALID,
                field="tenders",
            )

    def issue(self, code: str, amount: Money, *, ticket_id: str, at: datetime, by: str) -> None:
        self.conn.execute(
            insert(t.store_credits).values(
                code=code,
                issued_cents=amount.cents,
                balance_cents=amount.cents,
                issued_at=at,
                issued_by=by,
                ticket_id=ticket_id,
            )
        )

    def balance(self, code: str) -> Money | None:
        value = self.conn.execute(
            select(t.store_credits.c.balance_cents).where(t.store_credits.c.code == code)
        ).scalar_one_or_none()
        return Money(value) if value is not None else None
