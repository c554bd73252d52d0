"""Checking the store's fiscal journal and the tickets it vouches for (rule D.20)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Connection, select

from recommerce.fiscal.journal import Failure, JournalRecord, Verification, verify
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t
from recommerce.store.db.till import JOURNAL_COUNTER, SqlTickets, record_from_row

BATCH = 500


def _records(conn: Connection) -> Iterator[JournalRecord]:
    last = 0
    while True:
        rows = conn.execute(
            select(t.fiscal_journal)
            .where(t.fiscal_journal.c.seq > last)
            .order_by(t.fiscal_journal.c.seq)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            yield record_from_row(row._mapping)
        last = rows[-1].seq


def verify_store_journal(node: StoreNode) -> Verification:
    """Walk the chain, check that no record is missing at its end, and that every ticket in
    the ticket tables says exactly what its signed journal record says."""
    with node.engine.connect() as conn:
        result = verify(_records(conn), node.fiscal_key.public_key)
        if not result.ok:
            return result
        issued = conn.execute(
            select(t.counters.c.value).where(t.counters.c.name == JOURNAL_COUNTER)
        ).scalar_one()
        if result.checked != issued:
            missing = result.checked + 1
            return Verification(
                result.checked,
                Failure(
                    missing,
                    f"record {missing}",
                    f"the journal ends at {result.checked} "
                    f"but {issued} records were written: the last ones were deleted",
                ),
            )
        failure = _tickets_match_journal(conn)
        return Verification(result.checked, failure)


def _tickets_match_journal(conn: Connection) -> Failure | None:
    journal_by_ticket = {
        row.fields["ticket_id"]: row
        for row in conn.execute(
            select(
                t.fiscal_journal.c.seq, t.fiscal_journal.c.label, t.fiscal_journal.c.fields
            ).where(t.fiscal_journal.c.kind == "ticket")
        )
    }
    tickets = SqlTickets(conn)
    ticket_ids = conn.execute(select(t.tickets.c.id).order_by(t.tickets.c.occurred_at)).scalars()
    for ticket_id in ticket_ids:
        ticket = tickets.get_by_id(ticket_id)
        record = journal_by_ticket.pop(ticket_id, None)
        if ticket is None or record is None:
            return Failure(0, f"ticket id {ticket_id}", "the ticket has no journal record")
        if ticket.journal_fields() != record.fields:
            changed = sorted(
                k for k in record.fields if ticket.journal_fields().get(k) != record.fields[k]
            )
            return Failure(
                record.seq,
                record.label,
                f"the stored ticket differs from its signed record in: {', '.join(changed)}",
            )
    if journal_by_ticket:
        seq = min(r.seq for r in journal_by_ticket.values())
        return Failure(seq, f"record {seq}", "its ticket was deleted from the ticket tables")
    return None
