"""Store staff in a real browser (headless Chromium, JavaScript on, a 1280x800 till screen): an
object bought at the buying counter and labelled, then sold at the till with its receipt; an
online order prepared and handed over at collection. The counter and the till pass an
accessibility check (every control named, the Tab key in reading order, the main field focused),
and both fit a tablet held upright."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from accessibility import check_page
from test_storefront_browser import GOOD_CARD, fill_checkout

from recommerce.store.bootstrap import StoreNode
from recommerce.store.seed import DEMO_PASSWORD
from recommerce.store.services import online_orders

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from conftest import LiveCentral, StoreSync

Screenshot = Callable[["Page", str], None]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artefacts" / "screenshots"
TABLET = {"width": 768, "height": 1024}


@pytest.fixture
def staff_page(chromium: Browser) -> Iterator[Page]:
    """A French-speaking browser window on a 1280x800 screen, JavaScript on (htmx)."""
    context = chromium.new_context(locale="fr-FR", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def log_in(page: Page, store_url: str, username: str, then: str = "/") -> None:
    page.goto(f"{store_url}/login?next={then}")
    page.locator("#username").fill(username)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url(f"{store_url}{then}")


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(re.compile(r".*/login"))


def euros(text: str) -> Decimal:
    """`349,00 €` as a number."""
    return Decimal(re.sub(r"[^\d,]", "", text).replace(",", "."))


def fits_the_width(page: Page) -> bool:
    return bool(page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"))


def on_a_tablet(page: Page, screenshot: Screenshot, name: str) -> None:
    """The screen held upright on a tablet: nothing to scroll sideways."""
    page.set_viewport_size(TABLET)
    assert fits_the_width(page), f"{name} scrolls sideways on a tablet"
    screenshot(page, name)
    page.set_viewport_size({"width": 1280, "height": 800})


def test_an_object_bought_at_the_counter_is_labelled_then_sold_at_the_till_with_its_receipt(
    staff_page: Page, live_store: str, screenshot: Screenshot
) -> None:
    from playwright.sync_api import expect

    page = staff_page
    log_in(page, live_store, "acheteur", "/counter")
    check_page(page, first_focus="article-search")
    screenshot(page, "store-01-comptoir")

    page.locator("#article-search").fill("iphone 12")
    page.locator("#article-choice-1").click()
    expect(page.locator("#article-panel")).to_contain_text("iPhone 12")
    page.locator("label[for=grade-B]").click()
    expect(page.locator("#quote-offer")).to_be_visible()
    offer = euros(page.locator("#quote-offer").inner_text())
    expect(page.locator("#new-agreed-price")).not_to_have_value("")
    screenshot(page, "store-02-comptoir-cotation")
    page.locator("#add-line").click()
    expect(page.locator("#line-1")).to_contain_text("iPhone 12")
    expect(page.locator("#article-search")).to_be_focused()  # ready for the next object

    page.locator("#seller-surname").fill("Martin")
    page.locator("#seller-first-names").fill("Claire Marie")
    page.locator("#seller-birth-date").fill("1985-04-12")
    page.locator("#seller-address").fill("12 rue de la République, 69002 Lyon")
    page.locator("#seller-document-type").select_option("national_id")
    page.locator("#seller-document-number").fill("X4RTBPFW4")
    page.locator("#seller-document-issued-on").fill("2021-03-01")
    page.locator("#seller-document-issuing-authority").fill("Préfecture du Rhône")
    page.locator("label[for=payment-method-cash]").click()
    check_page(page)  # the whole purchase form, filled in
    screenshot(page, "store-03-comptoir-vendeur")
    on_a_tablet(page, screenshot, "store-03b-comptoir-tablette")
    page.locator("#record-purchase").click()

    page.wait_for_url(re.compile(r".*/counter/purchases/[^/]+/labels"))
    label = page.locator("#label-1")
    code = label.get_attribute("data-label-code")
    assert code and re.fullmatch(r"\d{13}", code), code
    expect(page.locator("#label-code-1")).to_contain_text(code)
    expect(page.locator("#print-labels")).to_be_focused()
    screenshot(page, "store-04-etiquettes")
    # Printing: the print stylesheet leaves the labels alone on the page, barcode included.
    page.emulate_media(media="print")
    expect(page.locator("#print-labels")).to_be_hidden()
    expect(label.locator("img, svg").first).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.pdf(path=str(SCREENSHOTS / "store-04b-etiquettes.pdf"))
    page.emulate_media(media="screen")
    assert offer > 0
    log_out(page)

    log_in(page, live_store, "caissier", "/sessions")
    if page.locator("#open-till").count():
        page.locator("#float").fill("150")
        page.locator("#open-till").click()
        expect(page.locator("#session-notice")).to_be_visible()
    page.goto(f"{live_store}/till")
    check_page(page, first_focus="scan")
    screenshot(page, "store-05-caisse")

    page.locator("#scan").fill(code)
    page.locator("#scan").press("Enter")
    expect(page.locator(f"#line-{code}")).to_contain_text("iPhone 12")
    expect(page.locator("#scan")).to_be_focused()  # the scanner is always ready
    total = euros(page.locator("#basket-total").inner_text())
    given = (total // 10 + 1) * 10
    page.locator("#cash-given").fill(f"{given}".replace(".", ","))
    expect(page.locator("#change-preview")).to_contain_text(
        f"{given - total:.2f}".replace(".", ",")
    )
    check_page(page)
    screenshot(page, "store-06-caisse-panier")
    on_a_tablet(page, screenshot, "store-06b-caisse-tablette")
    page.locator("#scan").focus()
    page.keyboard.press("F9")  # pay, from the scanner field

    expect(page.locator("#ticket-number")).to_be_visible()
    number = page.locator("#ticket-number").inner_text().strip()
    expect(page.locator("#change")).to_contain_text(f"{given - total:.2f}".replace(".", ","))
    receipt = page.frame_locator("#receipt")
    expect(receipt.locator("body")).to_contain_text(number)
    expect(receipt.locator("body")).to_contain_text("iPhone 12")
    expect(receipt.locator("img, svg").first).to_be_visible()  # the QR code of the record
    screenshot(page, "store-07-ticket")
    page.locator("#print").click()
    expect(page.locator("#ticket-notice")).to_be_visible()

    # The item is sold: scanned again, the till says so and sells nothing.
    page.locator("#new-sale").click()
    page.locator("#scan").fill(code)
    page.locator("#scan").press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("vendu")
    screenshot(page, "store-08-caisse-deja-vendu")


def test_an_online_order_is_prepared_then_collected_at_the_store(
    staff_page: Page,
    chromium: Browser,
    live_store: str,
    live_central: LiveCentral,
    published_item: Callable[[], str],
    store_sync: StoreSync,
    node: StoreNode,
    screenshot: Screenshot,
) -> None:
    from playwright.sync_api import expect

    item_id = published_item()
    customer = chromium.new_context(locale="fr-FR", java_script_enabled=False).new_page()
    customer.goto(f"{live_central.url}/article/{item_id}")
    customer.get_by_role("button", name="Ajouter au panier").click()
    customer.get_by_role("link", name="Passer commande").click()
    fill_checkout(customer, GOOD_CARD)
    customer.get_by_role("button", name="Valider et payer").click()
    order_number = customer.locator("h1").inner_text()
    found = re.search(r"W[0-9A-Z-]+", order_number)
    assert found, order_number
    number = found.group(0)
    store_sync.answer_the_feed()  # the store reserves the item
    live_central.app.state.order_processor.step()  # central takes the payment
    store_sync.answer_the_feed()  # the store learns the order is paid: to prepare

    page = staff_page
    log_in(page, live_store, "caissier", "/sessions")
    if page.locator("#open-till").count():
        page.locator("#float").fill("150")
        page.locator("#open-till").click()
    page.goto(f"{live_store}/orders")
    expect(page.locator(f"#order-{number}")).to_be_visible()
    screenshot(page, "store-10-commandes")
    page.locator(f"#order-{number}").click()
    expect(page.locator("#order-customer")).to_contain_text("Camille Martin")
    page.locator("#mark-ready").click()
    expect(page.locator("#order-status")).to_have_text("Prête à retirer")
    screenshot(page, "store-11-commande-prete")

    page.locator("#hand-over-till").fill("T1")
    page.locator("#hand-over").click()
    expect(page.locator("#order-status")).to_have_text("Retirée")
    expect(page.locator("#order-ticket")).to_be_visible()
    screenshot(page, "store-12-commande-retiree")
    assert online_orders.get_order(node, number)["status"] == "collected"

    store_sync.push_all()
    live_central.app.state.order_processor.step()
    customer.reload()
    expect(customer.locator(".status .headline")).to_contain_text("Retirée")
    customer.context.close()
