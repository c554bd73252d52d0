"""The demo: central and three stores on SQLite, the chain's catalogue and people, two years of
the stores' sales history at central (the back office's dashboards have figures from the
start), and the simulator playing the chain at a human pace until Ctrl-C, which stops every
process cleanly."""

from __future__ import annotations

import shutil
import signal
import socket
from datetime import timedelta
from pathlib import Path

from rich.console import Console

from recommerce.central.cli import DEMO_PASSWORD as CENTRAL_PASSWORD
from recommerce.central.cli import DEMO_USER as CENTRAL_USER
from recommerce.central.settings import CentralSettings
from recommerce.sim.processes import HOST
from recommerce.sim.simulator import SimPlan, Simulation, chain_of
from recommerce.sim.world import World
from recommerce.store.seed import DEMO_PASSWORD, DEMO_STAFF

DEMO_STORES = 3
DEMO_SPEED = 120.0  # a trading day of 9 h 30 in under 5 minutes
DEMO_BASE_PORT = 8000  # central on 8000, store n on 8000 + n, when they are free
FOREVER = 10_000  # days: the demo plays until Ctrl-C
DEMO_HISTORY_YEARS = 2  # about 45,000 sales in three stores: a few seconds to load


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As uvicorn binds: a port whose last connections are still closing is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def _base_port(stores: int) -> int | None:
    wanted = range(DEMO_BASE_PORT, DEMO_BASE_PORT + stores + 1)
    return DEMO_BASE_PORT if all(_free(p) for p in wanted) else None


def print_urls(simulation: Simulation, console: Console) -> None:
    """Where everything is, and who logs in where (full URLs, whatever the terminal's width)."""
    chain = simulation.chain
    central = chain.central_url
    rows = [
        ("storefront (customers)", f"{central}/"),
        ("back office", f"{central}/backoffice/  (login {CENTRAL_USER} / {CENTRAL_PASSWORD})"),
        ("head office API", f"{central}/docs"),
    ]
    rows += [
        (f"store {store.number} ({store.place.city})", f"{store.url}/  (screens; API at /docs)")
        for store in chain.stores
    ]
    width = max(len(what) for what, _ in rows)
    console.print("recommerce demo: a chain of stores and its head office", style="bold")
    for what, where in rows:
        console.print(f"  {what.ljust(width)}  {where}", soft_wrap=True)
    staff = ", ".join(f"{username} ({role.value})" for username, _, role in DEMO_STAFF)
    console.print(f"  staff of every store: {staff}; password {DEMO_PASSWORD}", soft_wrap=True)
    console.print("Every process answers /healthz and /metrics. Ctrl-C stops the chain.")


def run_demo(
    workdir: Path,
    *,
    stores: int = DEMO_STORES,
    seed: int = 7,
    speed: float = DEMO_SPEED,
    history_years: int = DEMO_HISTORY_YEARS,
    console: Console | None = None,
) -> None:
    """Start the chain in `workdir` (what an earlier demo left there is wiped), print where
    everything is, and play trading days until interrupted."""
    console = console or Console()
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    plan = SimPlan(stores=stores, days=FOREVER, seed=seed, speed=speed)

    def prepare_central(settings: CentralSettings, world: World) -> None:
        if history_years:
            _load_history(settings, world, years=history_years, stores=stores, console=console)

    simulation = chain_of(
        plan,
        workdir,
        progress=console.print,
        base_port=_base_port(stores),
        prepare=prepare_central,
    )
    # `kill` (SIGTERM) stops the demo as Ctrl-C does: no node is left running.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        simulation.start()
        print_urls(simulation, console)
        simulation.play(FOREVER)
    except KeyboardInterrupt:
        console.print("stopping the chain...")
    finally:
        simulation.stopping.set()
        simulation.chain.stop()
        console.print("stopped.")


def _load_history(
    settings: CentralSettings, world: World, *, years: int, stores: int, console: Console
) -> None:
    """The stores' sales of the `years` years before today, at central (its read models and
    rollups), as the former system would have handed them over."""
    from recommerce.central.bootstrap import bootstrap
    from recommerce.sim.history_load import PARIS, load_history, plan_history

    central = bootstrap(settings)
    try:
        until = central.clock.now().astimezone(PARIS).date() - timedelta(days=1)
        plan = plan_history(world, years=years, stores=stores, until=until)
        loaded = load_history(central, world, plan)
    finally:
        central.engine.dispose()
    console.print(
        f"history: {loaded.sales:,} sales of {plan.first_day} to {plan.last_day} loaded at "
        f"central in {loaded.seconds:.1f} s"
    )
