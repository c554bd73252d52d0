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
    with node.reading() as conn:
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
    """Every ticket row, its lines and tenders say exactly what its signed record says."""
    journal = t.fiscal_journal
    by_ticket = {
        row.fields["ticket_id"]: row
        for row in conn.execute(
            select(journal.c.seq, journal.c.label, journal.c.occurred_at, journal.c.fields).where(
                journal.c.kind == "ticket"
            )
        )
    }
    tickets = SqlTickets(conn)
    rows = conn.execute(
        select(t.tickets.c.id, t.tickets.c.display_number, t.tickets.c.total_cents).order_by(
            t.tickets.c.occurred_at, t.tickets.c.id
        )
    ).all()
    for row in rows:
        record = by_ticket.pop(row.id, None)
        ticket = tickets.get_by_id(row.id)
        if record is None or ticket is None:
            return Failure(0, f"ticket {row.display_number}", "the ticket has no journal record")
        rebuilt = ticket.journal_fields()
        changed = [k for k in record.fields if rebuilt.get(k) != record.fields[k]]
        if row.display_number != record.fields["number"]:
            changed.append("number")
        if row.total_cents != record.fields["total_cents"]:
            changed.append("total_cents")
        if ticket.occurred_at != record.occurred_at:
            changed.append("occurred_at")
        if changed:
            return Failure(
                record.seq,
                record.label,
                "the stored ticket differs from its signed record in: "
                + ", ".join(sorted(set(changed))),
            )
    if by_ticket:
        orphan = min(by_ticket.values(), key=lambda r: r.seq)
        return Failure(orphan.seq, orphan.label, "its ticket was deleted from the ticket tables")
    return None
