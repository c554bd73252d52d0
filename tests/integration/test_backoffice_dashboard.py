"""The back office's dashboard: its key figures are what the stores pushed, its charts draw a
bar for each store, and its downloads (CSV, XLSX) hold the same figures."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import date
from typing import Any
from xml.etree import ElementTree

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from store_and_central import (  # noqa: F401  (fixtures)
    Headers,
    buy,
    central_database_url,
    code,
    enrolled,
    pusher,
)
from test_backoffice_pages import Page, euros, log_in
from test_marketplace_listings import push_all, sell

from recommerce.central.bootstrap import CentralNode
from recommerce.central.db import sync_tables as s
from recommerce.sim.history_load import load_history, plan_history
from recommerce.sim.world import World, install
from recommerce.store.sync.pusher import Pusher
from recommerce.web.i18n import parse_euros

SVG = "{http://www.w3.org/2000/svg}"
PAID_PER_PHONE = 5000  # `buy`: two phones for 50 EUR each


def dashboard(client: TestClient, **params: str) -> tuple[Page, str]:
    response = client.get("/backoffice/dashboard", params={"lang": "en", **params})
    assert response.status_code == 200, response.text
    return Page(response.text), response.text


def chart(html: str, chart_id: str) -> ElementTree.Element:
    found = re.search(
        rf'<figure class="chart panel" id="{chart_id}">.*?(<svg.*?</svg>)', html, re.S
    )
    assert found is not None, f"no chart #{chart_id}"
    root = ElementTree.fromstring(found.group(1))
    assert root.get("role") == "img" and root.get("aria-labelledby") == f"{chart_id}-title"
    return root


def bars(root: ElementTree.Element, series: int = 0) -> list[str]:
    """The x labels of the bars of one series that show a figure other than zero."""
    group = next(g for g in root.iter(f"{SVG}g") if f"serie-{series}" in (g.get("class") or ""))
    labels = []
    for bar in group.iter(f"{SVG}g"):
        if bar.get("class") != "bar":
            continue
        desc = {d.get("class"): d.text or "" for d in bar.iter(f"{SVG}desc")}
        if desc["value"].strip("0,\u00a0\u202f€ ") != "":
            labels.append(desc["x_label"])
    return labels


def csv_rows(content: bytes) -> list[dict[str, str]]:
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


# --- one store, through the sync ----------------------------------------------------------------


def test_the_dashboard_shows_what_the_store_pushed(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    central_client: TestClient,
) -> None:
    label = buy(client, login, article_id)
    ticket = sell(client, login, label)
    push_all(pusher)
    assert log_in(central_client).status_code == 303

    page, html = dashboard(central_client)
    revenue = ticket["total_cents"]
    margin = revenue - PAID_PER_PHONE
    assert page.text("kpi-revenue").startswith(f"Revenue {euros(revenue)}")
    assert "1 ticket" in page.text("kpi-revenue")
    assert page.text("kpi-margin").startswith(f"Gross margin {euros(margin)}")
    assert f"{margin / revenue:.1%}" in page.text("kpi-margin")
    assert page.text("kpi-items-sold") == "Items sold 1"
    assert page.text("kpi-items-bought") == "Items bought 2"
    assert page.text("kpi-paid") == f"Paid to sellers {euros(2 * PAID_PER_PHONE)}"
    assert euros(PAID_PER_PHONE) in page.text("kpi-stock") and "1 items" in page.text("kpi-stock")
    assert page.text("kpi-sell-through").startswith("Sell-through 50.0%")

    assert bars(chart(html, "chart-stores")) == ["042 Magasin de Lyon Part-Dieu"]
    assert len(bars(chart(html, "chart-sales"))) == 1  # the one day with a sale
    assert len(bars(chart(html, "chart-purchases"))) == 1
    assert bars(chart(html, "chart-stock-age")) == ["042 Magasin de Lyon Part-Dieu"]
    assert "chart-categories" in page.ids
    stores = page.text("table-stores")
    assert euros(revenue) in stores and "50.0%" in stores


def test_the_dashboard_downloads_hold_the_figures_on_screen(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    central_client: TestClient,
) -> None:
    label = buy(client, login, article_id)
    revenue = sell(client, login, label)["total_cents"]
    push_all(pusher)
    assert log_in(central_client).status_code == 303

    response = central_client.get(
        "/backoffice/dashboard", params={"lang": "en", "format": "csv", "table": "stores"}
    )
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="dashboard-stores-'
    )
    (row,) = csv_rows(response.content)
    assert row["Store"] == "042" and row["Items sold"] == "1" and row["Items in stock"] == "1"
    assert parse_euros(row["Revenue"]) == revenue
    assert parse_euros(row["Gross margin"]) == revenue - PAID_PER_PHONE
    assert parse_euros(row["Stock at cost"]) == PAID_PER_PHONE
    assert row["Sell-through"] == "50,0"

    workbook = central_client.get("/backoffice/dashboard", params={"lang": "en", "format": "xlsx"})
    assert workbook.status_code == 200
    book = load_workbook(io.BytesIO(workbook.content))
    assert book.sheetnames == ["Sales", "Purchases", "Stores", "Categories", "Stock by age"]
    header, *rows = book["Stores"].iter_rows(values_only=True)
    values = dict(zip(header, rows[0], strict=True))
    assert round(values["Revenue"] * 100) == revenue
    assert book["Stores"]["D2"].number_format == '#,##0.00 "€"'
    daily = list(book["Sales"].iter_rows(min_row=2, values_only=True))
    assert sum(round((r[3] or 0) * 100) for r in daily) == revenue
    assert sum(r[1] for r in daily) == 1


# --- several stores: the former system's history ------------------------------------------------


def _sum(central: CentralNode, measure: Any, *where: Any) -> int:
    with central.reading() as conn:
        return int(
            conn.execute(select(func.coalesce(func.sum(measure), 0)).where(*where)).scalar_one()
        )


def test_a_chart_has_a_bar_for_each_store_and_the_figures_add_up(
    central: CentralNode, central_client: TestClient
) -> None:
    world = World.generate(5, stores=3, articles=40)
    install(central, world)
    load_history(
        central,
        world,
        plan_history(world, years=1, stores=3, until=date(2026, 11, 19), daily_sales=0.5),
    )
    assert log_in(central_client).status_code == 303

    page, html = dashboard(central_client, preset="all")
    assert page.text("dashboard-scope").startswith("From Nov 20, 2025 to Nov 20, 2026, by month.")
    revenue = _sum(central, s.tickets.c.total_cents)
    assert page.text("kpi-revenue").startswith(f"Revenue {euros(revenue)}")
    sold = _sum(central, s.purchases.c.item_count)  # each item of the history was sold
    assert page.text("kpi-items-sold") == f"Items sold {sold:,}"
    # some were bought before the first sale, where "all" starts
    since = s.purchases.c.business_day >= date(2025, 11, 20)
    bought = _sum(central, s.purchases.c.item_count, since)
    assert 0 < bought < sold and page.text("kpi-items-bought") == f"Items bought {bought:,}"
    paid = _sum(central, s.purchases.c.total_cents, since)
    assert page.text("kpi-paid") == f"Paid to sellers {euros(paid)}"

    names = {store.number: store.name for store in world.stores}
    assert bars(chart(html, "chart-stores")) == [f"{n:03d} {names[n]}" for n in (1, 2, 3)]
    assert bars(chart(html, "chart-stores"), series=1) == [f"{n:03d} {names[n]}" for n in (1, 2, 3)]
    assert len(bars(chart(html, "chart-sales"))) == 13  # November 2025 to November 2026

    rows = csv_rows(
        central_client.get(
            "/backoffice/dashboard",
            params={"lang": "en", "preset": "all", "format": "csv", "table": "stores"},
        ).content
    )
    assert [row["Store"] for row in rows] == ["001", "002", "003"]
    for row in rows:
        number = int(row["Store"])
        assert parse_euros(row["Revenue"]) == _sum(
            central, s.tickets.c.total_cents, s.tickets.c.store_number == number
        )

    one, one_html = dashboard(central_client, preset="all", store="2")
    store_two = _sum(central, s.tickets.c.total_cents, s.tickets.c.store_number == 2)
    assert one.text("kpi-revenue").startswith(f"Revenue {euros(store_two)}")
    assert bars(chart(one_html, "chart-stores")) == [f"002 {names[2]}"]


def test_the_filters_are_swapped_in_place_for_htmx(
    central: CentralNode, central_client: TestClient
) -> None:
    assert log_in(central_client).status_code == 303
    response = central_client.get(
        "/backoffice/dashboard", params={"preset": "year"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="dashboard">')
    assert "<html" not in response.text
    slip = central_client.get(
        "/backoffice/dashboard", params={"start": "0001-01-01", "end": "9999-12-31", "grain": "day"}
    )
    assert slip.status_code == 200  # a century at most, by year
