"""Invariant 5: store and central totals reconcile per store and business day once sync is
idle (architecture.md section 4.8).

Two comparisons per store and day: central's own reconciliation (its read models against the
daily closing the store declared, `central.services.reconcile`), and the store's database
itself against central's figures (`store.sync.totals`, as `recommerce store sync reconcile`
compares them): purchases, sales and returns counted and summed, and the perpetual grand
total of the day's closing.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from recommerce.central.services.reconcile import business_days, day_figures, reconcile
from recommerce.sim.invariants.databases import Databases, OpenStore
from recommerce.sim.invariants.results import Findings, InvariantResult
from recommerce.store.db import tables as t
from recommerce.store.sync.reconcile import day_differences
from recommerce.store.sync.totals import daily_grand_total, day_totals


def _store_days(store: OpenStore) -> set[date]:
    with store.reading() as conn:
        moments = [
            *conn.execute(select(t.purchases.c.occurred_at)).scalars(),
            *conn.execute(select(t.tickets.c.occurred_at)).scalars(),
        ]
    return {moment.astimezone(store.zone).date() for moment in moments}


def _check_store(store: OpenStore, dbs: Databases, findings: Findings) -> tuple[int, int]:
    """Check one store; the days compared and the daily closings central found in agreement."""
    number = store.number
    with dbs.central_reading() as conn:
        reports = reconcile(conn, store_number=number)
        days = sorted(_store_days(store) | set(business_days(conn, number)))
        central = {day: day_figures(conn, number, day) for day in days}
    agreeing = 0
    for report in reports:
        if report.status == "agrees":
            agreeing += 1
        for difference in report.differences:
            findings.add(
                store=number,
                day=report.day,
                figure=difference.figure,
                problem="central's figures differ from the store's daily closing",
                at_central=difference.central,
                declared_by_store=difference.store,
            )
    with store.reading() as conn:
        for day in days:
            mine = day_totals(conn, day, store.zone)
            grand_total = daily_grand_total(conn, day)
            for gap in day_differences(mine, grand_total, central[day].as_dict()):
                findings.add(
                    store=number,
                    day=day,
                    figure=gap.figure,
                    problem=(
                        "the day's closing differs between the store and central"
                        if gap.figure == "grand_total_cents"
                        else "the store's database and central differ"
                    ),
                    at_store=gap.store,
                    at_central=gap.central,
                )
    return len(days), agreeing


def check_totals_reconcile(dbs: Databases) -> InvariantResult:
    findings = Findings()
    days = closings = 0
    for store in dbs.stores:
        store_days, agreeing = _check_store(store, dbs, findings)
        days += store_days
        closings += agreeing
    return findings.result(
        5, stores=len(dbs.stores), store_days=days, daily_closings_agreeing=closings
    )
