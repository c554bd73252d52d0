"""The invariant checker: reads the chain's databases once it is idle and reports, for each
invariant of architecture.md section 5, whether it holds and what breaks it.

    results = check_invariants(central_url, [StoreHandle(s) for s in settings], probes=probes)
    report = report_dict(results)  # {"ok": ..., "invariants": {"items_sold_once": ...}}
"""

from recommerce.sim.invariants.check import check_invariants
from recommerce.sim.invariants.databases import StoreHandle, read_only_engine
from recommerce.sim.invariants.probes import BusinessCounts, Probe, probe
from recommerce.sim.invariants.results import InvariantResult, report_dict

__all__ = [
    "BusinessCounts",
    "InvariantResult",
    "Probe",
    "StoreHandle",
    "check_invariants",
    "probe",
    "read_only_engine",
    "report_dict",
]
