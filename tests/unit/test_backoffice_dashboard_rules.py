"""The back office's rules that need no database: the dashboard's periods and filters, the
sync health badge, and charts that are accessible SVG."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from xml.etree import ElementTree

from starlette.datastructures import QueryParams

from recommerce.central.web.backoffice.charts import Kind, Series, svg
from recommerce.central.web.backoffice.dashboards import read_filters
from recommerce.central.web.backoffice.figures import period_key, periods, sell_through
from recommerce.central.web.backoffice.sync_health import Health, judge
from recommerce.web.i18n import gettext as _
from recommerce.web.i18n import money

TODAY = date(2026, 11, 20)
KNOWN = (date(2019, 3, 2), date(2026, 11, 19))
SVG = "{http://www.w3.org/2000/svg}"


def asked(query: str):  # type: ignore[no-untyped-def]
    return read_filters(QueryParams(query), today=TODAY, known=KNOWN)


def test_the_dashboard_opens_on_the_last_30_days_by_day() -> None:
    shown = asked("")
    assert (shown.period.start, shown.period.end) == (date(2026, 10, 22), TODAY)
    assert shown.period.grain == "day" and shown.preset == "30d"
    assert shown.problem is None and not shown.coarsened


def test_a_preset_comes_with_its_own_grain() -> None:
    assert asked("preset=year&grain=day").period.grain == "month"
    assert not asked("preset=year&grain=day").coarsened
    assert asked("preset=30d&grain=month").period.grain == "day"


def test_presets_cover_this_year_and_all_the_chains_days() -> None:
    year = asked("preset=year&start=2020-01-01&end=2020-02-01")
    assert (year.period.start, year.period.end, year.period.grain) == (
        date(2026, 1, 1),
        TODAY,
        "month",
    )
    everything = asked("preset=all&store=42&category=phones")
    assert (everything.period.start, everything.period.end) == (KNOWN[0], TODAY)
    assert everything.period.grain == "year"
    assert (everything.period.store, everything.period.category) == (42, "phones")


def test_years_by_day_are_shown_by_month_and_the_page_says_so() -> None:
    shown = asked("start=2024-01-01&end=2026-06-30&grain=day")
    assert shown.period.grain == "month" and shown.coarsened
    kept = asked("start=2026-09-01&end=2026-11-20&grain=day")
    assert kept.period.grain == "day" and not kept.coarsened


def test_unreadable_filters_fall_back_to_the_last_30_days_and_say_why() -> None:
    shown = asked("start=20/11/2026&end=2026-11-20&store=abc")
    assert shown.problem is not None
    assert (shown.period.start, shown.period.end) == (date(2026, 10, 22), TODAY)
    assert asked("store=99999999999999999999").problem is not None
    swapped = asked("start=2026-11-10&end=2026-11-01")
    assert (swapped.period.start, swapped.period.end) == (date(2026, 11, 1), date(2026, 11, 10))
    slip = asked("start=0001-01-01&end=9999-12-31&grain=day")
    assert slip.period.grain == "year" and slip.period.end == date(2027, 11, 21)
    assert slip.period.start.year == 1927
    one_day = asked("start=2026-11-10")
    assert (one_day.period.start, one_day.period.end) == (date(2026, 11, 10), date(2026, 11, 10))


def test_the_time_axis_has_every_period_gaps_included() -> None:
    assert periods(date(2026, 11, 15), date(2027, 2, 3), "month") == [
        date(2026, 11, 1),
        date(2026, 12, 1),
        date(2027, 1, 1),
        date(2027, 2, 1),
    ]
    assert len(periods(date(2026, 2, 27), date(2026, 3, 2), "day")) == 4
    assert periods(date(2024, 6, 1), date(2026, 1, 1), "year")[-1] == date(2026, 1, 1)
    assert period_key(date(2026, 11, 1), "month") == "2026-11"


def test_sell_through_is_sold_over_sold_plus_stock() -> None:
    assert sell_through(1, 1) == 0.5
    assert sell_through(3, 1) == 0.75
    assert sell_through(0, 0) is None


NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
SILENCE = timedelta(minutes=5)


def badge(**facts):  # type: ignore[no-untyped-def]
    base = {
        "now": NOW,
        "enrolled": True,
        "last_seen": NOW - timedelta(seconds=20),
        "waiting": 0,
        "delay": timedelta(seconds=2),
        "quarantined": 0,
        "silence": SILENCE,
    }
    return judge(**{**base, **facts})


def test_a_store_heard_from_recently_with_nothing_parked_is_ok() -> None:
    assert badge() == (Health.OK, [])


def test_a_store_silent_for_an_hour_or_never_seen_is_down() -> None:
    assert badge(last_seen=NOW - timedelta(hours=2))[0] is Health.BAD
    assert badge(last_seen=None)[0] is Health.BAD
    assert badge(enrolled=False, last_seen=None)[0] is Health.WARN  # not enrolled yet


def test_quarantine_waiting_events_or_a_short_silence_are_to_watch() -> None:
    health, reasons = badge(quarantined=2)
    assert health is Health.WARN and reasons == [_("Events in quarantine.")]
    assert badge(last_seen=NOW - timedelta(minutes=10))[0] is Health.WARN
    assert badge(waiting=3)[0] is Health.WARN
    assert badge(delay=timedelta(hours=3))[0] is Health.WARN  # caught up after a long cut


def bars(chart: str | None, series: int) -> int:
    assert chart is not None
    root = ElementTree.fromstring(chart)
    group = next(
        g for g in root.iter(f"{SVG}g") if f"serie-{series}" in (g.get("class") or "").split()
    )
    return sum(1 for g in group.iter(f"{SVG}g") if g.get("class") == "bar")


def test_a_chart_is_an_svg_image_named_by_its_title_with_no_script() -> None:
    chart = svg(
        "chart-stores",
        "Ventes par magasin",
        ["042 Lyon", "043 Paris", "044 Lille"],
        [Series("Chiffre d'affaires", [123456, 5000, 0]), Series("Marge", [60000, 100, None])],
    )
    assert chart is not None
    root = ElementTree.fromstring(chart)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img" and root.get("aria-labelledby") == "chart-stores-title"
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == "Ventes par magasin"
    assert not list(root.iter(f"{SVG}script")) and "<?xml" not in chart
    assert bars(chart, 0) == 3 and bars(chart, 1) == 2  # no bar where there is no figure
    assert money(123456) in chart  # euros as France writes them: 1 234,56 €


def test_many_periods_draw_a_line() -> None:
    labels = [f"d{n}" for n in range(60)]
    chart = svg(
        "chart-sales", "Ventes", labels, [Series("CA", list(range(60)))], kind=Kind.OVER_TIME
    )
    assert bars(chart, 0) == 0 and chart is not None and 'class="line reactive' in chart


def test_a_chart_with_nothing_to_draw_is_not_drawn() -> None:
    assert (
        svg("chart-stock-age", "Stock", ["042"], [Series("0-30", [0]), Series("31-90", [None])])
        is None
    )
