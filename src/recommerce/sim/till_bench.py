"""The till's benchmark: 3-item cash sales through the store node's HTTP API on SQLite, and
the reference measured in the same run: the same rows written by plain `sqlite3`, with the
same durability settings, and no application around them.

The store node runs as `uvicorn` in its own process on 127.0.0.1 (as in a store: the server
is one process, the tills are clients), so that the client's work does not share the
server's interpreter lock; each till is one keep-alive HTTP/1.1 connection.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import socket
import sqlite3
import statistics
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select

from recommerce.buyback.handlers import record_purchase
from recommerce.buyback.payment import Payment, PaymentMethod
from recommerce.buyback.purchase import PurchaseLine, RecordPurchase
from recommerce.buyback.seller import DocumentType, IdentityDocument, SellerIdentity
from recommerce.catalog.model import Article, Grade
from recommerce.money import Money
from recommerce.sim.processes import store_process
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t
from recommerce.store.db.repositories import SqlCatalog
from recommerce.store.seed import DEMO_PASSWORD

# The goal on 2 cores; informational, reported next to the figures, never asserted.
GOALS = {"till_sale_p99_ms": 25, "till_sales_per_s": 300}

ITEMS_PER_SALE = 3
# Asking and purchase prices (cents) of the three items of every basket: margin-scheme goods
# above 60 EUR, so that each has its own police-register entry.
BASKET = ((12000, 7000), (8000, 6500), (6500, 6100))
CASH_GIVEN = 30000  # the basket is 265 EUR: 35 EUR change
PURCHASE_LINES = 60  # objects per stocking purchase
IBAN = "FR1420041010050500013M02606"


@dataclass(frozen=True)
class TillRun:
    warmup: int
    sales: int
    sales_2_clients: int

    @property
    def baskets(self) -> int:
        return self.warmup + self.sales + self.sales_2_clients


QUICK = TillRun(warmup=20, sales=100, sales_2_clients=100)
FULL = TillRun(warmup=50, sales=1000, sales_2_clients=1000)


def bench_seller(i: int, *, prefix: str = "STOCK") -> SellerIdentity:
    """A seller of age with a valid identity document, a new one for each `i`."""
    return SellerIdentity(
        surname="Bench",
        first_names="Seller",
        birth_date=date(1975, 5, 5),
        address="3 quai Saint-Antoine, 69002 Lyon",
        document=IdentityDocument(
            type=DocumentType.NATIONAL_ID,
            number=f"{prefix}{i:06d}",
            issued_on=date(2020, 1, 1),
            issuing_authority="Préfecture du Rhône",
        ),
    )


def catalogue(node: StoreNode) -> list[Article]:
    """The store's articles other than precious metals, by id."""
    with node.reading() as conn:
        ids = (
            conn.execute(
                select(t.articles.c.id)
                .join(t.categories, t.categories.c.code == t.articles.c.category_code)
                .where(t.categories.c.precious_metal.is_(False))
                .order_by(t.articles.c.id)
            )
            .scalars()
            .all()
        )
        found = [SqlCatalog(conn).article(i) for i in ids]
    return [a for a in found if a is not None]


def offered_at_least(
    node: StoreNode, articles: list[Article], price: Money, *, grade: Grade = Grade.B
) -> list[Article]:
    """The articles the argus offers `price` or more for in `grade`: a benchmark buys them at
    that price as a buyer may, without paying above the offer (buyback.offer)."""
    on = node.clock.now().date()
    return [a for a in articles if node.argus.quote(a, grade, on=on).buy_offer >= price]


def stock_baskets(node: StoreNode, baskets: int) -> list[list[str]]:
    """Buy `baskets` x 3 real items (purchases, register entries, labels), paid by bank
    transfer so that no cash rule refuses; return their labels three by three."""
    with node.engine.connect() as conn:
        staff_id = conn.execute(
            select(t.staff.c.id).where(t.staff.c.username == "acheteur")
        ).scalar_one()
    dearest = Money(max(bought for _, bought in BASKET))
    articles = [a.id for a in offered_at_least(node, catalogue(node), dearest)][:ITEMS_PER_SALE]
    if len(articles) < ITEMS_PER_SALE:
        raise RuntimeError("the seeded catalogue has too few articles for a basket")
    remaining = baskets * ITEMS_PER_SALE
    purchase_no = 0
    while remaining:
        count = min(PURCHASE_LINES, remaining)
        lines = tuple(
            PurchaseLine(
                article_id=articles[n % ITEMS_PER_SALE],
                grade=Grade.B,
                agreed_price=Money(BASKET[n % ITEMS_PER_SALE][1]),
                asking_price=Money(BASKET[n % ITEMS_PER_SALE][0]),
            )
            for n in range(count)
        )
        record_purchase(
            RecordPurchase(
                seller=bench_seller(purchase_no),
                payment=Payment(
                    PaymentMethod.BANK_TRANSFER, account_holder="Bench Stock", iban=IBAN
                ),
                lines=lines,
                staff_id=staff_id,
            ),
            node.uow,
            argus=node.argus,
            clock=node.clock,
            keys=node.vault,
            policy=node.policy,
        )
        purchase_no += 1
        remaining -= count
    with node.engine.connect() as conn:
        labels = (
            conn.execute(
                select(t.items.c.label_code)
                .where(t.items.c.status == "in_stock")
                .order_by(t.items.c.label_code)
            )
            .scalars()
            .all()
        )
    return [list(labels[i : i + ITEMS_PER_SALE]) for i in range(0, len(labels), ITEMS_PER_SALE)]


def _client(base: str) -> httpx.Client:
    return httpx.Client(base_url=base, trust_env=False, timeout=30)


def _log_in(base: str, username: str) -> dict[str, str]:
    with _client(base) as client:
        response = client.post(
            "/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD}
        )
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _open_tills(base: str, headers: dict[str, str], tills: list[str]) -> None:
    """Open each till with its float, as a cashier does in the morning (a store node without
    till sessions answers 404: nothing to open)."""
    with _client(base) as client:
        for till in tills:
            response = client.post(
                f"/api/v1/tills/{till}/open", json={"float_cents": 15000}, headers=headers
            )
            if response.status_code not in (201, 404):
                raise RuntimeError(f"till {till} did not open: {response.text}")


class TillConnection:
    """One till's keep-alive HTTP/1.1 connection to the store node, as lean as a load
    generator's (the standard library's client, Nagle's algorithm off): the time measured is
    the store node's, not the client library's."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        url = urlsplit(base)
        self._conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
        self._conn.connect()
        assert self._conn.sock is not None
        self._conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._headers = {**headers, "Content-Type": "application/json"}

    def sell(self, till: str, labels: list[str]) -> None:
        body = json.dumps(
            {
                "till": till,
                "lines": [{"label_code": label} for label in labels],
                "tenders": [{"kind": "cash", "amount_cents": CASH_GIVEN}],
            }
        )
        self._conn.request("POST", "/api/v1/sales", body=body, headers=self._headers)
        response = self._conn.getresponse()
        answer = response.read()
        if response.status != 201:
            raise RuntimeError(f"sale refused: {response.status} {answer.decode()}")

    def close(self) -> None:
        self._conn.close()


def _timed_sales(
    base: str, headers: dict[str, str], till: str, baskets: list[list[str]]
) -> list[float]:
    """Sell the baskets one after the other on one keep-alive connection; each sale's time
    in ms, from sending the request to reading the whole response."""
    samples = []
    connection = TillConnection(base, headers)
    try:
        for labels in baskets:
            started = time.perf_counter()
            connection.sell(till, labels)
            samples.append((time.perf_counter() - started) * 1000)
    finally:
        connection.close()
    return samples


def _percentile(samples: list[float], p: int) -> float:
    """The p-th percentile (inclusive method: interpolates between measured samples)."""
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1]


def bench_http(node: StoreNode, plan: TillRun) -> dict[str, float]:
    baskets = stock_baskets(node, plan.baskets)
    warmup = baskets[: plan.warmup]
    measured = baskets[plan.warmup : plan.warmup + plan.sales]
    parallel = baskets[plan.warmup + plan.sales :]
    # The store node's app under uvicorn in its own process, on the node's database.
    with store_process(node.settings) as server:
        base = server.url
        headers = _log_in(base, "caissier")
        _open_tills(base, headers, ["T1", "T2", "T3"])
        _timed_sales(base, headers, "T1", warmup)
        cpu_before = server.cpu_seconds()
        started = time.perf_counter()
        samples = _timed_sales(base, headers, "T1", measured)
        elapsed = time.perf_counter() - started
        cpu_after = server.cpu_seconds()
        figures: dict[str, float] = {
            "till_sale_p50_ms": round(_percentile(samples, 50), 3),
            "till_sale_p99_ms": round(_percentile(samples, 99), 3),
            "till_sales_per_s": round(len(samples) / elapsed, 1),
        }
        if cpu_before is not None and cpu_after is not None:
            # The server's own CPU per sale: with one process, 1000 / this is its ceiling in
            # sales/s whatever the number of tills (one interpreter lock).
            figures["till_server_cpu_ms_per_sale"] = round(
                (cpu_after - cpu_before) * 1000 / len(samples), 2
            )
        if parallel:
            # Two tills at once, each on its own connection: how the node shares its one
            # SQLite writer between them.
            half = len(parallel) // 2
            results: dict[str, list[float]] = {}

            def till(name: str, share: list[list[str]]) -> None:
                results[name] = _timed_sales(base, headers, name, share)

            threads = [
                threading.Thread(target=till, args=("T2", parallel[:half])),
                threading.Thread(target=till, args=("T3", parallel[half:])),
            ]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            both = [s for share in results.values() for s in share]
            if len(both) != len(parallel):
                raise RuntimeError("a till of the 2-client run failed; see the output above")
            figures["till_sales_per_s_2_clients"] = round(len(both) / elapsed, 1)
            figures["till_sale_p99_ms_2_clients"] = round(_percentile(both, 99), 3)
    return figures


# --- the reference: plain sqlite3 -------------------------------------------------------------

_RAW_SCHEMA = """
CREATE TABLE counters (name VARCHAR(64) PRIMARY KEY, value BIGINT NOT NULL);
CREATE TABLE items (
    id VARCHAR(36) PRIMARY KEY,
    label_code VARCHAR(13) NOT NULL UNIQUE,
    article_name VARCHAR(300) NOT NULL,
    purchase_price_cents BIGINT NOT NULL,
    asking_price_cents BIGINT NOT NULL,
    vat_regime VARCHAR(10) NOT NULL,
    status VARCHAR(16) NOT NULL,
    sold_on VARCHAR(40),
    updated_at DATETIME NOT NULL,
    updated_by VARCHAR(36) NOT NULL
);
CREATE INDEX ix_items_status ON items (status);
CREATE TABLE tickets (
    id VARCHAR(36) PRIMARY KEY,
    store_number INTEGER NOT NULL,
    till VARCHAR(20) NOT NULL,
    number BIGINT NOT NULL,
    display_number VARCHAR(40) NOT NULL UNIQUE,
    kind VARCHAR(10) NOT NULL,
    occurred_at DATETIME NOT NULL,
    staff_id VARCHAR(36) NOT NULL,
    total_cents BIGINT NOT NULL,
    change_cents BIGINT NOT NULL,
    refers_to VARCHAR(36) REFERENCES tickets (id),
    non_resident_proof VARCHAR(200),
    session_id VARCHAR(36),
    UNIQUE (till, number)
);
CREATE INDEX ix_tickets_occurred_at ON tickets (occurred_at);
CREATE TABLE ticket_lines (
    ticket_id VARCHAR(36) NOT NULL REFERENCES tickets (id),
    line_no INTEGER NOT NULL,
    item_id VARCHAR(36) NOT NULL REFERENCES items (id),
    label_code VARCHAR(13) NOT NULL,
    article_name VARCHAR(300) NOT NULL,
    unit_price_cents BIGINT NOT NULL,
    discount_cents BIGINT NOT NULL,
    price_cents BIGINT NOT NULL,
    vat_regime VARCHAR(10) NOT NULL,
    vat_rate VARCHAR(10) NOT NULL,
    vat_cents BIGINT NOT NULL,
    PRIMARY KEY (ticket_id, line_no)
);
CREATE INDEX ix_ticket_lines_item_id ON ticket_lines (item_id);
CREATE TABLE ticket_tenders (
    ticket_id VARCHAR(36) NOT NULL REFERENCES tickets (id),
    line_no INTEGER NOT NULL,
    kind VARCHAR(20) NOT NULL,
    amount_cents BIGINT NOT NULL,
    reference VARCHAR(64),
    PRIMARY KEY (ticket_id, line_no)
);
CREATE TABLE fiscal_journal (
    seq BIGINT PRIMARY KEY,
    kind VARCHAR(20) NOT NULL,
    label VARCHAR(120) NOT NULL,
    occurred_at DATETIME NOT NULL,
    fields JSON NOT NULL,
    previous_hash VARCHAR(64) NOT NULL,
    hash VARCHAR(64) NOT NULL UNIQUE,
    signature VARCHAR(100) NOT NULL
);
CREATE INDEX ix_fiscal_journal_occurred_at ON fiscal_journal (occurred_at);
CREATE TABLE outbox (
    seq BIGINT PRIMARY KEY,
    event_id VARCHAR(36) NOT NULL UNIQUE,
    type VARCHAR(60) NOT NULL,
    schema_version INTEGER NOT NULL,
    occurred_at DATETIME NOT NULL,
    payload JSON NOT NULL,
    acked_at DATETIME
);
INSERT INTO counters VALUES ('journal', 0), ('outbox', 0);
"""

_NEXT = "UPDATE counters SET value = value + 1 WHERE name = ? RETURNING value"
_ARTICLES = ("Apple iPhone 12 64 Go", "Samsung Galaxy S21 128 Go", "Nintendo Switch OLED")
_SIGNATURE = "S" * 86 + "=="  # an Ed25519 signature in base64 is 88 characters


def _raw_connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def _raw_stock(conn: sqlite3.Connection, baskets: int) -> list[list[str]]:
    now = datetime.now(UTC).isoformat(sep=" ")
    rows = []
    for n in range(baskets * ITEMS_PER_SALE):
        asking, bought = BASKET[n % ITEMS_PER_SALE]
        label = f"2001{n:08d}0"
        rows.append(
            (str(uuid.uuid4()), label, _ARTICLES[n % 3], bought, asking, "margin", now, "staff")
        )
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO items (id, label_code, article_name, purchase_price_cents,"
        " asking_price_cents, vat_regime, status, updated_at, updated_by)"
        " VALUES (?, ?, ?, ?, ?, ?, 'in_stock', ?, ?)",
        rows,
    )
    conn.execute("COMMIT")
    labels = [row[1] for row in rows]
    return [labels[i : i + ITEMS_PER_SALE] for i in range(0, len(labels), ITEMS_PER_SALE)]


def _raw_sale(conn: sqlite3.Connection, till: str, labels: list[str]) -> None:
    """One sale as the app writes it, in one BEGIN IMMEDIATE transaction: read the items,
    number the ticket, write it with its lines and tender, mark the items sold, chain a
    journal record (JSON fields, sha256 hash, signature) and add the outbox event."""
    now = datetime.now(UTC).isoformat(sep=" ")
    staff_id = "00000000-0000-0000-0000-00000000cafe"
    conn.execute("BEGIN IMMEDIATE")
    try:
        marks = ",".join("?" * len(labels))
        items = conn.execute(
            "SELECT id, label_code, article_name, purchase_price_cents, asking_price_cents,"
            f" vat_regime, status FROM items WHERE label_code IN ({marks}) ORDER BY label_code",
            sorted(labels),
        ).fetchall()
        if len(items) != len(labels) or any(row[6] != "in_stock" for row in items):
            raise RuntimeError(f"basket {labels} is not in stock")
        counter = f"ticket:{till}"
        conn.execute("INSERT INTO counters VALUES (?, 0) ON CONFLICT DO NOTHING", (counter,))
        number = conn.execute(_NEXT, (counter,)).fetchone()[0]
        display = f"001-{till}-{number:06d}"
        ticket_id = str(uuid.uuid4())
        lines = []
        for n, (item_id, label, article, bought, asking, regime, _) in enumerate(items, 1):
            vat = max(asking - bought, 0) // 6
            lines.append(
                (ticket_id, n, item_id, label, article, asking, 0, asking, regime, "20", vat)
            )
        total = sum(line[7] for line in lines)
        change = CASH_GIVEN - total
        conn.execute(
            "INSERT INTO tickets (id, store_number, till, number, display_number, kind,"
            " occurred_at, staff_id, total_cents, change_cents)"
            " VALUES (?, 1, ?, ?, ?, 'sale', ?, ?, ?, ?)",
            (ticket_id, till, number, display, now, staff_id, total, change),
        )
        conn.executemany("INSERT INTO ticket_lines VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", lines)
        conn.execute(
            "INSERT INTO ticket_tenders VALUES (?, 1, 'cash', ?, NULL)", (ticket_id, total)
        )
        for line in lines:
            changed = conn.execute(
                "UPDATE items SET status = 'sold', sold_on = ?, updated_at = ?, updated_by = ?"
                " WHERE id = ? AND status = 'in_stock'",
                (display, now, staff_id, line[2]),
            ).rowcount
            if changed != 1:
                raise RuntimeError(f"item {line[3]} changed meanwhile")
        fields = {
            "ticket_id": ticket_id,
            "number": display,
            "till": till,
            "kind": "sale",
            "staff_id": staff_id,
            "lines": [
                {
                    "label_code": line[3],
                    "article": line[4],
                    "quantity": 1,
                    "unit_price_cents": line[5],
                    "discount_cents": 0,
                    "price_cents": line[7],
                    "vat_regime": line[8],
                    "vat_rate": "20",
                    "vat_cents": line[10],
                }
                for line in lines
            ],
            "tenders": [{"kind": "cash", "amount_cents": total}],
            "change_cents": change,
            "total_cents": total,
            "vat": [
                {
                    "regime": "margin",
                    "rate": "20",
                    "total_cents": total,
                    "vat_cents": sum(line[10] for line in lines),
                }
            ],
            "refers_to": None,
            "non_resident_proof": None,
        }
        blob = json.dumps(fields)
        seq = conn.execute(_NEXT, ("journal",)).fetchone()[0]
        previous = conn.execute(
            "SELECT hash FROM fiscal_journal WHERE seq = ?", (seq - 1,)
        ).fetchone()
        previous_hash = previous[0] if previous else "0" * 64
        digest = hashlib.sha256(f"{previous_hash}{seq}{now}{blob}".encode()).hexdigest()
        conn.execute(
            "INSERT INTO fiscal_journal VALUES (?, 'ticket', ?, ?, ?, ?, ?, ?)",
            (seq, f"ticket {display}", now, blob, previous_hash, digest, _SIGNATURE),
        )
        payload = {
            **fields,
            "items": [{"item_id": line[2], "label_code": line[3]} for line in lines],
        }
        outbox_seq = conn.execute(_NEXT, ("outbox",)).fetchone()[0]
        conn.execute(
            "INSERT INTO outbox (seq, event_id, type, schema_version, occurred_at, payload)"
            " VALUES (?, ?, 'TicketValidated', 1, ?, ?)",
            (outbox_seq, str(uuid.uuid4()), now, json.dumps(payload)),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def bench_raw_sqlite(workdir: Path, plan: TillRun) -> dict[str, float]:
    path = workdir / "raw.db"
    conn = _raw_connect(path)
    try:
        conn.executescript(_RAW_SCHEMA)
        baskets = _raw_stock(conn, plan.warmup + plan.sales)
        for labels in baskets[: plan.warmup]:
            _raw_sale(conn, "T1", labels)
        started = time.perf_counter()
        for labels in baskets[plan.warmup :]:
            _raw_sale(conn, "T1", labels)
        elapsed = time.perf_counter() - started
    finally:
        conn.close()
    return {"till_raw_sqlite_sales_per_s": round(plan.sales / elapsed, 1)}


def bench_till(
    node: StoreNode, workdir: Path, *, quick: bool
) -> tuple[dict[str, float], dict[str, Any]]:
    """The till's figures, and how they were measured."""
    plan = QUICK if quick else FULL
    workdir.mkdir(parents=True, exist_ok=True)
    figures = bench_http(node, plan)
    figures.update(bench_raw_sqlite(workdir, plan))
    figures["till_ratio_to_raw"] = round(
        figures["till_sales_per_s"] / figures["till_raw_sqlite_sales_per_s"], 3
    )
    setup = {
        "warmup_sales": plan.warmup,
        "measured_sales": plan.sales,
        "sales_2_clients": plan.sales_2_clients,
        "items_per_sale": ITEMS_PER_SALE,
        "tender": "cash",
        "server": "uvicorn in its own process on 127.0.0.1, one worker, access log off",
        "client": "one keep-alive HTTP/1.1 connection per till (http.client, TCP_NODELAY) over loopback, one sale after the other",
        "percentiles": "statistics.quantiles, inclusive method",
        "reference": "plain sqlite3 on its own file, WAL, synchronous=FULL, BEGIN IMMEDIATE, "
        "the same rows per sale",
    }
    return figures, setup
