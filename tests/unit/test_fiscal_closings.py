"""Closings: daily, monthly and yearly totals, and the perpetual grand total (rule D.19)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from recommerce.fiscal.closings import (
    Period,
    closing_fields,
    closing_record_label,
    period_label,
)
from recommerce.fiscal.journal import FiscalKey, JournalRecord, seal, verify

KEY = FiscalKey(Ed25519PrivateKey.generate())


@dataclass(frozen=True)
class Sale:
    """A ticket as the test draws it: a sale (positive) or a return (negative)."""

    day: date
    total_cents: int
    regime: str
    tender: str

    @property
    def kind(self) -> str:
        return "return" if self.total_cents < 0 else "sale"


def ticket_fields(n: int, sale: Sale) -> dict[str, Any]:
    vat_cents = sale.total_cents // 6 if sale.regime == "normal" else sale.total_cents // 10
    return {
        "ticket_id": f"t-{n}",
        "number": f"042-T1-{n:06d}",
        "till": "T1",
        "kind": sale.kind,
        "staff_id": "staff-1",
        "lines": [],
        "tenders": [{"kind": sale.tender, "amount_cents": sale.total_cents}],
        "change_cents": 0,
        "total_cents": sale.total_cents,
        "vat": [
            {
                "regime": sale.regime,
                "rate": "20",
                "total_cents": sale.total_cents,
                "vat_cents": vat_cents,
            }
        ],
        "refers_to": "t-0" if sale.kind == "return" else None,
    }


class Journal:
    """A store's journal in memory: tickets and closings sealed in one chain."""

    def __init__(self) -> None:
        self.records: list[JournalRecord] = []
        self.grand_total = {period: 0 for period in Period}

    def add(self, kind: str, label: str, at: datetime, fields: dict[str, Any]) -> JournalRecord:
        record = seal(
            self.records[-1] if self.records else None,
            seq=len(self.records) + 1,
            kind=kind,
            label=label,
            occurred_at=at,
            fields=fields,
            key=KEY,
        )
        self.records.append(record)
        return record

    def ticket(self, sale: Sale) -> JournalRecord:
        n = len(self.records) + 1
        at = datetime.combine(sale.day, time(10), tzinfo=UTC)
        return self.add("ticket", f"ticket 042-T1-{n:06d}", at, ticket_fields(n, sale))

    def close(self, period: Period, day: date, records: list[JournalRecord]) -> JournalRecord:
        label = period_label(period, day)
        fields = closing_fields(
            period=period,
            label=label,
            records=records,
            previous_grand_total_cents=self.grand_total[period],
        )
        self.grand_total[period] = fields["grand_total_cents"]
        at = datetime.combine(day, time(23, 59), tzinfo=UTC)
        return self.add("closing", closing_record_label(period, label), at, fields)


def sales_strategy(first: date, days: int) -> st.SearchStrategy[list[Sale]]:
    return st.lists(
        st.builds(
            Sale,
            day=st.integers(min_value=0, max_value=days - 1).map(
                lambda d: first + timedelta(days=d)
            ),
            total_cents=st.integers(min_value=-50_000, max_value=200_000).filter(lambda c: c != 0),
            regime=st.sampled_from(["margin", "normal"]),
            tender=st.sampled_from(["cash", "card", "store_credit"]),
        ),
        max_size=40,
    ).map(lambda sales: sorted(sales, key=lambda s: s.day))


def close_day_by_day(
    journal: Journal, sales: list[Sale], days: list[date]
) -> dict[date, JournalRecord]:
    closings: dict[date, JournalRecord] = {}
    for day in days:
        tickets = [journal.ticket(sale) for sale in sales if sale.day == day]
        closings[day] = journal.close(Period.DAY, day, tickets)
    return closings


def test_a_daily_closing_sums_the_days_tickets_per_vat_rate_and_tender() -> None:
    journal = Journal()
    day = date(2026, 11, 20)
    tickets = [
        journal.ticket(Sale(day, 16_000, "margin", "cash")),
        journal.ticket(Sale(day, 9_000, "normal", "card")),
        journal.ticket(Sale(day, -4_000, "margin", "store_credit")),
    ]

    fields = closing_fields(
        period=Period.DAY, label="2026-11-20", records=tickets, previous_grand_total_cents=500_000
    )

    assert fields == {
        "period": "day",
        "label": "2026-11-20",
        "first_seq": 1,
        "last_seq": 3,
        "sales_count": 2,
        "returns_count": 1,
        "total_cents": 21_000,
        "vat": [
            {"regime": "margin", "rate": "20", "total_cents": 12_000, "vat_cents": 1_200},
            {"regime": "normal", "rate": "20", "total_cents": 9_000, "vat_cents": 1_500},
        ],
        "tenders": [
            {"kind": "card", "amount_cents": 9_000},
            {"kind": "cash", "amount_cents": 16_000},
            {"kind": "store_credit", "amount_cents": -4_000},
        ],
        "change_cents": 0,
        "previous_grand_total_cents": 500_000,
        "grand_total_cents": 521_000,
    }


def test_a_day_without_tickets_closes_at_zero_and_keeps_the_grand_total() -> None:
    fields = closing_fields(
        period=Period.DAY, label="2026-11-21", records=[], previous_grand_total_cents=42
    )

    assert fields["first_seq"] is None
    assert fields["last_seq"] is None
    assert fields["total_cents"] == 0
    assert fields["grand_total_cents"] == 42


@settings(max_examples=60, deadline=None)
@given(sales=sales_strategy(date(2026, 11, 27), days=8))
def test_the_perpetual_grand_total_equals_the_signed_sum_of_all_tickets(sales: list[Sale]) -> None:
    journal = Journal()
    days = [date(2026, 11, 27) + timedelta(days=d) for d in range(8)]

    closings = close_day_by_day(journal, sales, days)

    last = closings[days[-1]]
    assert last.fields["grand_total_cents"] == sum(sale.total_cents for sale in sales)
    assert (
        sum(c.fields["total_cents"] for c in closings.values()) == last.fields["grand_total_cents"]
    )
    assert sum(c.fields["returns_count"] for c in closings.values()) == sum(
        sale.kind == "return" for sale in sales
    )
    assert verify(journal.records, KEY.public_key).ok


def _sum_rows(closings: list[JournalRecord], rows: str, key: tuple[str, ...]) -> Counter[Any]:
    sums: Counter[Any] = Counter()
    for closing in closings:
        for row in closing.fields[rows]:
            for amount in ("total_cents", "vat_cents", "amount_cents"):
                if amount in row:
                    sums[(*(row[k] for k in key), amount)] += row[amount]
    return sums


@settings(max_examples=40, deadline=None)
@given(sales=sales_strategy(date(2026, 10, 29), days=65))
def test_month_and_year_closings_equal_the_sums_of_their_days(sales: list[Sale]) -> None:
    journal = Journal()
    days = [date(2026, 10, 29) + timedelta(days=d) for d in range(65)]  # into January 2027
    daily = close_day_by_day(journal, sales, days)

    monthly: dict[str, JournalRecord] = {}
    for month in sorted({period_label(Period.MONTH, day) for day in days}):
        its_days = [daily[day] for day in days if period_label(Period.MONTH, day) == month]
        monthly[month] = journal.close(Period.MONTH, date.fromisoformat(f"{month}-01"), its_days)
        summed = monthly[month].fields
        for count in ("sales_count", "returns_count", "total_cents", "change_cents"):
            assert summed[count] == sum(d.fields[count] for d in its_days)
        assert _sum_rows([monthly[month]], "vat", ("regime", "rate")) == _sum_rows(
            its_days, "vat", ("regime", "rate")
        )
        assert _sum_rows([monthly[month]], "tenders", ("kind",)) == _sum_rows(
            its_days, "tenders", ("kind",)
        )
        assert summed["first_seq"] == its_days[0].seq
        assert summed["last_seq"] == its_days[-1].seq
        # each level's perpetual grand total meets the daily one at the end of the month
        assert summed["grand_total_cents"] == its_days[-1].fields["grand_total_cents"]

    year_2026 = [monthly[m] for m in monthly if m.startswith("2026-")]
    yearly = journal.close(Period.YEAR, date(2026, 12, 31), year_2026)
    in_2026 = [sale for sale in sales if sale.day.year == 2026]
    assert yearly.fields["total_cents"] == sum(sale.total_cents for sale in in_2026)
    assert yearly.fields["sales_count"] == sum(sale.kind == "sale" for sale in in_2026)
    assert yearly.fields["grand_total_cents"] == monthly["2026-12"].fields["grand_total_cents"]
    assert _sum_rows([yearly], "tenders", ("kind",)) == _sum_rows(year_2026, "tenders", ("kind",))
    assert verify(journal.records, KEY.public_key).ok


def test_a_daily_closing_sums_tickets_only() -> None:
    journal = Journal()
    day = date(2026, 11, 20)
    closing = journal.close(Period.DAY, day, [journal.ticket(Sale(day, 100, "margin", "cash"))])

    with pytest.raises(ValueError, match="sums tickets"):
        closing_fields(
            period=Period.DAY, label="2026-11-21", records=[closing], previous_grand_total_cents=0
        )


def test_a_monthly_closing_refuses_a_day_of_another_month_or_a_day_closed_twice() -> None:
    journal = Journal()
    november = journal.close(Period.DAY, date(2026, 11, 30), [])
    december = journal.close(Period.DAY, date(2026, 12, 1), [])
    again = journal.close(Period.DAY, date(2026, 11, 30), [])

    with pytest.raises(ValueError, match="not within month 2026-11"):
        closing_fields(
            period=Period.MONTH,
            label="2026-11",
            records=[november, december],
            previous_grand_total_cents=0,
        )
    with pytest.raises(ValueError, match="closed twice"):
        closing_fields(
            period=Period.MONTH,
            label="2026-11",
            records=[november, again],
            previous_grand_total_cents=0,
        )
    with pytest.raises(ValueError, match="sums month closings"):
        closing_fields(
            period=Period.YEAR, label="2026", records=[november], previous_grand_total_cents=0
        )


def test_a_closing_needs_a_label_of_its_period_and_records_in_seq_order() -> None:
    journal = Journal()
    day = date(2026, 11, 20)
    first, second = (journal.ticket(Sale(day, 100, "margin", "cash")) for _ in range(2))

    with pytest.raises(ValueError, match="not a month label"):
        closing_fields(
            period=Period.MONTH, label="2026-11-20", records=[], previous_grand_total_cents=0
        )
    with pytest.raises(ValueError, match="seq order"):
        closing_fields(
            period=Period.DAY,
            label="2026-11-20",
            records=[second, first],
            previous_grand_total_cents=0,
        )


def test_closing_labels_speak_the_business() -> None:
    day = date(2026, 11, 20)
    assert [period_label(p, day) for p in Period] == ["2026-11-20", "2026-11", "2026"]
    assert closing_record_label(Period.DAY, "2026-11-20") == "daily closing 2026-11-20"
    assert closing_record_label(Period.MONTH, "2026-11") == "monthly closing 2026-11"
    assert closing_record_label(Period.YEAR, "2026") == "yearly closing 2026"
