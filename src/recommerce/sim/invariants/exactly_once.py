"""Invariant 4: every event acknowledged by central is applied exactly once; none is lost when
a store or central is killed (architecture.md section 4).

The store's outbox is what it told central (`acked_at` marks what central acknowledged);
central's `events` table is what central holds, under the store's own seq, and its cursor is
how far it applied. Once sync is idle: the outbox is gapless, each acknowledged event is in
central's log once under its seq (not lost, not in quarantine), central holds nothing the
store never wrote, its cursor is the log's end, nothing waits unacknowledged, and the read
models central built (items, purchases, tickets) agree with the store's own tables.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import Connection, func, select

from recommerce.central.db import sync_tables as c
from recommerce.sim.invariants.databases import Databases
from recommerce.sim.invariants.results import Findings, InvariantResult
from recommerce.store.db import tables as t
from recommerce.store.sync.pusher import head_seq

Log = list[tuple[int, str, str]]  # (seq, event_id, type), in seq order


class ReadModels(NamedTuple):
    items: dict[str, str]  # item id -> status
    purchases: dict[str, int]  # purchase id -> total
    tickets: dict[str, int]  # ticket id -> total


def outbox_log(conn: Connection) -> Log:
    """The store's outbox, in seq order."""
    box = t.outbox
    rows = conn.execute(select(box.c.seq, box.c.event_id, box.c.type).order_by(box.c.seq))
    return [(r.seq, r.event_id, r.type) for r in rows]


def event_log(conn: Connection, store_number: int) -> Log:
    """Central's event log of the store, in seq order."""
    ev = c.events
    rows = conn.execute(
        select(ev.c.seq, ev.c.event_id, ev.c.type)
        .where(ev.c.store_number == store_number)
        .order_by(ev.c.seq)
    )
    return [(r.seq, r.event_id, r.type) for r in rows]


def applied_seq(conn: Connection, store_number: int) -> int | None:
    """The last seq central applied of the store; None before it applied any (a feed poll
    alone records the store's contact with a cursor at 0)."""
    applied = conn.execute(
        select(c.sync_cursors.c.last_applied_seq).where(
            c.sync_cursors.c.store_number == store_number
        )
    ).scalar_one_or_none()
    return applied or None


def quarantined(conn: Connection, store_number: int | None = None) -> int:
    query = select(func.count()).select_from(c.quarantine)
    if store_number is not None:
        query = query.where(c.quarantine.c.store_number == store_number)
    return int(conn.execute(query).scalar_one())


def store_read_models(conn: Connection) -> ReadModels:
    """The store's own items, purchases and tickets, as central's read models hold them."""
    return ReadModels(
        dict(conn.execute(select(t.items.c.id, t.items.c.status)).all()),
        dict(conn.execute(select(t.purchases.c.id, t.purchases.c.total_cents)).all()),
        dict(conn.execute(select(t.tickets.c.id, t.tickets.c.total_cents)).all()),
    )


def central_read_models(conn: Connection, store_number: int) -> ReadModels:
    """Central's items, purchases and tickets of the store."""
    items, purchases, tickets = c.items, c.purchases, c.tickets
    return ReadModels(
        dict(
            conn.execute(
                select(items.c.item_id, items.c.status).where(items.c.store_number == store_number)
            ).all()
        ),
        dict(
            conn.execute(
                select(purchases.c.id, purchases.c.total_cents).where(
                    purchases.c.store_number == store_number
                )
            ).all()
        ),
        dict(
            conn.execute(
                select(tickets.c.id, tickets.c.total_cents).where(
                    tickets.c.store_number == store_number
                )
            ).all()
        ),
    )


def check_exactly_once(
    store_conn: Connection, central_conn: Connection, store_number: int, findings: Findings
) -> int:
    """Add what is wrong with the store's events at central to `findings`; the events the
    store wrote."""
    box = t.outbox
    outbox = store_conn.execute(
        select(box.c.seq, box.c.event_id, box.c.type, box.c.acked_at).order_by(box.c.seq)
    ).all()
    head = head_seq(store_conn)
    log = {seq: (event_id, kind) for seq, event_id, kind in event_log(central_conn, store_number)}
    parked = {
        row.seq: row.reason
        for row in central_conn.execute(
            select(c.quarantine.c.seq, c.quarantine.c.reason).where(
                c.quarantine.c.store_number == store_number
            )
        )
    }
    store = store_number

    seqs = [row.seq for row in outbox]
    if seqs != list(range(1, head + 1)):
        present = set(seqs)
        missing = [s for s in range(1, head + 1) if s not in present]
        findings.add(
            store=store,
            problem="the store's outbox is not gapless up to its head",
            head_seq=head,
            missing_seqs=missing[:50],
            beyond_head=[s for s in seqs if s > head][:50],
        )

    pending = [row for row in outbox if row.acked_at is None]
    if pending:
        findings.add(
            store=store,
            problem="events not acknowledged yet: sync is not idle",
            count=len(pending),
            first_seq=pending[0].seq,
            first_type=pending[0].type,
        )
    acked_seq = store_conn.execute(select(t.sync_state.c.acked_seq)).scalar() or 0
    marked = [row.seq for row in outbox if (row.acked_at is not None) != (row.seq <= acked_seq)]
    if marked:
        findings.add(
            store=store,
            problem="the outbox's acknowledgement marks disagree with the store's acked seq",
            acked_seq=acked_seq,
            seqs=marked[:50],
        )
    written = {row.seq: row for row in outbox}
    for row in outbox:
        if row.acked_at is None:
            continue
        held = log.get(row.seq)
        what = {"store": store, "seq": row.seq, "type": row.type, "event_id": row.event_id}
        if held is None and row.seq in parked:
            findings.add(problem="acknowledged, then quarantined", reason=parked[row.seq], **what)
        elif held is None:
            findings.add(problem="acknowledged but missing at central: lost", **what)
        elif held[0] != row.event_id:
            findings.add(
                problem="central holds another event under this seq",
                central_event_id=held[0],
                central_type=held[1],
                **what,
            )
    for seq, (event_id, kind) in sorted(log.items()):
        if seq not in written:
            findings.add(
                store=store,
                seq=seq,
                type=kind,
                event_id=event_id,
                problem="central holds an event the store never wrote",
            )

    cursor = applied_seq(central_conn, store) or 0
    end = max(log, default=0)
    if cursor != end:
        findings.add(
            store=store,
            problem="central's cursor is not the end of its event log",
            cursor=cursor,
            log_ends_at=end,
        )
    if not pending:
        _compare_read_models(store_conn, central_conn, store, findings)
    return len(outbox)


def _compare_read_models(
    store_conn: Connection, central_conn: Connection, store: int, findings: Findings
) -> None:
    mine = store_read_models(store_conn)
    theirs = central_read_models(central_conn, store)
    items = dict(mine.items)
    # An item this store sent to another one keeps its row here, in transit, as the trace of
    # its leaving; once the other store received it, central holds it there.
    sent = [i for i, status in items.items() if status == "in_transit" and i not in theirs.items]
    if sent:
        received_elsewhere = set(
            central_conn.execute(
                select(c.items.c.item_id).where(
                    c.items.c.item_id.in_(sent), c.items.c.store_number != store
                )
            ).scalars()
        )
        items = {i: status for i, status in items.items() if i not in received_elsewhere}
    pairs: list[tuple[str, dict[str, object], dict[str, object]]] = [
        ("items", dict(items), dict(theirs.items)),
        ("purchases", dict(mine.purchases), dict(theirs.purchases)),
        ("tickets", dict(mine.tickets), dict(theirs.tickets)),
    ]
    for table, own, copy in pairs:
        for key in sorted(set(own) | set(copy)):
            if own.get(key) != copy.get(key):
                findings.add(
                    store=store,
                    problem=f"central's {table} differ from the store's",
                    id=key,
                    at_store=own.get(key),
                    at_central=copy.get(key),
                )


def check_events_exactly_once(dbs: Databases) -> InvariantResult:
    findings = Findings()
    events = 0
    for store in dbs.stores:
        with store.reading() as mine, dbs.central_reading() as theirs:
            events += check_exactly_once(mine, theirs, store.number, findings)
    return findings.result(4, stores=len(dbs.stores), events=events)
