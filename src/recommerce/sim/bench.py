"""`recommerce bench`: performance figures as JSON, each timing with a reference measured in
the same run on the same machine, so that a noisy machine shows up in both."""

from __future__ import annotations

import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from recommerce.buyback.handlers import record_purchase
from recommerce.buyback.payment import Payment, PaymentMethod
from recommerce.buyback.purchase import PurchaseLine, RecordPurchase
from recommerce.catalog.model import Grade
from recommerce.central.report_bench import REPORT_GOALS, bench_reports
from recommerce.inventory.labels import LabelContent, label_code, render_png, render_svg
from recommerce.money import Money
from recommerce.sim.argus_bench import ARGUS_GOALS, run_argus_benches
from recommerce.sim.chain_bench import CHAIN_GOALS, RSS_ITEMS, bench_sim_day, bench_store_rss
from recommerce.sim.marketplace_bench import MARKETPLACE_GOALS, run_marketplace_benches
from recommerce.sim.stores import bench_store
from recommerce.sim.sync_bench import SYNC_GOALS, run_sync_benches
from recommerce.sim.till_bench import GOALS, bench_seller, bench_till, catalogue, offered_at_least
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t


def _median_ms(run: Callable[[int], object], repeats: int) -> float:
    samples = []
    for i in range(repeats):
        started = time.perf_counter()
        run(i)
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 3)


def bench_buying(node: StoreNode, repeats: int) -> dict[str, Any]:
    with node.engine.connect() as conn:
        staff_id = conn.execute(select(t.staff.c.id)).scalars().first()
    # An article the argus offers at least 80 EUR for in grade B (and so more than 30 in C).
    article = offered_at_least(node, catalogue(node), Money(8000))[0].id
    assert staff_id and article

    def purchase(i: int) -> None:
        record_purchase(
            RecordPurchase(
                seller=bench_seller(i, prefix="BENCH"),
                payment=Payment(PaymentMethod.CASH),
                lines=(
                    PurchaseLine(article_id=article, grade=Grade.B, agreed_price=Money(8000)),
                    PurchaseLine(article_id=article, grade=Grade.C, agreed_price=Money(3000)),
                ),
                staff_id=staff_id,
            ),
            node.uow,
            argus=node.argus,
            clock=node.clock,
            keys=node.vault,
            policy=node.policy,
        )

    def bare_commit(i: int) -> None:
        # Reference: one durable write transaction on the same database, nothing else.
        with node.engine.begin() as conn:
            conn.execute(text("UPDATE counters SET value = value WHERE name = 'label'"))

    label = LabelContent(label_code(1, 1), "Apple iPhone 12 64 Go", "B", "349,00 EUR", 1, 1)
    return {
        "purchase_two_items_ms": _median_ms(purchase, repeats),
        "purchase_reference_bare_commit_ms": _median_ms(bare_commit, repeats),
        "label_svg_ms": _median_ms(lambda _: render_svg(label), repeats),
        "label_png_ms": _median_ms(lambda _: render_png(label), repeats),
    }


def _load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):  # not on this platform
        return None


def run(*, quick: bool) -> dict[str, Any]:
    repeats = 20 if quick else 200
    load_at_start = _load_average()
    with tempfile.TemporaryDirectory(prefix="recommerce-bench-") as workdir:
        node = bench_store(Path(workdir))
        try:
            figures: dict[str, Any] = bench_buying(node, repeats)
        finally:
            node.engine.dispose()
        till_dir = Path(workdir) / "till"
        till_node = bench_store(till_dir)
        try:
            till_figures, till_setup = bench_till(till_node, till_dir, quick=quick)
        finally:
            till_node.engine.dispose()
        figures.update(till_figures)
        # Central on PostgreSQL when RECOMMERCE_BENCH_DATABASE_URL names a server, else SQLite.
        sync = run_sync_benches(
            Path(workdir) / "sync",
            quick=quick,
            base_url=os.environ.get("RECOMMERCE_BENCH_DATABASE_URL") or None,
        )
        figures.update(sync["figures"])
        # The marketplace: a till sale off the website, and search over many listings.
        marketplace = run_marketplace_benches(
            Path(workdir) / "marketplace",
            quick=quick,
            base_url=os.environ.get("RECOMMERCE_BENCH_DATABASE_URL") or None,
        )
        figures.update(marketplace["figures"])
        # The argus: a quote at the counter, and training on a million sales.
        argus = run_argus_benches(Path(workdir) / "argus", quick=quick)
        figures.update(argus["figures"])
        # The chain: a trading day of every store, and a store node's memory.
        chain_day = bench_sim_day(Path(workdir) / "chain", stores=3 if quick else 60)
        figures.update(chain_day["figures"])
        rss = bench_store_rss(Path(workdir) / "rss", items=3_000 if quick else RSS_ITEMS)
        figures.update(rss["figures"])
        # Reporting: thirty years of sales by month, store and category, from the rollups.
        reports = bench_reports(Path(workdir) / "reporting", quick=quick)
        figures.update(reports["figures"])
    return {
        "generated_at": datetime.now(UTC).isoformat(),
        "quick": quick,
        "repeats": repeats,
        "statistic": "median",  # of the *_ms figures, except percentiles (_p50, _p95, _p99)
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            # Other work on the machine shows here: the figures of a loaded machine are worse.
            "load_average_1m": {"at_start": load_at_start, "at_end": _load_average()},
        },
        "database": "sqlite (WAL, synchronous=FULL) in a temporary directory",
        "figures": figures,
        # The goal on 2 cores: for reading next to the figures, never asserted.
        "goals": {
            **GOALS,
            **SYNC_GOALS,
            **MARKETPLACE_GOALS,
            **ARGUS_GOALS,
            **CHAIN_GOALS,
            **REPORT_GOALS,
        },
        "till": till_setup,
        "sync": sync["setup"],
        # How delist_* and search_* were measured (stores, sales, listings, queries, stages).
        "marketplace": marketplace["setup"],
        "argus": argus["setup"],
        "chain": {"day": chain_day["setup"], "store_rss": rss["setup"]},
        "reporting": reports["setup"],
    }
