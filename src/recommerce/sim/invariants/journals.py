"""Invariant 3: every fiscal chain verifies, and any change to a past ticket or closing is
detected (business-rules D.16, D.17, D.20).

Each store's journal is walked by the store's own verification (`recommerce fiscal verify`):
the chain of hashes, every signature with the store's key, no record missing at its end, and
every ticket in the ticket tables exactly as its signed record says. Central's copy of each
chain (the seq and hash of every record the store sent) must still match: a record rewritten
after it was sent, key and all, shows there.
"""

from __future__ import annotations

from sqlalchemy import select

from recommerce.central.db import sync_tables as c
from recommerce.sim.invariants.databases import Databases, OpenStore
from recommerce.sim.invariants.results import Findings, InvariantResult
from recommerce.store.db import tables as t
from recommerce.store.services.fiscal import verify_store_journal


def _verify(store: OpenStore, findings: Findings) -> int:
    """The store's own verification; the records it checked."""
    try:
        node = store.node()
    except (OSError, ValueError) as exc:  # no key, or not a readable key
        findings.add(store=store.number, problem="the journal's key cannot be read", reason=exc)
        return 0
    result = verify_store_journal(node)
    if result.failure is not None:
        findings.add(
            store=store.number,
            seq=result.failure.seq,
            label=result.failure.label,
            problem=result.failure.reason,
        )
    return result.checked


def _compare_with_central(store: OpenStore, dbs: Databases, findings: Findings) -> None:
    journal = t.fiscal_journal
    with store.reading() as conn:
        mine = {
            row.seq: row
            for row in conn.execute(select(journal.c.seq, journal.c.hash, journal.c.label))
        }
    copy = c.journal_records
    with dbs.central_reading() as conn:
        theirs = conn.execute(
            select(copy.c.seq, copy.c.hash, copy.c.label)
            .where(copy.c.store_number == store.number)
            .order_by(copy.c.seq)
        ).all()
    for record in theirs:
        own = mine.get(record.seq)
        if own is None:
            findings.add(
                store=store.number,
                seq=record.seq,
                label=record.label,
                problem="the store's journal no longer holds a record central received",
            )
        elif own.hash != record.hash:
            findings.add(
                store=store.number,
                seq=record.seq,
                label=own.label,
                problem="the record differs from the copy central received: changed since",
            )


def check_fiscal_chains(dbs: Databases) -> InvariantResult:
    findings = Findings()
    checked = 0
    for store in dbs.stores:
        checked += _verify(store, findings)
        _compare_with_central(store, dbs, findings)
    return findings.result(3, stores=len(dbs.stores), records_verified=checked)
