"""Central, a fault proxy in front of it, and store nodes, each a real process, for the sync
fault tests (tests/integration/test_sync_faults.py).

Stores reach central only through the proxy (their enrolment names the proxy as central), so
a test cuts the link, loses answers or kills either end while both sides run as in life.
Activity is written with the store's own handlers (`record_activity`): thousands of events in
seconds, where the HTTP API would take minutes. The checks read both databases directly: the
store's outbox is what it told central, central's `events` table is what central holds.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.engine import make_url

from recommerce.catalog.model import Grade
from recommerce.central.settings import CentralSettings
from recommerce.sim.invariants.exactly_once import (
    ReadModels,
    applied_seq,
    central_read_models,
    check_exactly_once,
    event_log,
    outbox_log,
    quarantined,
    store_read_models,
)
from recommerce.sim.invariants.results import Findings
from recommerce.sim.processes import (
    ManagedProcess,
    central_admin_headers,
    central_process,
    init_central,
    init_store,
    register_and_enrol,
    store_process,
)
from recommerce.sim.proxy import FaultProxy
from recommerce.sim.sync_bench import TILL, record_activity
from recommerce.sim.till_bench import IBAN
from recommerce.store.bootstrap import StoreNode, bootstrap
from recommerce.store.db import tables as t
from recommerce.store.seed import DEMO_PASSWORD
from recommerce.store.settings import StoreSettings
from recommerce.store.sync.state import load_state
from recommerce.store.sync.status import SyncStatus, sync_status

DRAIN_TIMEOUT_S = 120.0  # generous: the machine is shared, and a store backs off while cut
WAIT_S = 60.0
POLL_S = 0.01  # a kill follows what it waits for closely
DRAIN_POLL_S = 0.05
GRADES = (Grade.A, Grade.B, Grade.C)
LOG_TAIL = 3000


def wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    """Poll `condition` until it holds; fail saying what did not happen in time."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(POLL_S)


# --- activity written with the store's own handlers --------------------------------------------


def without_fsync(node: StoreNode) -> None:
    """The test's own connections to the store's SQLite file skip fsync. The rows and events
    are those of the real handlers; only the durability of a writer that is never killed is
    given up, which makes writing thousands of events several times faster."""

    @event.listens_for(node.engine, "connect")
    def _no_fsync(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.close()

    node.engine.dispose()  # connections opened from now on skip it


def store_settings(
    data_dir: Path, number: int, identity_key: str, **overrides: Any
) -> StoreSettings:
    """A store on SQLite in its data directory, as in a shop."""
    return StoreSettings(
        environment="test",
        data_dir=data_dir,
        database_url=f"sqlite:///{(data_dir / 'store.db').resolve()}",
        store_number=number,
        store_name=f"Magasin {number:03d}",
        store_city="Lyon",
        identity_key=SecretStr(identity_key),
        **overrides,
    )


@dataclass(frozen=True)
class Backlog:
    """A store that recorded a busy day before it was ever enrolled: its data directory is
    copied into each test that needs thousands of events waiting in an outbox."""

    data_dir: Path
    number: int
    identity_key: str
    events: int

    @classmethod
    def make(cls, data_dir: Path, number: int, purchases: int, *, seed: int) -> Backlog:
        key = Fernet.generate_key().decode()
        settings = store_settings(data_dir, number, key)
        init_store(settings)
        node = bootstrap(settings, migrate=False)
        try:
            without_fsync(node)
            record_activity(node, purchases, seed=seed)
            with node.reading() as conn:
                events = conn.execute(select(func.count()).select_from(t.outbox)).scalar_one()
        finally:
            node.engine.dispose()  # the WAL is folded into the file before it is copied
        return cls(data_dir, number, key, events)

    def copy_to(self, data_dir: Path) -> None:
        shutil.copytree(self.data_dir, data_dir)


# --- the nodes -------------------------------------------------------------------------------


class Store:
    """One enrolled store: its process (not started until told) and the test's own handle on
    its database, for the store's own code (status, credential) and for direct reads."""

    def __init__(self, settings: StoreSettings, process: ManagedProcess) -> None:
        self.settings = settings
        self.number = settings.store_number
        self.process = process
        self.node = bootstrap(settings, migrate=False)
        self._headers: dict[str, dict[str, str]] = {}

    def status(self) -> SyncStatus:
        """What `recommerce store sync status` shows."""
        return sync_status(self.node)

    def outbox(self) -> list[tuple[int, str, str]]:
        """The store's outbox as `(seq, event_id, type)`, in seq order."""
        with self.node.reading() as conn:
            return outbox_log(conn)

    def use_protocol(self, version: int) -> None:
        """The sync protocol version the store's process speaks from its next start, as an
        older release of the store's software would."""
        self.process.env["RECOMMERCE_SYNC_PROTOCOL_VERSION"] = str(version)

    def wait_acked_beyond(self, seq: int, timeout: float = WAIT_S) -> int:
        """Wait until the store has heard central acknowledge an event after `seq`."""
        wait_until(
            lambda: self.status().acked_seq > seq, f"central acknowledges {seq + 1}", timeout
        )
        return self.status().acked_seq

    def credential(self) -> str:
        with self.node.reading() as conn:
            state = load_state(conn, self.node.vault)
        assert state is not None, f"store {self.number} is not enrolled"
        return state.credential

    def read_models(self) -> ReadModels:
        """The store's items (id: status), purchases and tickets (id: total)."""
        with self.node.reading() as conn:
            return store_read_models(conn)

    def items(self) -> dict[str, str]:
        return self.read_models().items

    def purchases(self) -> dict[str, int]:
        return self.read_models().purchases

    def tickets(self) -> dict[str, int]:
        return self.read_models().tickets

    # The store's HTTP API, as its staff use it.

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.process.url, trust_env=False, timeout=30)

    def login(self, username: str) -> dict[str, str]:
        if username not in self._headers:
            with self.http() as client:
                response = client.post(
                    "/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD}
                )
            assert response.status_code == 200, response.text
            self._headers[username] = {"Authorization": f"Bearer {response.json()['access_token']}"}
        return self._headers[username]

    def open_till(self) -> None:
        with self.http() as client:
            response = client.post(
                f"/api/v1/tills/{TILL}/open",
                json={"float_cents": 15000},
                headers=self.login("caissier"),
            )
        assert response.status_code == 201, response.text

    def buy_and_sell(self, seller: dict[str, Any]) -> None:
        """At the counter, a phone and a console bought from the public (one event); at the
        till, the phone sold (one event)."""
        with self.http() as client:
            lines = []
            # At or below the argus' offers (104.00 and 47.00 EUR).
            for query, price in (("iphone 12", 9000), ("switch oled", 4500)):
                found = client.get(
                    "/api/v1/articles", params={"q": query}, headers=self.login("acheteur")
                )
                assert found.status_code == 200 and found.json(), found.text
                lines.append(
                    {"article_id": found.json()[0]["id"], "grade": "B", "agreed_price_cents": price}
                )
            bought = client.post(
                "/api/v1/purchases",
                json={
                    "seller": seller,
                    "payment": {
                        "method": "bank_transfer",
                        "account_holder": "Client",
                        "iban": IBAN,
                    },
                    "lines": lines,
                },
                headers=self.login("acheteur"),
            )
            assert bought.status_code == 201, bought.text
            item = bought.json()["items"][0]
            sold = client.post(
                "/api/v1/sales",
                json={
                    "till": TILL,
                    "lines": [{"label_code": item["label_code"]}],
                    "tenders": [{"kind": "card", "amount_cents": item["asking_price_cents"]}],
                },
                headers=self.login("caissier"),
            )
            assert sold.status_code == 201, sold.text

    def close(self) -> None:
        self.process.kill()  # the test is over and its data thrown away: no need to wait
        self.node.engine.dispose()


class Chain:
    """Central (its database on SQLite or PostgreSQL), a FaultProxy in front of it, and the
    stores enrolled with the proxy as their central."""

    def __init__(self, workdir: Path, central_database_url: str, **central: Any) -> None:
        self.workdir = workdir
        self.settings = CentralSettings(
            environment="test",
            data_dir=workdir / "central",
            database_url=central_database_url,
            **central,
        )
        init_central(self.settings)
        self.central = central_process(self.settings)
        self.proxy = FaultProxy.in_front_of(self.central.url)
        self.db: Engine = create_engine(_driver_url(central_database_url))
        self.stores: list[Store] = []
        self._admin: dict[str, str] | None = None

    def start(self) -> Chain:
        self.central.start()
        self.proxy.start()
        return self

    def close(self) -> None:
        with contextlib.ExitStack() as stack:
            stack.callback(self.db.dispose)
            stack.callback(self.central.kill)
            stack.callback(self.proxy.stop)
            for store in self.stores:
                stack.callback(store.close)

    @property
    def admin(self) -> dict[str, str]:
        if self._admin is None:
            self._admin = central_admin_headers(self.central.url)
        return self._admin

    def enrol(self, settings: StoreSettings) -> Store:
        """Register and enrol the store (its data directory ready), with the proxy as its
        central; its process is made, not started."""
        register_and_enrol(self.central.url, settings, store_central_url=self.proxy.url)
        store = Store(settings, store_process(settings))
        self.stores.append(store)
        return store

    def new_store(self, number: int, **overrides: Any) -> Store:
        """A store initialised as `recommerce store init --demo-staff` leaves it, enrolled."""
        settings = store_settings(
            self.workdir / f"store-{number:03d}",
            number,
            Fernet.generate_key().decode(),
            **overrides,
        )
        init_store(settings)
        return self.enrol(settings)

    def store_from(self, backlog: Backlog, **overrides: Any) -> Store:
        """A copy of the backlog's store, enrolled: its events wait in the outbox."""
        data_dir = self.workdir / f"store-{backlog.number:03d}"
        backlog.copy_to(data_dir)
        settings = store_settings(data_dir, backlog.number, backlog.identity_key, **overrides)
        return self.enrol(settings)

    # --- what central holds, read from its database ---------------------------------------

    def event_log(self, number: int) -> list[tuple[int, str, str]]:
        """Central's event log of the store as `(seq, event_id, type)`, in seq order."""
        with self.db.connect() as conn:
            return event_log(conn, number)

    def cursor(self, number: int) -> int | None:
        """The last seq central applied of the store; None before it applied any (a store's
        feed poll alone records its contact with a cursor at 0)."""
        with self.db.connect() as conn:
            return applied_seq(conn, number)

    def quarantined(self, number: int | None = None) -> int:
        with self.db.connect() as conn:
            return quarantined(conn, number)

    def read_models(self, number: int) -> ReadModels:
        """Central's items (id: status), purchases and tickets (id: total) of the store."""
        with self.db.connect() as conn:
            return central_read_models(conn, number)

    # --- what central says over HTTP ------------------------------------------------------

    def sync_status(self, number: int) -> dict[str, Any]:
        """GET /api/v1/stores/{n}/sync, as head office reads it."""
        with httpx.Client(base_url=self.central.url, trust_env=False, timeout=10) as client:
            response = client.get(f"/api/v1/stores/{number}/sync", headers=self.admin)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def sync_counts(self, number: int) -> dict[str, float]:
        """Central's counters of the store's events since its process started: applied,
        duplicate and quarantined, all types together."""
        with httpx.Client(base_url=self.central.url, trust_env=False, timeout=10) as client:
            response = client.get("/metrics")
        assert response.status_code == 200, response.text
        counts = {"applied": 0.0, "duplicate": 0.0, "quarantined": 0.0}
        for family in text_string_to_metric_families(response.text):
            for sample in family.samples:
                for kind in counts:
                    if (
                        sample.name == f"recommerce_sync_events_{kind}_total"
                        and sample.labels.get("store") == f"{number:03d}"
                    ):
                        counts[kind] += sample.value
        return counts

    # --- waiting and checking -------------------------------------------------------------

    def wait_drained(self, store: Store, timeout: float = DRAIN_TIMEOUT_S) -> int:
        """Wait until central has applied the store's whole outbox and the store has heard
        it (central's status and the store's own agree on its head); return the head."""
        deadline = time.monotonic() + timeout
        while True:
            mine = store.status()
            if mine.queue_events == 0 and mine.head_seq > 0:
                theirs = self.sync_status(store.number)
                if theirs["last_applied_seq"] == theirs["store_head_seq"] == mine.head_seq:
                    return mine.head_seq
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"store {store.number} did not drain within {timeout:.0f} s: {mine}\n"
                    f"--- store log:\n{store.process.log_tail(LOG_TAIL)}\n"
                    f"--- central log:\n{self.central.log_tail(LOG_TAIL)}"
                )
            time.sleep(DRAIN_POLL_S)

    def assert_exactly_once(self, store: Store) -> None:
        """Central holds each of the store's events once, in order, under its own seq, nothing
        in quarantine, and read models that agree with the store's own tables (the invariant
        checker's own check, `recommerce.sim.invariants`)."""
        findings = Findings()
        with store.node.reading() as mine, self.db.connect() as theirs:
            events = check_exactly_once(mine, theirs, store.number, findings)
        assert findings.count == 0, findings.listed
        assert events == store.status().head_seq


def _driver_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


# --- catching central inside an apply ----------------------------------------------------------


def central_in_apply(chain: Chain) -> bool:
    """Whether central holds a batch's transaction open right now (call it with central
    frozen). On SQLite a batch is the only writer, holding the database's write lock from
    BEGIN IMMEDIATE to COMMIT; on PostgreSQL the apply's first statement locks the store's
    cursor row (SELECT ... FOR UPDATE: a RowShareLock on `sync_cursors`) until COMMIT."""
    url = make_url(chain.settings.effective_database_url)
    if url.get_backend_name() == "sqlite":
        assert url.database
        probe = sqlite3.connect(url.database, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc):
                return True
            raise
        else:
            probe.execute("ROLLBACK")
        finally:
            probe.close()
        return False
    with chain.db.connect() as conn:
        held = conn.execute(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'relation' "
                "AND relation = 'sync_cursors'::regclass AND mode = 'RowShareLock' "
                "AND granted AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    return bool(held)


def kill_inside_apply(chain: Chain, rng: random.Random, *, timeout: float = 60.0) -> int:
    """Freeze central (SIGSTOP) at a random moment, look whether it is inside a batch's
    transaction, and SIGKILL it there if so; else let it run a little longer and try again.
    Returns the number of tries it took."""
    deadline = time.monotonic() + timeout
    tries = 0
    while True:
        tries += 1
        os.kill(chain.central.pid, signal.SIGSTOP)
        try:
            inside = central_in_apply(chain)
        except BaseException:
            os.kill(chain.central.pid, signal.SIGCONT)
            raise
        if inside:
            chain.central.kill()
            return tries
        os.kill(chain.central.pid, signal.SIGCONT)
        if time.monotonic() > deadline:
            raise AssertionError(
                f"central was never caught inside an apply in {tries} tries:\n"
                f"{chain.central.log_tail(LOG_TAIL)}"
            )
        time.sleep(rng.uniform(0.005, 0.05))


@contextlib.contextmanager
def running_chain(workdir: Path, central_database_url: str, **central: Any) -> Iterator[Chain]:
    chain = Chain(workdir, central_database_url, **central)
    try:
        yield chain.start()
    finally:
        chain.close()
