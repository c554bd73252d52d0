"""What a check of one invariant says: ok or not, and details that name what failed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any

# The invariants of architecture.md section 5, in its order: number -> (key, title).
INVARIANTS: dict[int, tuple[str, str]] = {
    1: ("items_sold_once", "An item is sold at most once, or a recorded conflict says why"),
    2: (
        "police_register",
        "Every acquisition has exactly one police-register entry; numbering has no gap",
    ),
    3: ("fiscal_chains", "Every fiscal chain verifies; a change to a past record is detected"),
    4: ("events_exactly_once", "Every event acknowledged by central is applied exactly once"),
    5: ("totals_reconcile", "Store and central totals reconcile per store and day"),
    6: ("online_orders_end", "Every online order ends fulfilled, or cancelled and refunded"),
    7: ("money_exact", "Money never drifts: integer cents, VAT rounded in one place"),
    8: ("bad_input_changes_nothing", "Bad input never leaves a half-written state"),
}

MAX_LISTED = 20  # failures named in full per invariant; all of them are counted


@dataclass(frozen=True)
class InvariantResult:
    number: int  # its number in architecture.md section 5
    key: str
    title: str
    ok: bool
    details: dict[str, Any]  # JSON-ready: counts checked, and the failures by name

    def as_dict(self) -> dict[str, Any]:
        return {"number": self.number, "title": self.title, "ok": self.ok, "details": self.details}


def json_ready(value: Any) -> Any:
    """A copy made of JSON types only: times as ISO 8601, sets sorted, enums as their value."""
    if isinstance(value, Enum):
        return json_ready(value.value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((json_ready(v) for v in value), key=str)
    if isinstance(value, Iterable):
        return [json_ready(v) for v in value]
    return str(value)


@dataclass
class Findings:
    """What a check found wrong: the first few named in full, every one counted."""

    listed: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0

    def add(self, **what: Any) -> None:
        self.count += 1
        if len(self.listed) < MAX_LISTED:
            first = {key: what[key] for key in ("store", "problem") if key in what}
            self.listed.append(json_ready(first | what))

    def result(self, number: int, **checked: Any) -> InvariantResult:
        """The invariant's result: ok when nothing was found, with what was checked."""
        key, title = INVARIANTS[number]
        details = json_ready(checked)
        details["failures"] = self.listed
        details["failure_count"] = self.count
        return InvariantResult(number, key, title, self.count == 0, details)


def broken(number: int, error: BaseException) -> InvariantResult:
    """The check itself could not run (a database or a key missing): not ok, and why."""
    key, title = INVARIANTS[number]
    reason = f"the check could not run: {type(error).__name__}: {error}"
    return InvariantResult(number, key, title, False, {"error": reason})


def report_dict(results: Iterable[InvariantResult]) -> dict[str, Any]:
    """The report as JSON: `ok` when every invariant holds, and each invariant by its key."""
    ordered = sorted(results, key=lambda r: r.number)
    return {
        "ok": all(r.ok for r in ordered),
        "invariants": {r.key: r.as_dict() for r in ordered},
    }
