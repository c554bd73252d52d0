"""Which rollups a report reads: whole months in the monthly rollups, the days at the ends of a
range in the daily ones; the day grain always reads the days."""

from __future__ import annotations

from datetime import date

from recommerce.central.services.reporting import rollup_ranges


def test_whole_months_are_read_by_month_and_the_ends_by_day() -> None:
    assert rollup_ranges(date(2026, 3, 15), date(2026, 6, 10), "month") == [
        ("day", date(2026, 3, 15), date(2026, 3, 31)),
        ("month", date(2026, 4, 1), date(2026, 5, 31)),
        ("day", date(2026, 6, 1), date(2026, 6, 10)),
    ]


def test_a_range_of_whole_months_reads_only_the_monthly_rollups() -> None:
    assert rollup_ranges(date(1996, 1, 1), date(2025, 12, 31), "year") == [
        ("month", date(1996, 1, 1), date(2025, 12, 31)),
    ]
    assert rollup_ranges(date(2024, 2, 1), date(2024, 2, 29), None) == [
        ("month", date(2024, 2, 1), date(2024, 2, 29)),
    ]


def test_a_range_within_a_month_or_by_day_reads_the_days() -> None:
    assert rollup_ranges(date(2026, 3, 2), date(2026, 3, 30), "month") == [
        ("day", date(2026, 3, 2), date(2026, 3, 30)),
    ]
    assert rollup_ranges(date(2026, 1, 1), date(2026, 12, 31), "day") == [
        ("day", date(2026, 1, 1), date(2026, 12, 31)),
    ]


def test_a_range_over_new_year_keeps_its_months_in_order() -> None:
    assert rollup_ranges(date(2025, 12, 20), date(2026, 1, 31), None) == [
        ("day", date(2025, 12, 20), date(2025, 12, 31)),
        ("month", date(2026, 1, 1), date(2026, 1, 31)),
    ]
