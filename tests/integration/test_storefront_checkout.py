"""The storefront's cart, checkout and order page: a customer puts items in a cart kept in a
signed cookie, orders them through a French form, and follows the order on its page until the
store confirms it (docs/marketplace.md, "Orders")."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import stat
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from store_and_central import (  # noqa: F401  (fixtures)
    Headers,
    central_database_url,
    code,
    enrolled,
    puller,
    pusher,
)
from test_online_orders import process, sync
from test_storefront_pages import listed_item, push_all

from recommerce.central.api.orders import OrderLineOut, OrderOut
from recommerce.central.bootstrap import CentralNode
from recommerce.central.db import marketplace_tables as m
from recommerce.central.web import cart as storefront_cart
from recommerce.central.web import orders as storefront_orders
from recommerce.central.web.cart import Cart, CartFull, CartSigner
from recommerce.clock import FixedClock
from recommerce.marketplace.orders import Fulfilment, OrderStatus
from recommerce.store.sync.feed import FeedPuller
from recommerce.store.sync.pusher import Pusher

TODAY = date(2026, 11, 20)  # the fixed clock's day
GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"
EMAIL = "camille@example.fr"
SECRET = b"s" * 43
ITEM = "01939a4e-7a1c-7b3e-8f00-0123456789ab"

Listed = Callable[..., str]


def form(**changes: str) -> dict[str, str]:
    """A checkout form filled in for a collection at the store, paid by a good card."""
    fields = {
        "nom": "Camille Martin",
        "email": EMAIL,
        "telephone": "06 12 34 56 78",
        "mode": "collect",
        "carte_numero": GOOD_CARD,
        "carte_mois": "12",
        "carte_annee": "2030",
        "carte_cvc": "123",
    }
    fields.update(changes)
    return fields


def html_of(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("text/html"), response.text
    return unescape(response.text).replace("\u202f", " ").replace("\xa0", " ")


def add(central_client: TestClient, item_id: str) -> httpx.Response:
    """The item page's "Ajouter au panier" button."""
    added: httpx.Response = central_client.post(
        "/panier/ajouter", data={"item_id": item_id}, follow_redirects=False
    )
    return added


def shown_cart(central_client: TestClient) -> dict[str, str]:
    """The hidden fields of the checkout form: the items and the amount the customer saw."""
    page = central_client.get("/commande")
    assert page.status_code == 200, page.text
    return dict(
        re.findall(r'<input type="hidden" name="(articles|montant)" value="([^"]*)">', page.text)
    )


def place(central_client: TestClient, **changes: str) -> httpx.Response:
    """The checkout form as shown, filled in and sent."""
    fields = {**shown_cart(central_client), **form(**changes)}
    placed: httpx.Response = central_client.post("/commande", data=fields, follow_redirects=False)
    return placed


def orders_count(central: CentralNode) -> int:
    with central.reading() as conn:
        return int(conn.execute(select(func.count()).select_from(m.orders)).scalar_one())


def signed(secret: bytes, ids: list[str]) -> str:
    """A cart cookie signed the storefront's way, whatever it holds."""
    payload = ".".join(ids)
    mac = hmac.new(
        secret, storefront_cart.CART_SIGNATURE_CONTEXT + payload.encode(), hashlib.sha256
    )
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode() + "." + payload


@pytest.fixture
def listed(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    central_client: TestClient,
) -> Listed:
    """Publish a phone at store 42 and have central list it: its item id."""

    def publish(price_cents: int = 34900) -> str:
        _, item_id = listed_item(client, login, article_id, price_cents=price_cents)
        push_all(pusher, central_client)
        return item_id

    return publish


# --- the cart cookie --------------------------------------------------------------------------


def test_a_cart_reads_back_the_items_it_was_signed_with() -> None:
    signer = CartSigner(SECRET)
    cart = Cart().with_item(ITEM).with_item("other-item").with_item(ITEM)
    assert cart.item_ids == (ITEM, "other-item")
    assert signer.loads(signer.dumps(cart)) == cart
    assert signer.loads(signer.dumps(cart.without([ITEM]))) == Cart(("other-item",))


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda value: value.replace(ITEM, ITEM[:-1] + "c"), id="another item"),
        pytest.param(lambda value: value + ".another-item", id="an item added"),
        pytest.param(lambda value: ("B" if value[0] == "A" else "A") + value[1:], id="signed"),
        pytest.param(lambda value: value.split(".", 1)[1], id="signature removed"),
        pytest.param(lambda value: signed(b"t" * 43, [ITEM]), id="another secret"),
        pytest.param(lambda value: value + "é", id="not ascii"),
        pytest.param(lambda value: "garbage", id="garbage"),
    ],
)
def test_a_tampered_cart_cookie_reads_as_an_empty_cart(tamper: Callable[[str], str]) -> None:
    signer = CartSigner(SECRET)
    assert signer.loads(tamper(signer.dumps(Cart((ITEM,))))) == Cart()


def test_a_cart_holds_at_most_twenty_items() -> None:
    cart = Cart()
    for n in range(20):
        cart = cart.with_item(f"item-{n}")
    assert len(cart) == 20
    assert cart.with_item("item-3") is cart  # already in: nothing to add
    with pytest.raises(CartFull):
        cart.with_item("item-20")
    with pytest.raises(ValueError):
        CartSigner(SECRET).dumps(Cart(tuple(f"item-{n}" for n in range(21))))


def test_a_cookie_of_more_than_twenty_items_is_ignored_even_signed() -> None:
    signer = CartSigner(SECRET)
    assert len(signer.loads(signed(SECRET, [f"item-{n}" for n in range(20)]))) == 20
    assert signer.loads(signed(SECRET, [f"item-{n}" for n in range(21)])) == Cart()
    assert signer.loads(signed(SECRET, ["item-1", "item-1"])) == Cart()


def test_the_signing_secret_is_made_once_and_readable_by_its_owner_only(tmp_path: Path) -> None:
    secret = storefront_cart.storefront_secret(tmp_path / "central")
    path = tmp_path / "central" / "storefront-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip().encode() == secret
    assert len(secret) >= 43
    assert storefront_cart.storefront_secret(tmp_path / "central") == secret
    assert storefront_cart.storefront_secret(tmp_path / "other") != secret
    assert [p.name for p in (tmp_path / "central").iterdir()] == ["storefront-secret"]


# --- the checkout form, read ------------------------------------------------------------------


def test_an_empty_checkout_form_names_every_missing_field_in_french() -> None:
    _, errors, asked = storefront_orders.read_checkout_form({}, today=TODAY)
    assert asked is None
    assert errors == {
        "nom": "Indiquez votre nom et votre prénom.",
        "email": "Indiquez votre adresse e-mail : nous y envoyons le suivi de la commande.",
        "telephone": "Indiquez un numéro de téléphone, pour que le magasin vous joigne.",
        "carte_numero": "Indiquez le numéro de votre carte bancaire.",
        "carte_expiration": "Choisissez le mois et l'année d'expiration de votre carte.",
        "carte_cvc": "Le cryptogramme visuel a 3 ou 4 chiffres, au dos de votre carte.",
    }


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"email": "camille@"}, "email", "L'adresse e-mail « camille@ » n'est pas valide"),
        ({"telephone": "appelez-moi"}, "telephone", "n'est pas valide (par exemple : 06 12"),
        ({"carte_numero": "4242 4242 4242 4241"}, "carte_numero", "n'est pas valide"),
        ({"carte_numero": "4242"}, "carte_numero", "n'est pas valide"),
        ({"carte_mois": "10", "carte_annee": "2026"}, "carte_expiration", "a expiré"),
        ({"carte_mois": "13"}, "carte_expiration", "Choisissez le mois"),
        ({"carte_cvc": "12a"}, "carte_cvc", "3 ou 4 chiffres"),
        ({"mode": "drone"}, "mode", "Choisissez le retrait au magasin ou la livraison"),
    ],
)
def test_a_field_typed_wrong_gets_a_french_message(
    changes: dict[str, str], field: str, words: str
) -> None:
    _, errors, asked = storefront_orders.read_checkout_form(form(**changes), today=TODAY)
    assert asked is None
    assert list(errors) == [field]
    assert words in errors[field]


def test_a_delivery_needs_a_full_address_with_a_five_digit_postcode() -> None:
    typed, errors, asked = storefront_orders.read_checkout_form(
        form(mode="ship", livraison_ligne1="12 rue Mercière", livraison_code_postal="6902"),
        today=TODAY,
    )
    assert asked is None
    assert errors == {
        "livraison_nom": "Indiquez le nom du destinataire du colis.",
        "livraison_code_postal": "Le code postal a 5 chiffres (par exemple : 69002).",
        "livraison_ville": "Indiquez la ville de livraison.",
    }
    assert typed.livraison_ligne1 == "12 rue Mercière"  # shown back as typed


def test_a_correct_form_asks_for_the_order_with_the_card_as_the_bank_reads_it() -> None:
    typed, errors, asked = storefront_orders.read_checkout_form(
        form(
            mode="ship",
            nom="  Camille   Martin ",
            livraison_nom="Camille Martin",
            livraison_ligne1="12 rue Mercière",
            livraison_code_postal="69002",
            livraison_ville="Lyon",
            carte_mois="04",
        ),
        today=TODAY,
    )
    assert errors == {}
    assert asked is not None
    assert asked.customer.name == typed.nom == "Camille Martin"
    assert asked.fulfilment is Fulfilment.SHIP
    assert asked.shipping_address == {
        "name": "Camille Martin",
        "line1": "12 rue Mercière",
        "line2": "",
        "postcode": "69002",
        "city": "Lyon",
    }
    assert (asked.card.number, asked.card.expiry_month, asked.card.expiry_year) == (
        "4242424242424242",
        4,
        2030,
    )
    assert not hasattr(typed, "carte_numero") and not hasattr(typed, "carte_cvc")


# --- the order's status, read -----------------------------------------------------------------


def an_order(status: OrderStatus, **changes: Any) -> OrderOut:
    at = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    fields: dict[str, Any] = {
        "number": "W261120-ABCDE",
        "status": status,
        "fulfilment": Fulfilment.COLLECT,
        "store_number": 42,
        "store_name": "Magasin de Lyon Part-Dieu",
        "store_city": "Lyon",
        "lines": [OrderLineOut(item_id=ITEM, title="iPhone", grade="B", price_cents=34900)],
        "items_cents": 34900,
        "delivery_cents": 0,
        "total_cents": 34900,
        "payment_state": "authorized",
        "refunded_cents": 0,
        "ordered_at": at,
        "reservation_deadline": at + timedelta(minutes=2),
        "tracking_number": None,
        "end_reason": None,
        "withdrawal_ends_on": None,
    }
    fields.update(changes)
    return OrderOut(**fields)


@pytest.mark.parametrize(
    ("order", "headline", "waiting"),
    [
        (an_order(OrderStatus.AWAITING_STORE), "En attente de confirmation par le magasin", True),
        (
            an_order(OrderStatus.CONFIRMED, payment_state="captured"),
            "Confirmée — paiement effectué",
            False,
        ),
        (
            an_order(OrderStatus.READY_FOR_COLLECTION, payment_state="captured"),
            "Prête à retirer au magasin — Magasin de Lyon Part-Dieu (Lyon)",
            False,
        ),
        (
            an_order(
                OrderStatus.SHIPPED,
                fulfilment=Fulfilment.SHIP,
                payment_state="captured",
                tracking_number="6A12345678901",
            ),
            "Expédiée, suivi 6A12345678901",
            False,
        ),
        (
            an_order(
                OrderStatus.CANCELLED,
                payment_state="voided",
                end_reason="le magasin n'a pas confirmé la disponibilité à temps",
            ),
            "Annulée : le magasin n'a pas confirmé la disponibilité à temps — votre carte n'a "
            "pas été débitée",
            False,
        ),
        (
            an_order(
                OrderStatus.CANCELLED,
                payment_state="refunded",
                refunded_cents=34900,
                end_reason="l'article a été vendu en magasin",
            ),
            "Annulée : l'article a été vendu en magasin — vous êtes remboursé(e) de 349,00 €",
            False,
        ),
    ],
)
def test_the_order_status_reads_in_french(order: OrderOut, headline: str, waiting: bool) -> None:
    status = storefront_orders.order_status(order)
    assert status.headline.replace("\u202f", " ").replace("\xa0", " ") == headline
    assert status.waiting is waiting


def test_a_shipped_order_may_be_withdrawn_until_14_days_after_delivery() -> None:
    shipped = an_order(OrderStatus.SHIPPED, fulfilment=Fulfilment.SHIP)
    delivered = an_order(
        OrderStatus.DELIVERED, fulfilment=Fulfilment.SHIP, withdrawal_ends_on=date(2026, 12, 4)
    )
    assert storefront_orders.may_withdraw(shipped, TODAY)
    assert storefront_orders.may_withdraw(delivered, date(2026, 12, 4))
    assert not storefront_orders.may_withdraw(delivered, date(2026, 12, 5))
    assert not storefront_orders.may_withdraw(an_order(OrderStatus.COLLECTED), TODAY)


# --- the cart's pages -------------------------------------------------------------------------


def test_an_item_added_to_the_cart_shows_with_its_store_and_the_total(
    listed: Listed, central_client: TestClient
) -> None:
    item_id = listed()
    added = add(central_client, item_id)
    assert added.status_code == 303
    assert added.headers["location"] == "/panier?ajout=1"
    assert "httponly" in added.headers["set-cookie"].lower()
    assert "samesite=lax" in added.headers["set-cookie"].lower()
    cart = html_of(central_client.get("/panier?ajout=1"))
    assert "L'article a été ajouté à votre panier." in cart
    assert "Vendu par Magasin de Lyon Part-Dieu" in cart
    assert "Le magasin confirme lui-même la disponibilité de vos articles" in cart
    assert "Total des articles (1 article) : <strong>349,00 €</strong>" in cart
    assert 'href="/commande">Passer commande' in cart
    assert '<span class="badge">1</span>' in cart
    item_page = html_of(central_client.get(f"/article/{item_id}"))
    assert "Cet article est dans votre panier." in item_page
    assert 'action="/panier/ajouter"' not in item_page
    another = html_of(central_client.get(f"/article/{listed(price_cents=12000)}"))
    assert 'action="/panier/ajouter"' in another
    assert "Cet article est dans votre panier." not in another
    removed = central_client.post("/panier/retirer", data={"item_id": item_id})
    assert "Votre panier est vide." in html_of(removed)


def test_a_forged_cart_cookie_is_ignored(listed: Listed, central_client: TestClient) -> None:
    item_id = listed()
    central_client.cookies.set("panier", signed(b"x" * 43, [item_id]))
    cart = html_of(central_client.get("/panier"))
    assert "Votre panier est vide." in cart
    assert central_client.get("/commande", follow_redirects=False).headers["location"] == "/panier"


def test_a_twenty_first_item_is_refused_in_french(
    listed: Listed, central_client: TestClient, central: CentralNode
) -> None:
    item_id = listed()
    secret = storefront_cart.storefront_secret(central.settings.data_dir)
    full = [f"01939a4e-0000-7000-8000-{n:012d}" for n in range(20)]
    central_client.cookies.set("panier", signed(secret, full))
    refused = add(central_client, item_id)
    assert refused.status_code == 409
    assert "Votre panier contient déjà 20 articles" in html_of(refused)
    assert html_of(central_client.get("/panier")).count("plus disponible</strong>") == 20


def test_an_item_sold_at_the_till_shows_as_no_longer_available_and_is_not_counted(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    central_client: TestClient,
) -> None:
    label, item_id = listed_item(client, login, article_id)
    push_all(pusher, central_client)
    add(central_client, item_id)
    sold = client.post(
        "/api/v1/sales",
        json={
            "till": "T1",
            "lines": [{"label_code": label}],
            "tenders": [{"kind": "cash", "amount_cents": 100000}],
        },
        headers=login("caissier"),
    )
    assert sold.status_code == 201, sold.text
    push_all(pusher, central_client)
    cart = html_of(central_client.get("/panier"))
    assert "Apple iPhone 12 64 Go</span> <strong>plus disponible</strong>" in cart
    assert "Total des articles (0 article) : <strong>0,00 €</strong>" in cart
    assert "Passer commande" not in cart


def test_a_form_posted_from_another_site_is_refused(
    listed: Listed, central_client: TestClient
) -> None:
    item_id = listed()
    refused = central_client.post(
        "/panier/ajouter", data={"item_id": item_id}, headers={"Origin": "https://ailleurs.example"}
    )
    assert refused.status_code == 403
    assert "Ce formulaire ne vient pas de notre site" in html_of(refused)
    assert "panier" not in central_client.cookies


# --- checkout ---------------------------------------------------------------------------------


def test_the_checkout_form_shows_french_errors_and_keeps_what_was_typed_but_the_card(
    listed: Listed, central_client: TestClient, central: CentralNode
) -> None:
    add(central_client, listed())
    page = html_of(central_client.get("/commande"))
    for autocomplete in ("name", "email", "tel", "cc-number", "cc-exp-month", "cc-exp-year"):
        assert f'autocomplete="{autocomplete}"' in page
    for autocomplete in ("cc-csc", "address-line1", "postal-code", "address-level2"):
        assert f'autocomplete="{autocomplete}"' in page
    assert "Livraison à domicile : 6,90 €" in page
    refused = place(
        central_client, email="camille@", carte_numero="4242 4242 4242 4241", carte_cvc="999"
    )
    assert refused.status_code == 422
    html = html_of(refused)
    assert "L'adresse e-mail « camille@ » n'est pas valide" in html
    assert "Ce numéro de carte n'est pas valide : vérifiez-le." in html
    assert "corrigez les 2 champs signalés" in html
    assert 'value="Camille Martin"' in html
    assert 'value="06 12 34 56 78"' in html
    assert '<option value="12" selected>' in html
    assert "4242" not in html
    assert 'value="999"' not in html
    assert orders_count(central) == 0


def test_a_declined_card_shows_the_refusal_and_orders_nothing(
    listed: Listed, central_client: TestClient, central: CentralNode
) -> None:
    item_id = listed()
    add(central_client, item_id)
    refused = place(central_client, carte_numero=DECLINED_CARD)
    assert refused.status_code == 402
    html = html_of(refused)
    assert "Votre banque a refusé le paiement : rien n'a été commandé ni débité." in html
    assert "4000" not in html
    assert 'value="camille@example.fr"' in html
    assert orders_count(central) == 0
    with central.reading() as conn:
        assert conn.execute(select(m.item_holds)).all() == []
    assert item_id in html_of(central_client.get("/panier"))  # still in the cart


def test_an_item_ordered_meanwhile_is_taken_out_of_the_cart(
    listed: Listed, central_client: TestClient, central: CentralNode
) -> None:
    item_id = listed()
    add(central_client, item_id)
    seen = shown_cart(central_client)
    someone_else = central_client.post(
        "/api/v1/marketplace/checkout",
        json={
            "items": [item_id],
            "customer": {"name": "Alex Durand", "email": "alex@example.fr", "phone": "0611223344"},
            "fulfilment": "collect",
            "card": {"number": GOOD_CARD, "expiry_month": 12, "expiry_year": 2030, "cvc": "123"},
        },
    )
    assert someone_else.status_code == 201, someone_else.text
    refused = central_client.post("/commande", data={**seen, **form()}, follow_redirects=False)
    assert refused.status_code == 409
    html = html_of(refused)
    assert "« Apple iPhone 12 64 Go » n'est plus disponible" in html
    assert "Nous l'avons retiré de votre panier" in html
    assert orders_count(central) == 1  # the other customer's only
    assert "Votre panier est vide." in html_of(central_client.get("/panier"))


def test_a_cart_changed_since_the_form_was_shown_is_not_ordered(
    listed: Listed, central_client: TestClient, central: CentralNode
) -> None:
    add(central_client, listed())
    seen = shown_cart(central_client)
    add(central_client, listed(price_cents=12000))
    refused = central_client.post("/commande", data={**seen, **form()}, follow_redirects=False)
    assert refused.status_code == 409
    assert "Votre panier a changé depuis l'affichage de cette page" in html_of(refused)
    assert orders_count(central) == 0


def test_a_store_not_heard_from_lately_cannot_be_paid_and_the_cart_is_kept(
    listed: Listed, central_client: TestClient, central: CentralNode, clock: FixedClock
) -> None:
    item_id = listed()
    add(central_client, item_id)
    clock.advance(timedelta(seconds=central.settings.store_silence_s + 1))
    refused = place(central_client)
    assert refused.status_code == 409
    assert "Magasin de Lyon Part-Dieu (Lyon) n'a pas confirmé ces dernières minutes" in html_of(
        refused
    )
    assert orders_count(central) == 0
    assert item_id in html_of(central_client.get("/panier"))


# --- the order page ---------------------------------------------------------------------------


def test_a_paid_order_page_goes_from_awaiting_the_store_to_confirmed(
    listed: Listed,
    central_client: TestClient,
    central: CentralNode,
    puller: FeedPuller,
    pusher: Pusher,
) -> None:
    add(central_client, listed())
    placed = place(central_client)
    assert placed.status_code == 303, placed.text
    location = placed.headers["location"]
    assert re.fullmatch(r"/commande/W261120-[A-Z2-9]{5}\?email=camille%40example\.fr", location)
    assert "panier" not in central_client.cookies  # the cart is emptied
    waiting = central_client.get(location)
    assert waiting.status_code == 200
    assert waiting.headers["cache-control"] == "no-store"
    html = html_of(waiting)
    assert "En attente de confirmation par le magasin" in html
    assert '<meta http-equiv="refresh" content="3">' in html
    assert "Apple iPhone 12 64 Go" in html
    assert "Retrait gratuit au magasin" in html
    sync(puller, pusher, central_client)
    confirmed = html_of(central_client.get(location))
    assert "Confirmée — paiement effectué" in confirmed
    assert 'http-equiv="refresh"' not in confirmed
    assert "Me rétracter" not in confirmed  # collected at the store: a shop sale


def test_an_order_page_needs_the_address_it_was_placed_with(
    listed: Listed, central_client: TestClient
) -> None:
    add(central_client, listed())
    location = place(central_client).headers["location"]
    number = location.split("/")[2].split("?")[0]
    wrong = central_client.get(f"/commande/{number}", params={"email": "autre@example.fr"})
    assert wrong.status_code == 404
    assert f"Nous ne trouvons pas de commande {number}" in html_of(wrong)
    asked = html_of(central_client.get(f"/commande/{number}"))
    assert "Suivre ma commande" in asked
    assert f'value="{number}"' in asked
    found = central_client.get(
        "/suivi", params={"numero": number.lower(), "email": EMAIL}, follow_redirects=False
    )
    assert found.status_code == 303
    assert found.headers["location"] == location
    unknown = central_client.get("/suivi", params={"numero": "W000000-XXXXX", "email": EMAIL})
    assert unknown.status_code == 404


def test_an_order_its_store_did_not_answer_in_time_reads_cancelled_and_not_charged(
    listed: Listed, central_client: TestClient, central: CentralNode, clock: FixedClock
) -> None:
    add(central_client, listed())
    location = place(central_client).headers["location"]
    clock.advance(timedelta(seconds=central.settings.reservation_timeout_s + 1))
    process(central_client)
    html = html_of(central_client.get(location))
    assert (
        "Annulée : le magasin n'a pas confirmé la disponibilité à temps — votre carte n'a pas "
        "été débitée"
    ) in html
    assert 'http-equiv="refresh"' not in html


def test_a_shipped_order_can_be_withdrawn_from_its_page(
    listed: Listed,
    client: TestClient,
    login: Headers,
    central_client: TestClient,
    central_admin: dict[str, str],
    puller: FeedPuller,
    pusher: Pusher,
) -> None:
    add(central_client, listed())
    address = {
        "mode": "ship",
        "livraison_nom": "Camille Martin",
        "livraison_ligne1": "12 rue Mercière",
        "livraison_code_postal": "69002",
        "livraison_ville": "Lyon",
    }
    location = place(central_client, **address).headers["location"]
    number = location.split("/")[2].split("?")[0]
    sync(puller, pusher, central_client)
    shipped = client.post(
        f"/api/v1/online-orders/{number}/hand-over",
        json={"tracking_number": "6A12345678901"},
        headers=login("gerant"),
    )
    assert shipped.status_code == 200, shipped.text
    push_all(pusher, central_client)
    delivered = central_client.post(f"/api/v1/orders/{number}/delivered", headers=central_admin)
    assert delivered.status_code == 200, delivered.text
    html = html_of(central_client.get(location))
    assert "Livrée" in html
    assert "Vous pouvez vous rétracter jusqu'au 4 décembre 2026 inclus" in html
    assert "355,90 €" in html  # 349,00 € and the standard delivery
    withdrawn = central_client.post(
        f"/commande/{number}/retractation", data={"email": EMAIL}, follow_redirects=False
    )
    assert withdrawn.status_code == 303
    process(central_client)
    html = html_of(central_client.get(location))
    assert "Rétractation enregistrée — vous êtes remboursé(e) de 355,90 €" in html
    again = central_client.post(f"/commande/{number}/retractation", data={"email": EMAIL})
    assert again.status_code == 409
    assert "ne peut pas faire l'objet d'une rétractation" in html_of(again)


def test_an_order_page_lists_every_order_of_its_cart(
    listed: Listed, central_client: TestClient, central: CentralNode
) -> None:
    add(central_client, listed())
    first = place(central_client).headers["location"]
    add(central_client, listed(price_cents=12000))
    second = place(central_client).headers["location"]
    numbers = [url.split("/")[2].split("?")[0] for url in (first, second)]
    with central.writing() as conn:  # as when one cart spans two stores
        checkout_id = conn.execute(
            select(m.orders.c.checkout_id).where(m.orders.c.number == numbers[0])
        ).scalar_one()
        conn.execute(
            update(m.orders).where(m.orders.c.number == numbers[1]).values(checkout_id=checkout_id)
        )
    html = html_of(central_client.get(first))
    assert "Votre panier a donné 2 commandes, une par magasin" in html
    assert html.index(f"Commande {numbers[0]}") < html.index(f"Commande {numbers[1]}")
    assert html.count("En attente de confirmation par le magasin") == 2
