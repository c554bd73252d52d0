"""Invariant 8: bad input never leaves a half-written state: it gets a clear error, nothing
else changes.

Only the one who sends a bad request knows it was bad, so the simulator probes: it counts the
store's business rows (and the values of its gapless counters) before and after a deliberately
bad request, and keeps the answer. `probe` does all three around a callable; the checker then
reports every probe whose request changed something or got no clear error (a 4xx problem, or a
`DomainError` raised in process).

The counts are only meaningful while nothing else writes to the store: probe a store between
two bursts of its activity, with its sync worker idle or stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select

from recommerce.db.engine import READ_ONLY
from recommerce.errors import DomainError
from recommerce.sim.invariants.results import Findings, InvariantResult
from recommerce.store.db import tables as t

# Store tables that are not the store's business state, or that change on their own: the
# staff's login tokens, sync bookkeeping, what central sends down the feed (catalogue, price
# guides, configuration, online orders to serve), the counters (compared by value), and the
# alert a refused purchase of a listed serial leaves for the manager on purpose (rule A.7).
NOT_COUNTED = frozenset(
    {
        "api_tokens",
        "sync_state",
        "store_configuration",
        "categories",
        "grade_definitions",
        "articles",
        "argus_guides",
        "online_orders",
        "counters",
        "watchlist_alerts",
    }
)
COUNTED = tuple(table for table in t.metadata.sorted_tables if table.name not in NOT_COUNTED)


@dataclass(frozen=True)
class BusinessCounts:
    """The store's business rows per table, and its gapless counters' values, at one instant."""

    rows: Mapping[str, int]
    counters: Mapping[str, int]

    @classmethod
    def of(cls, engine: Engine) -> BusinessCounts:
        """Count in one read (one statement for the rows: a consistent snapshot)."""
        counts = select(
            *(
                select(func.count()).select_from(table).scalar_subquery().label(table.name)
                for table in COUNTED
            )
        )
        with engine.connect() as conn:
            conn = conn.execution_options(**{READ_ONLY: True})
            with conn.begin():
                rows = conn.execute(counts).one()._asdict()
                counters = dict(conn.execute(select(t.counters.c.name, t.counters.c.value)).all())
        return cls({k: int(v) for k, v in rows.items()}, {k: int(v) for k, v in counters.items()})

    def changes_since(self, before: BusinessCounts) -> dict[str, dict[str, int]]:
        """What differs from `before`: {"purchases": {"before": 3, "after": 4}, ...}."""
        changed: dict[str, dict[str, int]] = {}
        for prefix, then, now in (
            ("", before.rows, self.rows),
            ("counter ", before.counters, self.counters),
        ):
            for name in sorted(set(then) | set(now)):
                if then.get(name, 0) != now.get(name, 0):
                    changed[prefix + name] = {
                        "before": then.get(name, 0),
                        "after": now.get(name, 0),
                    }
        return changed


@dataclass(frozen=True)
class Probe:
    """One deliberately bad request to a store, and what it did."""

    what: str  # "a purchase from a seller under 18"
    store: int
    before: BusinessCounts
    after: BusinessCounts
    status: int | None = None  # the HTTP status answered; None for a call in process
    error_code: str | None = None  # the problem's `code`, or the DomainError's

    @property
    def changed(self) -> dict[str, dict[str, int]]:
        return self.after.changes_since(self.before)

    @property
    def clear_error(self) -> bool:
        """A 4xx problem over HTTP, or a DomainError in process."""
        if self.status is None:
            return self.error_code is not None
        return 400 <= self.status < 500


def _answer(response: Any) -> tuple[int | None, str | None]:
    """The status and problem code of an HTTP response (httpx, or Starlette's TestClient)."""
    status = getattr(response, "status_code", None)
    if not isinstance(status, int):
        return None, None
    try:
        body = response.json()
    except ValueError:
        return status, None
    code = body.get("code") if isinstance(body, dict) else None
    return status, code if isinstance(code, str) else None


def probe(engine: Engine, what: str, *, store: int, send: Callable[[], object]) -> Probe:
    """Count, send the bad request, count again. `send` makes the request: an HTTP call whose
    response it returns, or a call in process that raises a DomainError."""
    before = BusinessCounts.of(engine)
    try:
        status, code = _answer(send())
    except DomainError as exc:
        status, code = None, exc.code.value
    return Probe(what, store, before, BusinessCounts.of(engine), status, code)


def check_bad_input(probes: Sequence[Probe]) -> InvariantResult:
    findings = Findings()
    for made in probes:
        what = {"probe": made.what, "store": made.store, "status": made.status}
        if made.changed:
            findings.add(problem="the bad request changed the store", changed=made.changed, **what)
        if not made.clear_error:
            findings.add(problem="the bad request got no clear error", **what)
    return findings.result(
        8,
        probes=len(probes),
        stores_probed=sorted({made.store for made in probes}),
        error_codes=sorted({made.error_code for made in probes if made.error_code}),
    )
