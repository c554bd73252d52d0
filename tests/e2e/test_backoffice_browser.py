"""Head office in a real browser (headless Chromium, JavaScript on, 1280x800): what a store
bought and sold, pushed through the sync, shows on the back office's dashboard with its charts,
and the store's link on the sync health screen."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest
from accessibility import unnamed_controls
from helpers import purchase_body

from recommerce.store.seed import DEMO_PASSWORD

if TYPE_CHECKING:
    import httpx
    from playwright.sync_api import Browser, Page

    from conftest import LiveCentral, StoreSync

Screenshot = Callable[["Page", str], None]
CENTRAL_ADMIN = "siege"  # made by the root conftest's `central` fixture
STORE = 42  # the root conftest's `node` fixture's store number
CHARTS = ("sales", "purchases", "stores", "categories", "stock-age")


@pytest.fixture
def office_page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(locale="fr-FR", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_the_dashboard_charts_what_a_store_bought_and_sold(
    office_page: Page,
    live_central: LiveCentral,
    store_sync: StoreSync,
    client: httpx.Client,
    login: Callable[[str], dict[str, str]],
    article_id: Callable[[str], str],
    screenshot: Screenshot,
) -> None:
    from playwright.sync_api import expect

    lines = [
        {"article_id": article_id("iphone 12"), "grade": "B", "agreed_price_cents": 9000},
        {"article_id": article_id("iphone 12"), "grade": "A", "agreed_price_cents": 12000},
    ]
    bought = client.post("/api/v1/purchases", json=purchase_body(lines), headers=login("acheteur"))
    assert bought.status_code == 201, bought.text
    label = bought.json()["items"][0]["label_code"]
    price = client.get(f"/api/v1/items/{label}", headers=login("gerant")).json()
    cents = price["asking_price_cents"]
    sold = client.post(
        "/api/v1/sales",
        json={
            "till": "T1",
            "lines": [{"label_code": label}],
            "tenders": [{"kind": "card", "amount_cents": cents}],
        },
        headers=login("caissier"),
    )
    assert sold.status_code == 201, sold.text
    store_sync.push_all()

    page = office_page
    page.goto(f"{live_central.url}/backoffice")
    page.wait_for_url(re.compile(r".*/backoffice/login.*"))
    page.locator("#username").fill(CENTRAL_ADMIN)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url(re.compile(r".*/backoffice/dashboard.*"))
    page.locator("#preset-all").click()
    revenue = f"{cents // 100:,}".replace(",", "\u202f") + f",{cents % 100:02d}"
    expect(page.locator("#kpi-revenue")).to_contain_text(revenue)
    expect(page.locator("#kpi-items-sold")).to_contain_text("1")
    expect(page.locator("#kpi-items-bought")).to_contain_text("2")
    for chart in CHARTS:
        expect(page.locator(f"#chart-{chart} svg")).to_be_visible()
    assert page.locator("#chart-stores svg").get_attribute("role") == "img"
    assert unnamed_controls(page) == []
    screenshot(page, "office-01-tableau-de-bord")

    page.goto(f"{live_central.url}/backoffice/dashboard?preset=all&lang=en")
    expect(page.locator("#kpis")).to_contain_text("Revenue")
    screenshot(page, "office-02-dashboard-en")

    page.goto(f"{live_central.url}/backoffice/sync?lang=fr")
    expect(page.locator(f"#sync-store-{STORE}")).to_be_visible()
    screenshot(page, "office-03-synchronisation")
