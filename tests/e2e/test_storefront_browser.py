"""A customer in a real browser (headless Chromium, JavaScript off): finds an item a store put
online, puts it in the cart, pays by card for a collection at the store, and follows the order
until the store confirms it; a declined card is refused in French on the form."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from recommerce.central.bootstrap import CentralNode
from recommerce.central.db import marketplace_tables as m

if TYPE_CHECKING:  # the `chromium` fixture skips (or, in CI, fails) without Playwright
    from playwright.sync_api import Page

    from conftest import LiveCentral, StoreSync

Screenshot = Callable[["Page", str], None]
GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"


def fill_checkout(page: Page, card: str) -> None:
    """The checkout form, filled in as a customer collecting at the store."""
    page.get_by_label("Nom et prénom", exact=True).fill("Camille Martin")
    page.get_by_label("Adresse e-mail", exact=True).fill("camille@example.fr")
    page.get_by_label("Téléphone", exact=True).fill("06 12 34 56 78")
    page.get_by_label("Retrait gratuit au magasin").check()
    page.get_by_label("Numéro de carte", exact=True).fill(card)
    page.get_by_label("Mois d'expiration").select_option("12")
    page.get_by_label("Année d'expiration").select_option("2030")
    page.get_by_label("Cryptogramme visuel", exact=True).fill("123")


def orders_at_central(central: CentralNode) -> int:
    with central.reading() as conn:
        return int(conn.execute(select(func.count()).select_from(m.orders)).scalar_one())


def test_a_customer_orders_an_item_and_sees_the_store_confirm_it_and_the_payment_taken(
    browser_page: Page,
    live_central: LiveCentral,
    published_item: Callable[[], str],
    store_sync: StoreSync,
    screenshot: Screenshot,
) -> None:
    from playwright.sync_api import expect

    item_id = published_item()
    page = browser_page
    page.goto(live_central.url + "/")
    expect(page.get_by_text("1 article en vente")).to_be_visible()
    screenshot(page, "01-accueil")

    page.get_by_label("Que cherchez-vous ?").fill("ecran cable")  # typed without accents
    page.locator(".big-search").get_by_role("button", name="Rechercher").click()
    expect(page.locator("#nombre-resultats")).to_have_text("1 article")
    screenshot(page, "02-recherche")

    page.locator(f'.cards a[href="/article/{item_id}"]').click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Apple iPhone 12 64 Go")
    screenshot(page, "03-article")

    page.get_by_role("button", name="Ajouter au panier").click()
    expect(page).to_have_url(f"{live_central.url}/panier?ajout=1")
    expect(page.locator(".total")).to_contain_text("349,00")
    expect(page.get_by_text("Vendu par Magasin de Lyon Part-Dieu")).to_be_visible()
    screenshot(page, "04-panier")

    page.get_by_role("link", name="Passer commande").click()
    fill_checkout(page, GOOD_CARD)
    expect(page.get_by_label("Adresse (numéro et rue)")).to_be_hidden()  # nothing to ship
    screenshot(page, "05-commande")
    page.get_by_role("button", name="Valider et payer").click()

    headline = page.locator(".status .headline")
    expect(headline).to_have_text("En attente de confirmation par le magasin")
    expect(page.locator('meta[http-equiv="refresh"]')).to_have_count(1)
    expect(page.locator(".cart-link .badge")).to_have_count(0)  # the cart is emptied
    screenshot(page, "06-commande-en-attente")

    store_sync.answer_the_feed()  # the store reserves the item
    live_central.app.state.order_processor.step()  # central takes the payment
    page.reload()
    expect(headline).to_have_text("Confirmée — paiement effectué")
    expect(page.locator('meta[http-equiv="refresh"]')).to_have_count(0)
    expect(page.get_by_role("cell", name="Apple iPhone 12 64 Go")).to_be_visible()
    screenshot(page, "07-commande-confirmee")


def test_a_declined_card_is_refused_in_french_on_the_form_and_nothing_is_ordered(
    browser_page: Page,
    live_central: LiveCentral,
    published_item: Callable[[], str],
    screenshot: Screenshot,
) -> None:
    from playwright.sync_api import expect

    item_id = published_item()
    page = browser_page
    page.goto(f"{live_central.url}/article/{item_id}")
    page.get_by_role("button", name="Ajouter au panier").click()
    page.get_by_role("link", name="Passer commande").click()
    fill_checkout(page, DECLINED_CARD)
    page.get_by_role("button", name="Valider et payer").click()

    expect(page.get_by_role("alert")).to_contain_text(
        "Votre banque a refusé le paiement : rien n'a été commandé ni débité."
    )
    expect(page.get_by_label("Nom et prénom", exact=True)).to_have_value("Camille Martin")
    expect(page.get_by_label("Numéro de carte", exact=True)).to_have_value("")
    expect(page.get_by_label("Cryptogramme visuel", exact=True)).to_have_value("")
    screenshot(page, "08-carte-refusee")
    central: CentralNode = live_central.app.state.central
    assert orders_at_central(central) == 0
    page.goto(f"{live_central.url}/panier")
    expect(page.locator(".cart-link .badge")).to_have_text("1")  # still in the cart
