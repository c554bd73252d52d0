"""The sync protocol's benchmarks: central's batched apply of realistic events, with the same
rows inserted by the plain driver as the reference measured in the same run.

Realistic events come from a real store node: purchases of one to three objects and sales of
them at the till, through the real handlers, then read from its outbox as the store's pusher
sends them. Other stores' streams are the same stream rewritten for their store number (new
ids, labels and ticket numbers), so that central holds as many distinct items as in life.
"""

from __future__ import annotations

import json
import random
import re
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, insert, select, text
from sqlalchemy.engine import make_url

from recommerce.buyback.handlers import record_purchase
from recommerce.buyback.payment import Payment, PaymentMethod
from recommerce.buyback.purchase import PurchaseLine, RecordPurchase
from recommerce.catalog.model import Grade
from recommerce.central.bootstrap import CentralNode
from recommerce.central.bootstrap import bootstrap as bootstrap_central
from recommerce.central.db import tables as central_tables
from recommerce.central.services.ingest import apply_batch
from recommerce.central.services.stores import register_store
from recommerce.central.settings import CentralSettings
from recommerce.inventory.labels import label_code
from recommerce.money import Money
from recommerce.pos.sale import RecordSale, SaleLineRequest, record_sale
from recommerce.pos.tenders import TenderKind, TenderRequest
from recommerce.sim.stores import bench_store
from recommerce.sim.till_bench import IBAN, bench_seller, catalogue
from recommerce.staff.model import StaffMember
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t
from recommerce.store.seed import DEMO_PASSWORD
from recommerce.store.services.sessions import open_till
from recommerce.store.services.staff import authenticate
from recommerce.store.sync.pusher import pending_events

BATCH = 1000  # events per upstream batch, the store's default
# The goals on 2 cores: reported next to the figures, never asserted.
SYNC_GOALS = {
    "central_ingest_events_per_s": 5000,
    "catchup_100k_events_s": 30,
    "sale_to_central_p99_ms": 500,
}
GRADES = (Grade.A, Grade.B, Grade.C)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_LABEL = re.compile(r"^2\d{12}$")
_TICKET = re.compile(r"^\d{3}-")


# --- realistic events -------------------------------------------------------------------------


TILL = "T1"


def sell_basket(
    node: StoreNode, cashier: StaffMember, labels: Sequence[str], tender: TenderRequest
) -> None:
    """One sale at the store's till through its real handler."""
    record_sale(
        RecordSale(
            till=TILL,
            staff=cashier,
            lines=tuple(SaleLineRequest(label_code=code, discount=Money(0)) for code in labels),
            tenders=(tender,),
        ),
        node.uow,
        terminal=node.terminal,
        clock=node.clock,
        key=node.fiscal_key,
        policy=node.till_policy,
    )


def record_activity(node: StoreNode, purchases: int, *, seed: int) -> None:
    """A busy store's day through its real handlers: `purchases` purchases from the public of
    one to three objects (one PurchaseRecorded event each, paid by bank transfer so that no
    cash rule refuses), then sales at the till of about four in five objects in stock, one to
    three a ticket, paid by card (one TicketValidated event each)."""
    rng = random.Random(seed)
    articles = catalogue(node)
    on = node.clock.now().date()
    with node.reading() as conn:
        buyer = authenticate(conn, "acheteur", DEMO_PASSWORD)
        cashier = authenticate(conn, "caissier", DEMO_PASSWORD)
        till_open = conn.execute(
            select(t.open_tills.c.till).where(t.open_tills.c.till == TILL)
        ).first()
    if till_open is None:
        open_till(node, cashier, TILL, 15000)
    for n in range(purchases):
        lines = []
        for _ in range(rng.randint(1, 3)):
            article, grade = rng.choice(articles), rng.choice(GRADES)
            price = Money(rng.randrange(500, 20000, 50))
            # Never above the argus' offer: a buyer pays more only with a reason (buyback.offer).
            offer = node.argus.quote(article, grade, on=on).buy_offer
            lines.append(
                PurchaseLine(
                    article_id=article.id,
                    grade=grade,
                    agreed_price=min(price, offer),
                    asking_price=Money(rng.randrange(25000, 60000, 100)),
                )
            )
        record_purchase(
            RecordPurchase(
                seller=bench_seller(n, prefix=f"F{seed:03d}"),
                payment=Payment(PaymentMethod.BANK_TRANSFER, account_holder="Client", iban=IBAN),
                lines=tuple(lines),
                staff_id=buyer.id,
            ),
            node.uow,
            argus=node.argus,
            clock=node.clock,
            keys=node.vault,
            policy=node.policy,
        )
    with node.reading() as conn:
        prices = dict(
            conn.execute(
                select(t.items.c.label_code, t.items.c.asking_price_cents)
                .where(t.items.c.status == "in_stock")
                .order_by(t.items.c.label_code)
            ).all()
        )
    labels = list(prices)
    rng.shuffle(labels)
    on_sale = labels[: len(labels) * 4 // 5]
    while on_sale:
        size = rng.randint(1, 3)
        basket, on_sale = on_sale[:size], on_sale[size:]
        amount = Money(sum(prices[code] for code in basket))
        sell_basket(node, cashier, basket, TenderRequest(kind=TenderKind.CARD, amount=amount))


def realistic_events(node: StoreNode, purchases: int, *, seed: int = 7) -> list[dict[str, Any]]:
    """A store's day (`record_activity`), read from its outbox as the store's pusher sends it."""
    record_activity(node, purchases, seed=seed)
    with node.reading() as conn:
        return pending_events(conn, 0, 10**9)


@dataclass(frozen=True)
class Shift:
    """How far copy k of a stream moves each per-store number: copies of one store's stream
    appended to one another stay distinct (labels, register and journal numbers, tickets)."""

    labels: int = 0
    register: int = 0
    tickets: int = 0
    journal: int = 0

    @classmethod
    def past(cls, events: Sequence[dict[str, Any]]) -> Shift:
        """The shift that puts a copy just after the stream's own highest numbers."""
        labels = register = tickets = journal = 0
        for event in events:
            payload = event["payload"]
            for item in payload.get("items", ()):
                labels = max(labels, int(item["label_code"][4:12]))
            for entry in payload.get("register_entries", ()):
                register = max(register, entry["number"])
            if event["type"] == "TicketValidated":
                tickets = max(tickets, int(payload["number"].rsplit("-", 1)[1]))
                journal = max(journal, payload["journal"]["seq"])
        return cls(labels, register, tickets, journal)

    def times(self, k: int) -> Shift:
        return Shift(self.labels * k, self.register * k, self.tickets * k, self.journal * k)


def rewrite_for_store(
    events: Sequence[dict[str, Any]],
    store_number: int,
    *,
    shift: Shift = Shift(),
    first_seq: int = 1,
) -> list[dict[str, Any]]:
    """The same stream as store `store_number` would have sent it: new event, item, purchase and
    ticket ids, its own labels and ticket numbers (moved by `shift`), seqs from `first_seq`."""
    ids: dict[str, str] = {}

    def rewrite(value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            return {k: rewrite(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [rewrite(v) for v in value]
        if key == "store_number" and isinstance(value, int):
            return store_number
        if key in ("number", "register_number") and isinstance(value, int):
            return value + shift.register
        if isinstance(value, str):
            if _UUID.match(value):
                return ids.setdefault(value, str(uuid.uuid4()))
            if _LABEL.match(value):
                return label_code(store_number, int(value[4:12]) + shift.labels)
            if _TICKET.match(value):
                till, number = value[4:].rsplit("-", 1)
                return f"{store_number:03d}-{till}-{int(number) + shift.tickets:06d}"
        return value

    out = []
    for offset, event in enumerate(events):
        payload = rewrite(event["payload"])
        if "journal" in payload:
            payload["journal"]["seq"] += shift.journal
        out.append(
            {
                **event,
                "seq": first_seq + offset,
                "event_id": str(uuid.uuid4()),
                "payload": payload,
            }
        )
    return out


def queued_stream(
    base: Sequence[dict[str, Any]], store_number: int, count: int
) -> list[dict[str, Any]]:
    """`count` events of one store: copies of `base` one after the other, renumbered."""
    shift = Shift.past(base)
    events: list[dict[str, Any]] = []
    k = 0
    while len(events) < count:
        events += rewrite_for_store(
            base, store_number, shift=shift.times(k), first_seq=len(events) + 1
        )
        k += 1
    return events[:count]


# --- central's ingest -------------------------------------------------------------------------


def _fresh_database_url(base_url: str | None, workdir: Path, name: str) -> tuple[str, str]:
    """A SQLite file in `workdir`, or a new schema on the PostgreSQL server of `base_url`."""
    if base_url is None:
        return f"sqlite:///{workdir / f'{name}.db'}", "sqlite (WAL, synchronous=FULL)"
    url = make_url(base_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    schema = f"bench_{name}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    scoped = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return scoped.render_as_string(hide_password=False), f"postgresql (schema {schema})"


def _drop_schema(url: str) -> None:
    parsed = make_url(url)
    options = parsed.query.get("options", "")
    if parsed.get_backend_name() != "postgresql" or "search_path=" not in str(options):
        return
    schema = str(options).split("search_path=")[1]
    admin = create_engine(parsed.difference_update_query(["options"]), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


@contextmanager
def bench_central(workdir: Path, base_url: str | None) -> Iterator[tuple[CentralNode, str]]:
    url, label = _fresh_database_url(base_url, workdir, "central")
    central = bootstrap_central(
        CentralSettings(environment="test", data_dir=workdir / "central", database_url=url)
    )
    try:
        yield central, label
    finally:
        central.engine.dispose()
        _drop_schema(url)


def _batches(events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    head = events[-1]["seq"]
    return [
        {"first_seq": chunk[0]["seq"], "head_seq": head, "events": list(chunk)}
        for chunk in (events[i : i + BATCH] for i in range(0, len(events), BATCH))
    ]


def ingest(central: CentralNode, streams: dict[int, list[dict[str, Any]]]) -> float:
    """Apply every store's stream in batches, the stores taking turns; seconds taken."""
    now = datetime.now(UTC)
    with central.writing() as conn:
        for number in streams:
            register_store(
                conn,
                number=number,
                name=f"Bench {number}",
                city="Lyon",
                timezone="Europe/Paris",
                at=now,
            )
    queues = {number: _batches(events) for number, events in streams.items()}
    started = time.perf_counter()
    while any(queues.values()):
        for number, batches in queues.items():
            if batches:
                with central.writing() as conn:
                    apply_batch(conn, number, batches.pop(0), now=datetime.now(UTC))
    return time.perf_counter() - started


# Tables of the store registry and head-office accounts: written before the run, not by it.
_NOT_INGESTED = {"stores", "enrolment_codes", "users", "user_tokens", "alembic_version"}


def written_rows(central: CentralNode) -> dict[str, list[dict[str, Any]]]:
    """Every row the ingest wrote, table by table, as the database returns them."""
    metadata = MetaData()
    metadata.reflect(central.engine)
    rows: dict[str, list[dict[str, Any]]] = {}
    with central.reading() as conn:
        for table in metadata.sorted_tables:
            if table.name in _NOT_INGESTED:
                continue
            found = [dict(r._mapping) for r in conn.execute(select(table))]
            if found:
                rows[table.name] = found
    return rows


def raw_insert(
    engine: Engine,
    rows: dict[str, list[dict[str, Any]]],
    batches: int,
    *,
    stores: list[dict[str, Any]],
) -> float:
    """The reference: the same rows inserted with the plain driver (sqlite3 or psycopg), in
    as many transactions as the ingest had batches, into tables of the same schema with the
    same indexes and constraints; seconds taken."""
    central_tables.metadata.create_all(engine)
    with engine.begin() as conn:  # the store registry is there before the run, as at central
        conn.execute(insert(central_tables.stores), stores)
    with engine.connect() as conn:
        statements = []
        for name, table_rows in rows.items():
            table = central_tables.metadata.tables[name]
            columns = list(table_rows[0])
            compiled = insert(table).compile(dialect=conn.dialect, column_keys=columns)
            params = [
                [_plain_value(row[c], conn.dialect.name) for c in columns] for row in table_rows
            ]
            statements.append((compiled, columns, params))
        raw = conn.connection.driver_connection
        assert raw is not None
        positional = conn.dialect.paramstyle in ("qmark", "numeric", "format")
        prepared = []
        for compiled, columns, params in statements:
            sql = compiled.string
            if positional:
                order = compiled.positiontup or columns
                index = [columns.index(c) for c in order]
                values: list[Any] = [tuple(p[i] for i in index) for p in params]
            else:
                values = [dict(zip(columns, p, strict=True)) for p in params]
            prepared.append((sql, values))
        started = time.perf_counter()
        for part in range(batches):
            cursor = raw.cursor()
            for sql, values in prepared:
                size = -(-len(values) // batches)
                chunk = values[part * size : (part + 1) * size]
                if chunk:
                    cursor.executemany(sql, chunk)
            raw.commit()
        return time.perf_counter() - started


def _plain_value(value: Any, dialect: str) -> Any:
    """A value as the plain driver takes it: JSON as text (sqlite3) or wrapped (psycopg);
    datetimes as ISO text for sqlite3, as they are for psycopg."""
    if isinstance(value, dict | list):
        if dialect == "postgresql":
            from psycopg.types.json import Json

            return Json(value)
        return json.dumps(value)
    if dialect == "sqlite" and isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return value


def bench_ingest(workdir: Path, *, quick: bool, base_url: str | None) -> dict[str, Any]:
    """`central_ingest_events_per_s` over realistic streams of many stores, and the plain
    driver's rate for the same rows in the same number of transactions."""
    purchases, stores = (150, 10) if quick else (600, 20)
    node = bench_store(workdir / "events")
    try:
        stream = realistic_events(node, purchases)
    finally:
        node.engine.dispose()
    streams = {number: rewrite_for_store(stream, number) for number in range(1, stores + 1)}
    total = sum(len(events) for events in streams.values())
    batches = sum(-(-len(events) // BATCH) for events in streams.values())
    with bench_central(workdir / "ingest", base_url) as (central, database):
        elapsed = ingest(central, streams)
        rows = written_rows(central)
        with central.reading() as conn:
            stores_rows = [dict(r._mapping) for r in conn.execute(select(central_tables.stores))]
    raw_url, _ = _fresh_database_url(base_url, workdir, "raw")
    raw_engine = create_engine(raw_url)
    try:
        raw_elapsed = raw_insert(raw_engine, rows, batches, stores=stores_rows)
    finally:
        raw_engine.dispose()
        _drop_schema(raw_url)
    rate = total / elapsed
    raw_rate = total / raw_elapsed
    return {
        "figures": {
            "central_ingest_events_per_s": round(rate, 1),
            "central_raw_insert_events_per_s": round(raw_rate, 1),
            "central_ingest_ratio_to_raw": round(rate / raw_rate, 3),
        },
        "setup": {
            "database": database,
            "stores": stores,
            "events": total,
            "batch_events": BATCH,
            "rows_written": {name: len(table_rows) for name, table_rows in rows.items()},
            "events_by_type": _count_types(stream),
            "apply": "central's apply_batch in-process, one transaction per batch, stores in turn",
            "reference": "the rows the ingest wrote, inserted by the plain driver with executemany "
            "into the same schema, in as many transactions",
        },
    }


def _count_types(events: Sequence[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for event in events:
        counts[event["type"]] = counts.get(event["type"], 0) + 1
    return counts


# --- a store's backlog caught up ----------------------------------------------------------------


def queue_events(node: StoreNode, events: Sequence[dict[str, Any]]) -> None:
    """Put `events` in the store's outbox as its queue (seqs 1..n), as if written by its
    business transactions while central was out of reach."""
    rows = [
        {
            "seq": e["seq"],
            "event_id": e["event_id"],
            "type": e["type"],
            "schema_version": e["schema_version"],
            "occurred_at": datetime.fromisoformat(e["occurred_at"].replace("Z", "+00:00")),
            "payload": e["payload"],
            "acked_at": None,
        }
        for e in events
    ]
    with node.uow() as uow:
        uow.conn.execute(t.outbox.delete())
        for i in range(0, len(rows), 5000):
            uow.conn.execute(insert(t.outbox), rows[i : i + 5000])
        uow.conn.execute(
            t.counters.update().where(t.counters.c.name == "outbox").values(value=len(rows))
        )
        uow.commit()


def _central_settings(workdir: Path, base_url: str | None) -> tuple[CentralSettings, str]:
    url, label = _fresh_database_url(base_url, workdir, "central")
    return CentralSettings(environment="test", data_dir=workdir, database_url=url), label


def bench_catchup(
    workdir: Path, base: Sequence[dict[str, Any]], *, events: int, base_url: str | None
) -> dict[str, Any]:
    """`catchup_100k_events_s`: a store whose outbox holds `events` unsent events pushes them
    to central (its own process, over HTTP) until central's cursor equals the store's head."""
    from recommerce.sim.processes import central_process, init_central, register_and_enrol
    from recommerce.store.sync.client import CentralClient, http_client
    from recommerce.store.sync.pusher import Pusher
    from recommerce.store.sync.state import load_state

    settings, database = _central_settings(workdir / "central", base_url)
    init_central(settings)
    node = bench_store(workdir / "store")
    try:
        queue_events(node, queued_stream(base, node.settings.store_number, events))
        with central_process(settings) as central:
            register_and_enrol(central.url, node.settings)
            with node.reading() as conn:
                state = load_state(conn, node.vault)
            assert state is not None, "the store did not enrol"
            http = http_client(central.url, timeout_s=60, feed_wait_s=0)
            client = CentralClient(
                http, store_number=node.settings.store_number, credential=state.credential
            )
            pusher = Pusher(node, client)
            started = time.perf_counter()
            acked = 0
            while acked < events:
                result = pusher.push_once()
                if result.acked_seq is None:
                    raise RuntimeError(f"the catch-up stopped: {result}")
                acked = result.acked_seq
            elapsed = time.perf_counter() - started
            pusher.close()
            http.close()
    finally:
        node.engine.dispose()
        _drop_schema(settings.effective_database_url)
    return {
        "figures": {f"catchup_{events // 1000}k_events_s": round(elapsed, 2)},
        "setup": {
            "events": events,
            "database": database,
            "batch_events": node.settings.sync_batch_size,
            "how": "the store's pusher in the bench's process, central in its own process "
            "(uvicorn, one worker) over HTTP on 127.0.0.1; until the last batch is acked",
        },
    }


# --- from the till to central, with many stores pushing -----------------------------------------


def bench_sale_to_central(
    workdir: Path, *, stores: int, seconds: float, rate_per_store: float, base_url: str | None
) -> dict[str, Any]:
    """`sale_to_central_p50_ms` / `_p99_ms`: `stores` store nodes, each with its sync worker
    woken by its commits, sell at random moments (`rate_per_store` sales a second on average)
    for `seconds`; the latency of a sale is from its ticket's time at the till to central's
    applying it (the events' `occurred_at` and `received_at`, one machine, one clock)."""
    from recommerce.central.db import sync_tables as s
    from recommerce.sim.processes import central_process, init_central, register_and_enrol
    from recommerce.sim.till_bench import CASH_GIVEN, stock_baskets
    from recommerce.store.sync.worker import SyncWorker

    settings, database = _central_settings(workdir / "central", base_url)
    init_central(settings)
    rng = random.Random(11)
    nodes: list[StoreNode] = []
    workers: list[SyncWorker] = []
    try:
        sales_per_store = int(seconds * rate_per_store * 2) + 2
        for number in range(1, stores + 1):
            node = bench_store(workdir / f"store-{number:03d}", store_number=number)
            nodes.append(node)
        baskets = {
            node.settings.store_number: stock_baskets(node, sales_per_store) for node in nodes
        }
        with central_process(settings) as central:
            for node in nodes:
                register_and_enrol(central.url, node.settings)
            cashiers = {}
            for node in nodes:
                with node.reading() as conn:
                    cashiers[node.settings.store_number] = authenticate(
                        conn, "caissier", DEMO_PASSWORD
                    )
                open_till(node, cashiers[node.settings.store_number], "T1", 15000)
                worker = SyncWorker(node)
                if not worker.start():
                    raise RuntimeError(f"store {node.settings.store_number} is not enrolled")
                workers.append(worker)
            _wait_idle(nodes, timeout=300)  # the stocking purchases reach central first
            started = datetime.now(UTC)
            deadline = time.perf_counter() + seconds
            sold = 0
            interval = 1 / (rate_per_store * stores)
            while time.perf_counter() < deadline:
                node = rng.choice(nodes)
                number = node.settings.store_number
                if baskets[number]:
                    sell_basket(
                        node,
                        cashiers[number],
                        baskets[number].pop(),
                        TenderRequest(kind=TenderKind.CASH, amount=Money(CASH_GIVEN)),
                    )
                    sold += 1
                time.sleep(rng.expovariate(1 / interval))
            _wait_idle(nodes, timeout=120)
            for worker in workers:  # before central stops, so that no worker sees it go
                worker.stop()
        engine = create_engine(settings.effective_database_url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    select(s.events.c.occurred_at, s.events.c.received_at).where(
                        s.events.c.type == "TicketValidated", s.events.c.occurred_at >= started
                    )
                ).all()
        finally:
            engine.dispose()
    finally:
        for worker in workers:
            worker.stop()
        for node in nodes:
            node.engine.dispose()
        _drop_schema(settings.effective_database_url)
    latencies = sorted(
        (_aware(received) - _aware(occurred)).total_seconds() * 1000 for occurred, received in rows
    )
    if len(latencies) != sold:
        raise RuntimeError(f"{sold} sales at the tills, {len(latencies)} at central")
    return {
        "figures": {
            "sale_to_central_p50_ms": round(_quantile(latencies, 0.50), 1),
            "sale_to_central_p99_ms": round(_quantile(latencies, 0.99), 1),
        },
        "setup": {
            "stores": stores,
            "sales": sold,
            "seconds": seconds,
            "database": database,
            "how": "every store node's database, till and sync worker in the bench's process "
            "(threads), central in its own process over HTTP on 127.0.0.1; latency from the "
            "ticket's time to central's apply time of its event",
        },
    }


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile by linear interpolation between the sorted samples."""
    if not values:
        return float("nan")
    position = q * (len(values) - 1)
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def _wait_idle(nodes: Sequence[StoreNode], *, timeout: float) -> None:
    """Until every store's outbox is acknowledged by central."""
    from recommerce.store.sync.pusher import head_seq
    from recommerce.store.sync.state import load_state

    deadline = time.monotonic() + timeout
    waiting = list(nodes)
    while waiting:
        node = waiting[0]
        with node.reading() as conn:
            state = load_state(conn, node.vault)
            done = state is not None and state.acked_seq >= head_seq(conn)
        if done:
            waiting.pop(0)
            continue
        if time.monotonic() > deadline:
            raise RuntimeError(f"store {node.settings.store_number} did not catch up in time")
        time.sleep(0.05)


def run_sync_benches(workdir: Path, *, quick: bool, base_url: str | None) -> dict[str, Any]:
    """Every figure of the sync protocol, with its setup."""
    ingest_part = bench_ingest(workdir / "ingest", quick=quick, base_url=base_url)
    node = bench_store(workdir / "stream")
    try:
        base = realistic_events(node, 100)
    finally:
        node.engine.dispose()
    catchup = bench_catchup(
        workdir / "catchup", base, events=10_000 if quick else 100_000, base_url=base_url
    )
    sales = bench_sale_to_central(
        workdir / "sales",
        stores=10 if quick else 60,
        seconds=8 if quick else 30,
        rate_per_store=0.5,
        base_url=base_url,
    )
    return {
        "figures": {**ingest_part["figures"], **catchup["figures"], **sales["figures"]},
        "setup": {
            "central_database": ingest_part["setup"]["database"],
            "ingest": ingest_part["setup"],
            "catchup": catchup["setup"],
            "sale_to_central": sales["setup"],
        },
    }
