"""The back office's charts: drawn on the server as inline SVG (pygal), nothing fetched.

A chart is a picture of figures the page also gives as a table (beneath it, in a
`<details>`): the SVG is one image to assistive technology (`role="img"`, named by its
`<title>`), the table is what a screen reader or a keyboard reads. Colours and type follow
the staff screens' stylesheet; amounts are euros written as in France.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from xml.etree import ElementTree

import pygal
from markupsafe import Markup
from pygal.style import Style

from recommerce.web.i18n import money

# staff.css: --brand, --accent, --warn, --bad, then softer tones for more series.
COLOURS = ("#1f4e5f", "#0b6e4f", "#c98a1b", "#9b1c1c", "#6b8fa3", "#7fb89a")
STYLE = Style(
    background="transparent",
    plot_background="#ffffff",
    foreground="#1d2327",  # --ink
    foreground_strong="#1d2327",
    foreground_subtle="#d5dadf",  # --line: the guides
    opacity=".9",
    opacity_hover="1",
    colors=COLOURS,
    font_family='system-ui, -apple-system, "Segoe UI", sans-serif',
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=13,
    title_font_size=15,
    value_font_size=12,
)
WIDTH, HEIGHT = 800, 340
SVG_NS = "{http://www.w3.org/2000/svg}"
MANY_LABELS = 16  # more periods than this: only some of them labelled
ROTATE_FROM = 5  # labels side by side from which they are written aslant
LONGEST_LABEL = 24  # characters of a store's or a category's name under its bars
LINE_FROM = 40  # points in a series from which a line reads better than bars


class Kind(StrEnum):
    BAR = "bar"
    STACKED = "stacked"  # parts of a whole, e.g. stock by age bucket
    OVER_TIME = "over_time"  # bars, or a line when there are many periods


@dataclass(frozen=True, slots=True)
class Series:
    title: str
    values: Sequence[int | None]  # cents when the chart shows money, else counts


def _euros(value: float) -> str:
    return money(round(value * 100))


def _count(value: float) -> str:
    return f"{round(value):,}".replace(",", "\u202f")


def svg(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    kind: Kind = Kind.BAR,
    amounts: bool = True,
) -> Markup | None:
    """The chart as an `<svg>` element to put in a page; `chart_id` names its title. No figure
    to draw (nothing sold, no stock): None, and the page says so instead."""
    if not any(value for one in series for value in one.values):
        return None
    points = len(labels)
    chart_class: Callable[..., pygal.graph.graph.Graph] = pygal.Bar
    if kind is Kind.STACKED:
        chart_class = pygal.StackedBar
    elif kind is Kind.OVER_TIME and points >= LINE_FROM:
        chart_class = pygal.Line
    chart = chart_class(
        js=[],  # no script from a CDN: the chart is the SVG alone
        disable_xml_declaration=True,
        style=STYLE,
        width=WIDTH,
        height=HEIGHT,
        legend_at_bottom=True,
        legend_at_bottom_columns=min(len(series), 4) or 1,
        value_formatter=_euros if amounts else _count,
        x_label_rotation=30 if points >= ROTATE_FROM else 0,
        show_minor_x_labels=points <= MANY_LABELS,
        x_labels_major_count=MANY_LABELS if points > MANY_LABELS else None,
        truncate_label=LONGEST_LABEL,
        show_dots=points < LINE_FROM,
        no_data_text="",
        margin=12,
        spacing=8,
    )
    chart.x_labels = list(labels)
    if not amounts:  # whole numbers of items on the axis, never 0.5 of a phone
        top = max(
            sum(v or 0 for v in point)
            for point in zip(*(one.values for one in series), strict=True)
        )
        step = max(1, math.ceil(top / 8))
        chart.y_labels = list(range(0, int(top) + step + 1, step))
    for one in series:
        values = [
            None if v is None else (float(Decimal(v).scaleb(-2)) if amounts else v)
            for v in one.values
        ]
        chart.add(one.title, values)
    root = chart.render_tree()
    # pygal writes its configuration in an inline script even without its scripts: dropped,
    # the chart is drawn by its SVG alone (and a page needs no inline script).
    for parent in list(root.iter()):
        for child in [c for c in parent if c.tag in ("script", f"{SVG_NS}script")]:
            parent.remove(child)
    root.set("role", "img")
    root.set("aria-labelledby", f"{chart_id}-title")
    root.set("focusable", "false")
    name = ElementTree.Element("title", {"id": f"{chart_id}-title"})
    name.text = title
    root.insert(0, name)
    return Markup(ElementTree.tostring(root, encoding="unicode"))
