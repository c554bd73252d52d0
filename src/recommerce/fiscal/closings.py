"""Closings: daily, monthly and yearly totals with the perpetual grand total (rule D.19).

A daily closing sums the ticket records of its day; a monthly closing sums the daily
closings of its month, and a yearly closing the monthly closings of its year, never the
tickets again, so each level can be checked against the one below. Each closing carries
the perpetual grand total: the previous closing of the same period's grand total plus this
period's signed total (returns count negative). The caller seals the fields returned here
into the journal as a "closing" record, so closings are chained like tickets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from enum import StrEnum
from itertools import pairwise
from typing import Any

from recommerce.fiscal.journal import CLOSING, TICKET, JournalRecord


class Period(StrEnum):
    DAY = "day"
    MONTH = "month"
    YEAR = "year"


_LABEL_PATTERN = {
    Period.DAY: re.compile(r"\d{4}-\d{2}-\d{2}"),
    Period.MONTH: re.compile(r"\d{4}-\d{2}"),
    Period.YEAR: re.compile(r"\d{4}"),
}
_SUB_PERIOD = {Period.MONTH: Period.DAY, Period.YEAR: Period.MONTH}
_RECORD_NAME = {Period.DAY: "daily", Period.MONTH: "monthly", Period.YEAR: "yearly"}
_TICKET_KINDS = ("sale", "return")


def period_label(period: Period, day: date) -> str:
    """ "2026-11-20", "2026-11" or "2026": the period of `day` (the store's local date)."""
    if period is Period.DAY:
        return day.isoformat()
    if period is Period.MONTH:
        return f"{day.year:04d}-{day.month:02d}"
    return f"{day.year:04d}"


def closing_record_label(period: Period, label: str) -> str:
    """The journal record's human name: "daily closing 2026-11-20"."""
    return f"{_RECORD_NAME[Period(period)]} closing {label}"


def _cents(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be integer cents, not {value!r}")
    return value


def _sum_vat(rows: Iterable[Mapping[str, Any]], into: dict[tuple[str, str], list[int]]) -> None:
    for row in rows:
        key = (str(row["regime"]), str(row["rate"]))
        sums = into.setdefault(key, [0, 0])
        sums[0] += _cents(row["total_cents"], "a VAT row's total_cents")
        sums[1] += _cents(row["vat_cents"], "a VAT row's vat_cents")


def _sum_tenders(tenders: Iterable[Mapping[str, Any]], into: dict[str, int]) -> None:
    for tender in tenders:
        kind = str(tender["kind"])
        into[kind] = into.get(kind, 0) + _cents(tender["amount_cents"], "a tender's amount_cents")


def _check_records(period: Period, label: str, records: Sequence[JournalRecord]) -> None:
    seqs = [record.seq for record in records]
    if any(later <= earlier for earlier, later in pairwise(seqs)):
        raise ValueError(f"the records of {period} {label} must be given in seq order")
    if period is Period.DAY:
        for record in records:
            if record.kind != TICKET:
                raise ValueError(
                    f"a daily closing sums tickets; seq {record.seq} is a {record.kind}"
                )
            if record.fields.get("kind") not in _TICKET_KINDS:
                raise ValueError(f"seq {record.seq} is neither a sale nor a return")
        return
    sub_period = _SUB_PERIOD[period]
    seen: set[str] = set()
    for record in records:
        if record.kind != CLOSING or record.fields.get("period") != sub_period:
            raise ValueError(
                f"a {period} closing sums {sub_period} closings; seq {record.seq} is not one"
            )
        sub_label = str(record.fields.get("label"))
        if not sub_label.startswith(f"{label}-"):
            raise ValueError(f"{sub_period} closing {sub_label} is not within {period} {label}")
        if sub_label in seen:
            raise ValueError(f"{sub_period} {sub_label} is closed twice")
        seen.add(sub_label)


def closing_fields(
    *,
    period: Period,
    label: str,
    records: Sequence[JournalRecord],
    previous_grand_total_cents: int,
) -> dict[str, Any]:
    """The fields of a closing record for `period` `label`.

    `records` are the ticket records of the day (DAY), the daily closing records of the
    month (MONTH) or the monthly closing records of the year (YEAR), in seq order.
    `previous_grand_total_cents` is the grand total of the previous closing of the same
    period (0 for the first one).
    """
    period = Period(period)
    if not _LABEL_PATTERN[period].fullmatch(label):
        raise ValueError(f"{label!r} is not a {period} label")
    _cents(previous_grand_total_cents, "previous_grand_total_cents")
    _check_records(period, label, records)

    sales = returns = total = change = 0
    vat: dict[tuple[str, str], list[int]] = {}
    tenders: dict[str, int] = {}
    for record in records:
        fields = record.fields
        if period is Period.DAY:
            if fields["kind"] == "sale":
                sales += 1
            else:
                returns += 1
        else:
            sales += _cents(fields["sales_count"], "sales_count")
            returns += _cents(fields["returns_count"], "returns_count")
        total += _cents(fields["total_cents"], "total_cents")
        change += _cents(fields.get("change_cents", 0), "change_cents")
        _sum_vat(fields.get("vat", ()), vat)
        _sum_tenders(fields.get("tenders", ()), tenders)

    return {
        "period": period.value,
        "label": label,
        "first_seq": records[0].seq if records else None,
        "last_seq": records[-1].seq if records else None,
        "sales_count": sales,
        "returns_count": returns,
        "total_cents": total,
        "vat": [
            {"regime": regime, "rate": rate, "total_cents": sums[0], "vat_cents": sums[1]}
            for (regime, rate), sums in sorted(vat.items())
        ],
        "tenders": [
            {"kind": kind, "amount_cents": amount} for kind, amount in sorted(tenders.items())
        ],
        "change_cents": change,
        "previous_grand_total_cents": previous_grand_total_cents,
        "grand_total_cents": previous_grand_total_cents + total,
    }
