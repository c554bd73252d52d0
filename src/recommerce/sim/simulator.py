"""`recommerce sim`: a seeded chain of N stores over D trading days, as real processes talking
HTTP, faults on demand, and at the end every invariant of the architecture checked.

A day: the clock moves to the morning of the next trading day; each store opens its till and
trades (sellers at the counter, shoppers at the till, items put online, online orders handed
over, returns), customers order online, faults strike if asked; then every link is healed,
each store counts and closes its till and closes the day, and the chain is left to settle
(every event at central, every online order answered) before the next day starts.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, create_engine, func, select

from recommerce.argus.history import WEEKDAY_TRAFFIC
from recommerce.buyback.seller import SellerIdentity
from recommerce.central.bootstrap import bootstrap as bootstrap_central
from recommerce.central.db import catalog_tables as cat
from recommerce.central.db import marketplace_tables as m
from recommerce.central.db import sync_tables as s
from recommerce.central.settings import CentralSettings
from recommerce.clock import read_offset, write_offset
from recommerce.sim.activity import TILL, Article, OnlineShoppers, Shelf, StoreDay, Tally
from recommerce.sim.chain import Chain, ChainStore, StorePlace
from recommerce.sim.faults import Faults
from recommerce.sim.invariants.check import check_invariants
from recommerce.sim.invariants.databases import StoreHandle, read_only_engine
from recommerce.sim.invariants.probes import Probe, probe
from recommerce.sim.invariants.results import report_dict
from recommerce.sim.world import World, install
from recommerce.store.sync.pusher import head_seq

ZONE = ZoneInfo("Europe/Paris")
OPENING = day_time(9, 30)
TRADING_DAY_S = 9.5 * 3600  # 9:30 to 19:00
OPERATIONS_PER_DAY = 30  # an average store on an average weekday, at full speed
ONLINE_ORDERS_PER_STORE_DAY = 2
SETTLE_TIMEOUT_S = 180.0
OPEN_ORDER_STATES = (
    "awaiting_store",
    "reserved",
    "rejected",
    "confirmed",
    "ready_for_collection",
    "shipped",
)


@dataclass(frozen=True, slots=True)
class SimPlan:
    stores: int
    days: int
    seed: int
    faults: bool = False
    speed: float = 0.0  # simulated seconds per real second; 0: as fast as the chain goes
    operations_per_day: int = OPERATIONS_PER_DAY

    def pace_s(self, operations: int) -> float:
        """Real seconds between two operations of a store (0 at full speed)."""
        if not self.speed or not operations:
            return 0.0
        return TRADING_DAY_S / self.speed / operations


@dataclass
class DayReport:
    day: date
    wall_s: float
    settle_s: float
    faults: dict[str, int] = field(default_factory=dict)


class Simulation:
    """One run: the chain, its people and what happened."""

    def __init__(
        self,
        plan: SimPlan,
        workdir: Path,
        *,
        places: list[StorePlace],
        sellers: Callable[[int], Any],
        customers: Callable[[int], dict[str, str]],
        seed_central: Callable[[CentralSettings], None],
        central_database_url: str | None = None,
        progress: Callable[[str], object] = print,
        base_port: int | None = None,
    ) -> None:
        self.plan = plan
        self.progress = progress
        self.workdir = workdir
        self.rng = random.Random(plan.seed)
        self.clock_file = workdir / "sim-clock"
        self.chain = Chain(
            workdir,
            places,
            clock_file=self.clock_file,
            central_database_url=central_database_url,
            base_port=base_port,
        )
        self.sellers = sellers
        self.customers = customers
        self.seed_central = seed_central
        self.tally = Tally()
        self.shelves: dict[int, Shelf] = {p.number: Shelf() for p in places}
        self.days: list[DayReport] = []
        self.probes: list[Probe] = []
        self.in_transit: dict[str, int] = {}
        self.store_days: list[StoreDay] = []  # the day being played, or the last one
        self.first_day = (datetime.now(ZONE) + timedelta(days=1)).date()
        self.articles: list[Article] = []
        self.stopping = threading.Event()  # set: the day's actors stop (the end, or Ctrl-C)

    # --- the run --------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        """Start the chain, play every day of the plan, settle: the report (invariants
        apart)."""
        started = time.perf_counter()
        self.start()
        setup_s = time.perf_counter() - started
        self.play(self.plan.days)
        settle_s = self.settle()
        return {
            "plan": asdict(self.plan),
            "wall_s": round(time.perf_counter() - started, 1),
            "setup_s": round(setup_s, 1),
            "final_settle_s": round(settle_s, 1),
            "days": [
                {
                    "day": d.day.isoformat(),
                    "wall_s": round(d.wall_s, 1),
                    "settle_s": round(d.settle_s, 1),
                    "faults": d.faults,
                }
                for d in self.days
            ],
            "operations": self.tally.as_dict(),
            "sync_lag_s": self.sync_lag(),
        }

    def start(self) -> None:
        self.progress(f"starting central and {len(self.chain.places)} stores")
        self.chain.start(self.seed_central)
        self.articles = self._articles()

    def play(self, days: int) -> None:
        """Play `days` trading days after those already played."""
        for _ in range(days):
            day = self.first_day + timedelta(days=len(self.days))
            self.play_day(day)
            last = self.days[-1]
            self.progress(
                f"day {len(self.days)} ({day:%a %d %b}): {last.wall_s:.1f} s, settled in "
                f"{last.settle_s:.1f} s, faults: {last.faults or 'none'}"
            )

    def move_clock_to(self, moment: datetime) -> None:
        """Every process's clock now reads `moment` (simulated time only moves forward)."""
        offset = moment - datetime.now(ZONE)
        if offset > read_offset(self.clock_file):
            write_offset(self.clock_file, offset)

    def play_day(self, day: date) -> None:
        started = time.perf_counter()
        self.move_clock_to(datetime.combine(day, OPENING, ZONE))
        traffic = WEEKDAY_TRAFFIC[day.weekday()]
        stop = self.stopping = threading.Event()
        store_days = []
        for store in self.chain.stores:
            operations = max(1, round(self.plan.operations_per_day * traffic))
            store_days.append(
                StoreDay(
                    store,
                    day=day,
                    rng=random.Random(self.rng.random()),
                    articles=self.articles,
                    sellers=self.sellers,
                    shelf=self.shelves[store.number],
                    tally=self.tally,
                    operations=operations,
                    pace_s=self.plan.pace_s(operations),
                    neighbours=tuple(
                        n.number for n in self.chain.stores if n.number != store.number
                    ),
                    in_transit=self.in_transit,
                )
            )
        self.store_days = store_days  # their staff hand over online orders while settling
        faults = Faults(self.chain, random.Random(self.rng.random()))
        shoppers = OnlineShoppers(
            self.chain,
            rng=random.Random(self.rng.random()),
            customers=self.customers,
            tally=self.tally,
            orders=max(1, round(ONLINE_ORDERS_PER_STORE_DAY * len(store_days) * traffic)),
            pace_s=self.plan.pace_s(self.plan.operations_per_day),
        )
        _together([sd.morning for sd in store_days])
        self.send_bad_input()
        background = [threading.Thread(target=shoppers.shop, args=(stop,), daemon=True)]
        if self.plan.faults:
            background.append(threading.Thread(target=faults.run, args=(stop,), daemon=True))
        for thread in background:
            thread.start()
        _together([lambda sd=sd: sd.trade(stop) for sd in store_days])  # type: ignore[misc]
        stop.set()
        for thread in background:
            thread.join()
        faults.heal()
        _together([sd.evening for sd in store_days])
        wall_s = time.perf_counter() - started
        settle_s = self.settle()
        self.days.append(DayReport(day, wall_s, settle_s, dict(faults.injected)))

    def send_bad_input(self) -> None:
        """Before trading starts (nothing else writes to the stores), each store is sent
        requests it must refuse; what they changed is counted around each (invariant 8)."""
        for store in self.chain.stores:
            engine = read_only_engine(store.database_url)
            try:
                for what, send in bad_requests(store, self.shelves[store.number]):
                    self.probes.append(probe(engine, what, store=store.number, send=send))
            finally:
                engine.dispose()

    def check(self) -> dict[str, Any]:
        """Every invariant, once the chain has settled."""
        results = check_invariants(
            self.chain.central_settings.effective_database_url,
            [StoreHandle(store.settings) for store in self.chain.stores],
            probes=self.probes,
            central_data_dir=self.chain.central_settings.data_dir,
        )
        return report_dict(results)

    # --- settling -------------------------------------------------------------------------

    def settle(self, timeout: float = SETTLE_TIMEOUT_S) -> float:
        """Wait until central holds every store's events and every online order has had its
        answer (paid orders are handed over as customers come for them); seconds waited."""
        started = time.perf_counter()
        deadline = started + timeout
        # One engine per database for the whole wait, polled every 0.2 s.
        central = create_engine(self.chain.central_settings.effective_database_url)
        stores = {store.number: create_engine(store.database_url) for store in self.chain.stores}
        try:
            while True:
                waiting = self.unsettled(central, stores)
                if not waiting:
                    return time.perf_counter() - started
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"the chain did not settle in {timeout:.0f} s: {waiting}")
                if "orders to hand over" in waiting:
                    _together([store_day.online_orders for store_day in self.store_days])
                time.sleep(0.2)
        finally:
            for engine in (central, *stores.values()):
                engine.dispose()

    @staticmethod
    def unsettled(central: Engine, stores: dict[int, Engine]) -> dict[str, Any]:
        heads = {}
        for number, engine in stores.items():
            with engine.connect() as conn:
                heads[number] = head_seq(conn)
        with central.connect() as conn:
            applied = {
                int(number): int(seq)
                for number, seq in conn.execute(
                    select(s.sync_cursors.c.store_number, s.sync_cursors.c.last_applied_seq)
                )
            }
            open_orders = {
                str(status): int(count)
                for status, count in conn.execute(
                    select(m.orders.c.status, func.count())
                    .where(m.orders.c.status.in_(OPEN_ORDER_STATES))
                    .group_by(m.orders.c.status)
                )
            }
        waiting: dict[str, Any] = {}
        behind = {
            n: head - applied.get(n, 0) for n, head in heads.items() if head > applied.get(n, 0)
        }
        if behind:
            waiting["events not at central"] = behind
        if open_orders:
            waiting["open orders"] = open_orders
            if open_orders.get("confirmed") or open_orders.get("ready_for_collection"):
                waiting["orders to hand over"] = True
        return waiting

    # --- figures --------------------------------------------------------------------------

    def sync_lag(self) -> dict[str, float]:
        """Seconds from an event's occurrence at the store to its arrival at central."""
        engine = create_engine(self.chain.central_settings.effective_database_url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(select(s.events.c.occurred_at, s.events.c.received_at)).all()
        finally:
            engine.dispose()
        lags = sorted(
            max(0.0, (_aware(r.received_at) - _aware(r.occurred_at)).total_seconds()) for r in rows
        )
        if len(lags) < 2:
            return {"events": len(lags)}
        cuts = statistics.quantiles(lags, n=100, method="inclusive")
        return {
            "events": len(lags),
            "p50": round(cuts[49], 3),
            "p95": round(cuts[94], 3),
            "p99": round(cuts[98], 3),
            "max": round(lags[-1], 3),
        }

    def _articles(self) -> list[Article]:
        engine = create_engine(self.chain.central_settings.effective_database_url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    select(cat.articles.c.id, cat.categories.c.precious_metal)
                    .join(cat.categories, cat.categories.c.code == cat.articles.c.category_code)
                    .order_by(cat.articles.c.id)
                ).all()
        finally:
            engine.dispose()
        return [Article(r.id, bool(r.precious_metal)) for r in rows]


def _together(tasks: list[Callable[[], None]]) -> None:
    """Run the tasks each in its own thread and wait for all; the first failure is raised."""
    failures: list[BaseException] = []

    def guarded(task: Callable[[], None]) -> None:
        try:
            task()
        except BaseException as exc:  # re-raised below, in the caller's thread
            failures.append(exc)

    # Daemons: an interrupted run (Ctrl-C in the demo) does not wait for them to finish.
    threads = [threading.Thread(target=guarded, args=(task,), daemon=True) for task in tasks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))


# --- bad input, sent on purpose -------------------------------------------------------------


def bad_requests(store: ChainStore, shelf: Shelf) -> list[tuple[str, Callable[[], object]]]:
    """Requests the store must refuse with a clear error, changing nothing (invariant 8)."""
    minor = {
        "surname": "Petit",
        "first_names": "Léo",
        "birth_date": (date.today() - timedelta(days=16 * 365)).isoformat(),
        "address": "4 rue de la Paix, 75002 Paris",
        "document": {
            "type": "national_id",
            "number": "MINOR0001",
            "issued_on": "2022-01-10",
            "issuing_authority": "Préfecture de Police",
        },
    }

    def post(role: str, path: str, body: dict[str, Any]) -> Callable[[], object]:
        def send() -> object:
            with store.http() as client:
                return client.post(path, json=body, headers=store.headers(role, fresh=True))

        return send

    requests = [
        (
            "a purchase from a seller under 18",
            post(
                "acheteur",
                "/api/v1/purchases",
                {
                    "seller": minor,
                    "payment": {"method": "cash"},
                    "lines": [
                        {"article_id": "no-such-article", "grade": "B", "agreed_price_cents": 500}
                    ],
                },
            ),
        ),
        (
            "a sale of a label that does not exist",
            post(
                "caissier",
                "/api/v1/sales",
                {
                    "till": TILL,
                    "lines": [{"label_code": "2999999999994"}],
                    "tenders": [{"kind": "cash", "amount_cents": 1000}],
                },
            ),
        ),
    ]
    if shelf.prices:
        label = min(shelf.prices)
        requests.append(
            (
                "a sale paid short",
                post(
                    "caissier",
                    "/api/v1/sales",
                    {
                        "till": TILL,
                        "lines": [{"label_code": label}],
                        "tenders": [{"kind": "card", "amount_cents": 1}],
                    },
                ),
            )
        )
    return requests


# --- the whole run ---------------------------------------------------------------------------


def chain_of(
    plan: SimPlan,
    workdir: Path,
    *,
    progress: Callable[[str], object] = print,
    central_database_url: str | None = None,
    base_port: int | None = None,
    prepare: Callable[[CentralSettings, World], None] | None = None,
) -> Simulation:
    """The simulation of `plan`: the world of its seed (catalogue, stores, people) installed
    at central before it starts (then `prepare`, e.g. a history), its people at work."""
    world = World.generate(plan.seed, stores=plan.stores)
    people = threading.Lock()  # a world gives one person at a time

    def seller(index: int) -> SellerIdentity:
        with people:
            return world.seller(index)

    def customer(index: int) -> dict[str, str]:
        with people:
            someone = world.customer(index)
        return {"name": someone.name, "email": someone.email, "phone": someone.phone}

    def install_world(settings: CentralSettings) -> None:
        node = bootstrap_central(settings)
        try:
            install(node, world)
        finally:
            node.engine.dispose()
        if prepare is not None:
            prepare(settings, world)

    places = [StorePlace(s.number, s.name, s.city) for s in world.stores]
    return Simulation(
        plan,
        workdir,
        places=places,
        sellers=seller,
        customers=customer,
        seed_central=install_world,
        central_database_url=central_database_url,
        progress=progress,
        base_port=base_port,
    )


def simulate(
    plan: SimPlan,
    workdir: Path,
    *,
    progress: Callable[[str], object] = print,
    central_database_url: str | None = None,
) -> dict[str, Any]:
    """Play the chain of `plan` and check it: the report as JSON."""
    simulation = chain_of(
        plan, workdir, progress=progress, central_database_url=central_database_url
    )
    try:
        report = simulation.run()
        progress("checking the invariants")
        report.update(simulation.check())
    finally:
        simulation.chain.stop()
    return report
