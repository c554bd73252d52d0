"""`sync reconcile`: one business day as the store's database has it against central's figures
(`GET /api/v1/sync/stores/{n}/days/{day}`), figure by figure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from recommerce.store.bootstrap import StoreNode
from recommerce.store.sync.client import CentralClient, Refused, UpgradeRequired, refusal_error
from recommerce.store.sync.pusher import head_seq
from recommerce.store.sync.totals import FIGURES, DayTotals, daily_grand_total, day_totals

PARTS = ("count", "total_cents")


@dataclass(frozen=True, slots=True)
class Difference:
    figure: str  # "sales.count", "purchases.total_cents", "grand_total_cents"
    store: int | None
    central: int | None


@dataclass
class Reconciliation:
    day: date
    store_head_seq: int  # the store's newest event
    central_applied_seq: int | None  # central's figures include the events up to this one
    differences: list[Difference] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return not self.differences

    def as_json(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "agrees": self.agrees,
            "store_head_seq": self.store_head_seq,
            "central_applied_seq": self.central_applied_seq,
            "differences": [
                {"figure": d.figure, "store": d.store, "central": d.central}
                for d in self.differences
            ],
        }


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _central_figure(figures: Mapping[str, Any], name: str, part: str) -> int | None:
    entry = figures.get(name)
    return _number(entry.get(part)) if isinstance(entry, dict) else None


def day_differences(
    mine: DayTotals, grand_total: int | None, central: Mapping[str, Any]
) -> list[Difference]:
    """Each figure of a day where the store's database and central's figures (as central's
    day endpoint writes them) differ, and the grand total of the day's closing."""
    found = []
    for name in FIGURES:
        ours = getattr(mine, name).as_dict()
        for part in PARTS:
            theirs = _central_figure(central, name, part)
            if ours[part] != theirs:
                found.append(Difference(f"{name}.{part}", ours[part], theirs))
    closing = central.get("closing")
    theirs = _number(closing.get("grand_total_cents")) if isinstance(closing, dict) else None
    if grand_total != theirs:
        found.append(Difference("grand_total_cents", grand_total, theirs))
    return found


def reconcile_day(node: StoreNode, client: CentralClient, day: date) -> Reconciliation:
    with node.reading() as conn:
        mine = day_totals(conn, day, node.settings.zone)
        grand_total = daily_grand_total(conn, day)
        head = head_seq(conn)
    answer = client.day(day)
    if isinstance(answer, Refused | UpgradeRequired):
        raise refusal_error(answer, f"give its figures of {day.isoformat()}")
    return Reconciliation(
        day=day,
        store_head_seq=head,
        central_applied_seq=_number(answer.get("last_applied_seq")),
        differences=day_differences(mine, grand_total, answer),
    )
