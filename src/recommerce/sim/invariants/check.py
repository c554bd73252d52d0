"""Checking every invariant of architecture.md section 5 once the chain is idle."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from recommerce.sim.invariants.cents import check_money
from recommerce.sim.invariants.databases import Databases, StoreHandle, opened
from recommerce.sim.invariants.exactly_once import check_events_exactly_once
from recommerce.sim.invariants.journals import check_fiscal_chains
from recommerce.sim.invariants.orders import check_online_orders
from recommerce.sim.invariants.probes import Probe, check_bad_input
from recommerce.sim.invariants.register import check_police_register
from recommerce.sim.invariants.results import InvariantResult, broken
from recommerce.sim.invariants.sales import check_items_sold_once
from recommerce.sim.invariants.totals import check_totals_reconcile

CHECKS: dict[int, Callable[[Databases], InvariantResult]] = {
    1: check_items_sold_once,
    2: check_police_register,
    3: check_fiscal_chains,
    4: check_events_exactly_once,
    5: check_totals_reconcile,
    6: check_online_orders,
    7: check_money,
}


def check_invariants(
    central_database_url: str,
    stores: Sequence[StoreHandle],
    *,
    probes: Sequence[Probe] = (),
    central_data_dir: Path | None = None,
) -> list[InvariantResult]:
    """Read central's and every store's database (never writing) and check the invariants,
    in their order. Call it once the chain is idle: nothing waiting to sync, no request in
    flight. A check that cannot run (a database or a key missing) is reported as failed,
    with the reason, and the others still run."""
    results: list[InvariantResult] = []
    with opened(central_database_url, stores, central_data_dir) as dbs:
        for number, check in CHECKS.items():
            try:
                results.append(check(dbs))
            except Exception as exc:  # the report says why; the other checks still run
                results.append(broken(number, exc))
    results.append(check_bad_input(probes))
    return results
