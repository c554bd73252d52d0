"""The sync protocol under faults, on real processes: central and store nodes run under uvicorn
as in life, the stores reach central through a TCP proxy that cuts the link or loses answers,
and either end is killed with SIGKILL (docs/sync-protocol.md, "Upstream").

Whatever happens, central ends up holding each event of a store exactly once, in the store's
order, with read models that agree with the store's own tables. Central's database is SQLite
or PostgreSQL (each test runs on both when RECOMMERCE_TEST_DATABASE_URL is set); the stores
are on SQLite, as in a shop.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import seller
from sync_chain import (
    Backlog,
    Chain,
    kill_inside_apply,
    running_chain,
    wait_until,
    without_fsync,
)

from recommerce.sim.sync_bench import record_activity
from recommerce.store.bootstrap import bootstrap
from recommerce.store.sync.pusher import pending_events
from recommerce.sync.events import SCHEMA_VERSION
from recommerce.sync.protocol import (
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    SCHEMA_HEADER,
    batch_checksum,
)

STORE = 7
OTHER_STORE = 8
BACKLOG_PURCHASES = 1750  # about 3,100 events: purchases of 1-3 objects, then sales of them
OFFLINE_EVENTS = 2000
OFFLINE_PURCHASES = 1150  # and the sales of most of what they bought: over 2,000 events


@pytest.fixture(scope="session")
def backlog(tmp_path_factory: pytest.TempPathFactory) -> Backlog:
    """Store 7 after a busy day it recorded before it was enrolled: made once, copied into
    each test that needs thousands of events waiting to go."""
    made = Backlog.make(
        tmp_path_factory.mktemp("backlog") / "store-007", STORE, BACKLOG_PURCHASES, seed=7
    )
    assert made.events > 2000
    return made


@pytest.fixture
def chain(tmp_path: Path, central_database_url: str) -> Iterator[Chain]:
    with running_chain(tmp_path, central_database_url) as running:
        yield running


def a_seller(n: int) -> dict[str, Any]:
    """Someone selling objects at the counter, a different person for each `n`."""
    person = seller(surname=f"Vendeur {n}")
    person["document"] = {**person["document"], "number": f"T7X2K9L{n:02d}"}
    return person


def test_a_store_killed_while_it_pushes_resends_and_central_applies_each_event_once(
    chain: Chain, backlog: Backlog
) -> None:
    store = chain.store_from(backlog, sync_batch_size=100)
    store.process.start()
    killed_at: list[int] = []
    for _ in range(2):
        # Killed as soon as a new acknowledgement is seen: in the middle of the backlog, a
        # batch on the wire or being applied by central.
        store.wait_acked_beyond(killed_at[-1] if killed_at else 0)
        store.process.kill()
        assert store.process.returncode == -9
        killed_at.append(store.status().acked_seq)
        assert killed_at[-1] < backlog.events, "the store had finished pushing: kill it earlier"
        store.process.start()

    head = chain.wait_drained(store)

    assert head == backlog.events
    chain.assert_exactly_once(store)
    # Central was never killed: its counters cover the whole run. A batch the store sent but
    # did not hear acknowledged before it died came back as duplicates, never applied twice.
    counts = chain.sync_counts(STORE)
    assert counts["applied"] == head
    assert counts["quarantined"] == 0


def test_a_lost_acknowledgement_makes_the_store_resend_and_central_applies_the_batch_once(
    chain: Chain, backlog: Backlog
) -> None:
    # Central applies and commits the first batch, its answer never reaches the store.
    chain.proxy.drop_responses(
        1, request_prefix=f"POST /api/v1/sync/stores/{STORE}/events".encode()
    )
    store = chain.store_from(backlog, sync_batch_size=500)
    store.process.start()

    head = chain.wait_drained(store)

    assert chain.proxy.stats().answers_dropped == 1
    chain.assert_exactly_once(store)
    # The store sent events 1 to 500 again; central answered them as duplicates.
    assert chain.sync_counts(STORE) == {"applied": head, "duplicate": 500, "quarantined": 0}
    assert store.status().last_error is not None  # the store saw its push fail


def test_central_killed_inside_an_apply_keeps_no_part_of_the_batch_and_skips_nothing(
    chain: Chain, backlog: Backlog
) -> None:
    """Central is killed three times inside a batch's transaction. It is frozen (SIGSTOP) at
    a random moment while the store pushes batches of 1,000 events, its database says whether
    a batch's transaction is open (on SQLite it holds the write lock, on PostgreSQL the lock
    of the store's cursor row, from the apply's first statement to its commit), and it is
    killed there; else it runs on and is looked at again a few milliseconds later.
    Under a backlog most of central's time goes to these transactions, so few looks are
    needed. Between kills the store gets at least one batch acknowledged."""
    rng = random.Random(20261120)
    store = chain.store_from(backlog, sync_batch_size=1000)
    store.process.start()
    acked = 0
    for kill in range(3):
        if kill:
            store.wait_acked_beyond(acked)
        kill_inside_apply(chain, rng)
        assert chain.central.returncode == -9
        # Central is down: what it committed are whole batches, up to the one the store heard
        # acknowledged; none of the batch it was applying is left.
        acked = store.status().acked_seq
        assert acked < backlog.events
        assert chain.cursor(STORE) == (acked or None)
        assert [seq for seq, _, _ in chain.event_log(STORE)] == list(range(1, acked + 1))
        _, purchases, tickets = chain.read_models(STORE)
        kinds = [kind for _, _, kind in chain.event_log(STORE)]
        assert len(purchases) == kinds.count("PurchaseRecorded")
        assert len(tickets) == kinds.count("TicketValidated")
        chain.central.start()

    chain.wait_drained(store)

    chain.assert_exactly_once(store)


def test_a_store_offline_for_thousands_of_events_catches_up_in_order(chain: Chain) -> None:
    store = chain.new_store(STORE)
    store.process.start()
    store.open_till()
    store.buy_and_sell(a_seller(1))
    online = chain.wait_drained(store)

    chain.proxy.cut()
    # The store keeps buying and selling: at its counter and till through its API, and a
    # busy day's worth through its own handlers in another process (as its commands write).
    store.buy_and_sell(a_seller(2))
    writer = bootstrap(store.settings, migrate=False)
    try:
        without_fsync(writer)
        record_activity(writer, OFFLINE_PURCHASES, seed=11)
    finally:
        writer.engine.dispose()
    store.buy_and_sell(a_seller(3))

    with store.http() as client:
        offline = client.get("/api/v1/sync/status", headers=store.login("gerant"))
    assert offline.status_code == 200, offline.text
    queued = offline.json()
    assert queued["acked_seq"] == online
    assert queued["queue_events"] == queued["head_seq"] - online >= OFFLINE_EVENTS
    assert queued["last_error"] is not None  # the store sees its pushes fail
    assert chain.sync_status(STORE)["last_applied_seq"] == online

    chain.proxy.restore()
    head = chain.wait_drained(store)

    assert head == queued["head_seq"]
    chain.assert_exactly_once(store)
    assert chain.sync_counts(STORE) == {"applied": head, "duplicate": 0, "quarantined": 0}


def test_a_store_on_the_previous_protocol_version_syncs(chain: Chain) -> None:
    # A store two versions behind is told to upgrade, and keeps selling meanwhile.
    store = chain.new_store(STORE)
    store.use_protocol(PROTOCOL_VERSION - 2)
    store.process.start()
    store.open_till()
    store.buy_and_sell(a_seller(1))
    wait_until(lambda: store.status().blocked_reason is not None, "central refuses protocol 0")
    blocked = store.status()
    assert f"protocol {PROTOCOL_VERSION - 2}" in str(blocked.blocked_reason)
    assert blocked.queue_events == blocked.head_seq >= 2
    assert chain.event_log(STORE) == []

    # Upgraded to the previous version: central serves it.
    store.process.stop()
    store.use_protocol(PROTOCOL_VERSION - 1)
    store.process.start()
    store.buy_and_sell(a_seller(2))

    chain.wait_drained(store)

    chain.assert_exactly_once(store)
    assert store.status().blocked_reason is None


def test_a_stores_credential_cannot_push_or_read_as_another_store(chain: Chain) -> None:
    a = chain.new_store(STORE)
    b = chain.new_store(OTHER_STORE)
    a.process.start()
    a.open_till()
    a.buy_and_sell(a_seller(1))
    chain.wait_drained(a)
    # Store B bought before its node started: a batch central would apply in B's name.
    record_activity(b.node, 3, seed=OTHER_STORE)
    with b.node.reading() as conn:
        events = pending_events(conn, 0, 1000)
    forged = {
        "first_seq": 1,
        "head_seq": events[-1]["seq"],
        "checksum": batch_checksum(events),
        "events": events,
    }
    headers = {
        "Authorization": f"Bearer {a.credential()}",
        PROTOCOL_HEADER: str(PROTOCOL_VERSION),
        SCHEMA_HEADER: str(SCHEMA_VERSION),
    }

    with httpx.Client(base_url=chain.proxy.url, trust_env=False, timeout=10) as client:
        pushed = client.post(
            f"/api/v1/sync/stores/{OTHER_STORE}/events", json=forged, headers=headers
        )
        read = client.get(f"/api/v1/sync/stores/{OTHER_STORE}/feed", headers=headers)

    for answer in (pushed, read):
        assert answer.status_code == 403, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["code"] == "forbidden"
    assert chain.event_log(OTHER_STORE) == []
    assert chain.cursor(OTHER_STORE) is None
    assert chain.quarantined() == 0
    assert chain.sync_status(OTHER_STORE)["last_seen_at"] is None

    # B's own node pushes the same events with its own credential: they were a valid batch.
    b.process.start()
    chain.wait_drained(b)
    chain.assert_exactly_once(b)
    chain.assert_exactly_once(a)
