"""The chain's benchmarks: one simulated trading day of many stores at full speed, and the
resident memory of a store node holding 100,000 items after a day of trading.

A store server is a small machine: the node's memory must not grow with its stock (the
stock lives in the database, not in the process)."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, select

from recommerce.sim.activity import Article, Shelf, StoreDay, Tally
from recommerce.sim.chain import ChainStore, StorePlace
from recommerce.sim.processes import ManagedProcess, store_process
from recommerce.sim.proxy import FaultProxy
from recommerce.sim.simulator import SimPlan, chain_of
from recommerce.sim.stores import bench_store
from recommerce.sim.till_bench import stock_baskets
from recommerce.sim.world import World
from recommerce.store.db import tables as t

CHAIN_GOALS = {"store_rss_mb": 250}
RSS_ITEMS = 100_000


def bench_sim_day(workdir: Path, *, stores: int) -> dict[str, Any]:
    """Wall time of one trading day of `stores` stores at full speed: trading, closing, and
    settling (every event at central, every online order answered); the chain's start-up is
    measured apart."""
    simulation = chain_of(SimPlan(stores=stores, days=1, seed=11), workdir, progress=lambda _: None)
    try:
        started = time.perf_counter()
        simulation.start()
        setup_s = time.perf_counter() - started
        started = time.perf_counter()
        simulation.play(1)
        day_s = time.perf_counter() - started
        operations = simulation.tally.as_dict()
    finally:
        simulation.chain.stop()
    return {
        "figures": {f"sim_day_{stores}_stores_s": round(day_s, 1)},
        "setup": {
            "stores": stores,
            "chain_start_s": round(setup_s, 1),
            "operations": sum(operations.values()),
            "per_store_operations": simulation.plan.operations_per_day,
        },
    }


def _rss_mb(process: ManagedProcess) -> float:
    """The process's resident set size (VmRSS), in MB."""
    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmRSS in /proc: not on Linux?")


def bench_store_rss(workdir: Path, *, items: int = RSS_ITEMS) -> dict[str, Any]:
    """A store node holding `items` items (bought at its own counter), under uvicorn in its
    own process, after a day of trading through its HTTP API: its resident memory."""
    node = bench_store(workdir)

    @event.listens_for(node.engine, "connect")
    def _no_fsync(dbapi_connection: Any, _record: Any) -> None:
        # Stocking the store only: the figure is the serving process's memory, not this.
        dbapi_connection.execute("PRAGMA synchronous=OFF")

    node.engine.dispose()
    started = time.perf_counter()
    stock_baskets(node, items // 3)
    stocking_s = time.perf_counter() - started
    node.engine.dispose()
    world = World.generate(5, stores=1)
    precious = {c.code for c in world.categories if c.precious_metal}
    with store_process(node.settings) as process:
        store = ChainStore(
            StorePlace(node.settings.store_number, node.settings.store_name, "Lyon"),
            node.settings,
            process,
            FaultProxy("127.0.0.1", process.port),  # not started: no central in this bench
        )
        with node.reading() as conn:
            rows = conn.execute(
                select(t.items.c.label_code, t.items.c.asking_price_cents)
                .where(t.items.c.status == "in_stock")
                .limit(2000)
            ).all()
        shelf = Shelf(prices={r.label_code: r.asking_price_cents for r in rows})
        day = StoreDay(
            store,
            day=node.clock.now().date(),
            rng=random.Random(5),
            articles=[Article(a.id, a.category_code in precious) for a in world.articles[:200]],
            sellers=world.seller,
            shelf=shelf,
            tally=Tally(),
            operations=400,
            pace_s=0,
        )
        day.morning()
        day.trade(threading.Event())
        day.evening()
        rss = _rss_mb(process)
    node.engine.dispose()
    return {
        "figures": {"store_rss_mb": rss},
        "setup": {
            "items": items,
            "stocking_s": round(stocking_s, 1),
            "day_operations": day.tally.as_dict(),
            "measured": "VmRSS of the uvicorn process after the day",
        },
    }
