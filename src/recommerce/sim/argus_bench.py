"""The argus' figures: one quote at the store's counter, and training on a million sales.

- `quote_p50_ms` / `quote_p99_ms`: `POST /api/v1/quotes` through the store node's HTTP API
  (its own process), the store holding a guide trained on the synthetic history; the
  reference measured in the same run is the same quote answered in the bench's process by
  the argus port alone (`quote_in_process_p99_ms`).
- `argus_train_1m_sales_s`: learning the statistical guide (v1) and fitting the learned model
  (v2) on the same synthetic sales; each part is reported.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import insert, select

from recommerce.argus.guide import METHOD, PastSale, StatisticalGuide, guide_payload
from recommerce.argus.history import SaleRecord, synthetic_catalogue, synthetic_sales
from recommerce.catalog.model import Grade
from recommerce.sim.processes import store_process
from recommerce.sim.stores import bench_store
from recommerce.sim.sync_bench import _quantile
from recommerce.sim.till_bench import _log_in
from recommerce.store.db import tables as t
from recommerce.store.db.repositories import SqlCatalog

ARGUS_GOALS = {"quote_p99_ms": 10, "argus_train_1m_sales_s": 180}
START, END = date(2021, 1, 1), date(2025, 12, 31)


def past_sale(record: SaleRecord) -> PastSale:
    return PastSale(
        article_id=record.article_id,
        category_code=record.category_code,
        brand=record.brand,
        grade=record.grade,
        sold_on=record.sold_on,
        price_cents=record.price_cents,
        reference_new_price_cents=record.reference_new_price_cents,
        released_on=record.released_on,
    )


def bench_training(sales: int, *, seed: int = 7) -> dict[str, Any]:
    """Learn v1 and fit v2 on `sales` synthetic sales, each timed."""
    import pandas as pd

    from recommerce.argus.model import PriceModel

    catalogue = synthetic_catalogue(seed)
    started = time.perf_counter()
    records = list(synthetic_sales(catalogue, seed=seed, sales=sales, start=START, end=END))
    generated = time.perf_counter() - started
    started = time.perf_counter()
    StatisticalGuide.learn((past_sale(r) for r in records), today=END)
    v1 = time.perf_counter() - started
    started = time.perf_counter()
    table = pd.DataFrame(
        {
            "sold_on": [r.sold_on.isoformat() for r in records],
            "region": [r.region for r in records],
            "article_id": [r.article_id for r in records],
            "category_code": [r.category_code for r in records],
            "brand": [r.brand for r in records],
            "grade": [r.grade.value for r in records],
            "released_on": [r.released_on.isoformat() if r.released_on else None for r in records],
            "reference_new_price_cents": [r.reference_new_price_cents for r in records],
            "days_in_stock": [r.days_in_stock for r in records],
            "price_cents": [r.price_cents for r in records],
        }
    )
    del records
    framed = time.perf_counter() - started
    started = time.perf_counter()
    PriceModel().fit(table, "price_cents", seed=seed)
    v2 = time.perf_counter() - started
    return {
        "figures": {
            "argus_train_1m_sales_s": round(v1 + framed + v2, 1),
            "argus_train_sales": sales,
        },
        "setup": {
            "sales": sales,
            "articles": len(catalogue),
            "generate_s": round(generated, 1),
            "v1_guide_s": round(v1, 1),
            "v2_table_s": round(framed, 1),
            "v2_model_s": round(v2, 1),
            "how": "the synthetic history in memory; v1 StatisticalGuide.learn, then the v2 "
            "PriceModel (boosting, ridge, quantiles, conformal calibration, sell-within-30-days) "
            "on one thread; the figure is v1 + table + v2, generation excluded",
        },
    }


def bench_quote(workdir: Path, *, quotes: int, sales: int, seed: int = 7) -> dict[str, Any]:
    """Quotes at the counter through the store's HTTP API, with a guide of `sales` sales."""
    node = bench_store(workdir)
    try:
        catalogue = synthetic_catalogue(seed)
        guide = StatisticalGuide.learn(
            (
                past_sale(r)
                for r in synthetic_sales(catalogue, seed=seed, sales=sales, start=START, end=END)
            ),
            today=END,
        )
        with node.engine.begin() as conn:
            conn.execute(
                insert(t.argus_guides).values(
                    version=1,
                    method=METHOD,
                    trained_at=node.clock.now(),
                    received_at=node.clock.now(),
                    payload=guide_payload(guide),
                )
            )
            articles = list(conn.execute(select(t.articles.c.id)).scalars())
        rng = random.Random(seed)
        asks = [(rng.choice(articles), rng.choice(list(Grade)).value) for _ in range(quotes)]
        # The reference: the argus port alone, in this process.
        with node.reading() as conn:
            catalog = SqlCatalog(conn)
            known = {}
            for article_id, _ in asks:
                found = catalog.article(article_id)
                if found is None:
                    raise RuntimeError(f"article {article_id} vanished")
                known[article_id] = found
        node.argus.quote(known[asks[0][0]], Grade(asks[0][1]), on=END)  # loads the guide
        local = []
        for article_id, grade in asks:
            started = time.perf_counter()
            quote = node.argus.quote(known[article_id], Grade(grade), on=END)
            local.append((time.perf_counter() - started) * 1000)
        assert quote.method == METHOD
        with store_process(node.settings) as server:
            headers = {**_log_in(server.url, "acheteur"), "Content-Type": "application/json"}
            url = urlsplit(server.url)
            conn_http = http.client.HTTPConnection(
                url.hostname or "127.0.0.1", url.port, timeout=30
            )
            conn_http.connect()
            assert conn_http.sock is not None
            conn_http.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            samples = []
            try:
                for n, (article_id, grade) in enumerate([*asks[:20], *asks]):
                    body = json.dumps({"article_id": article_id, "grade": grade})
                    started = time.perf_counter()
                    conn_http.request("POST", "/api/v1/quotes", body=body, headers=headers)
                    response = conn_http.getresponse()
                    answer = json.loads(response.read())
                    elapsed = (time.perf_counter() - started) * 1000
                    if response.status != 200 or answer["method"] != METHOD:
                        raise RuntimeError(f"quote refused or not from the guide: {answer}")
                    if n >= 20:  # the first twenty warm the server up
                        samples.append(elapsed)
            finally:
                conn_http.close()
    finally:
        node.engine.dispose()
    samples.sort()
    local.sort()
    return {
        "figures": {
            "quote_p50_ms": round(_quantile(samples, 0.50), 3),
            "quote_p99_ms": round(_quantile(samples, 0.99), 3),
            "quote_in_process_p99_ms": round(_quantile(local, 0.99), 3),
        },
        "setup": {
            "quotes": quotes,
            "guide_sales": sales,
            "guide_article_grades": len(guide.articles),
            "how": "POST /api/v1/quotes on one keep-alive connection to the store node (uvicorn "
            "in its own process, SQLite), random demo articles and grades, the newest guide read "
            "from the store's database; reference: the argus port called in the bench's process",
        },
    }


def run_argus_benches(workdir: Path, *, quick: bool) -> dict[str, Any]:
    quote = bench_quote(
        workdir / "quote", quotes=200 if quick else 1000, sales=50_000 if quick else 200_000
    )
    training = bench_training(50_000 if quick else 1_000_000)
    return {
        "figures": {**quote["figures"], **training["figures"]},
        "setup": {"quote": quote["setup"], "training": training["setup"]},
    }


if __name__ == "__main__":  # a quick look: python -m recommerce.sim.argus_bench
    with tempfile.TemporaryDirectory() as folder:
        print(json.dumps(run_argus_benches(Path(folder), quick=True), indent=1))
