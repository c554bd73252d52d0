"""The storefront's cart page, checkout and order pages: one order per store through the same
checkout as the JSON API, the page the customer's messages link to, and the withdrawal from a
shipped order."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from urllib.parse import quote, urlencode, urlsplit

from babel.dates import format_date
from email_validator import EmailNotValidError, validate_email
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection, bindparam, select
from starlette.exceptions import HTTPException as StarletteHTTPException
from stdnum import luhn

from recommerce.central.api.deps import CentralDep
from recommerce.central.api.marketplace import (
    BEING_CONFIRMED,
    ListingOut,
    StoreOut,
    find_listing,
    listing_out,
)
from recommerce.central.api.orders import OrderOut, order_out
from recommerce.central.bootstrap import CentralNode
from recommerce.central.db import catalog_tables as c
from recommerce.central.db import marketplace_tables as m
from recommerce.central.services import checkout as checkout_service
from recommerce.central.services import orders as order_service
from recommerce.central.services.listings import listings_by_id
from recommerce.central.web.cart import (
    CART_MAX_ITEMS,
    ITEM_ID,
    PRIVATE,
    Cart,
    CartFull,
    cart_of,
    cart_size,
    keep_cart,
)
from recommerce.central.web.storefront import PARIS, SearchForm, not_found_page, templates
from recommerce.errors import DomainError, ErrorCode, NotFound
from recommerce.marketplace.notifications import euros
from recommerce.marketplace.orders import STANDARD_DELIVERY_CENTS, Fulfilment, OrderStatus
from recommerce.marketplace.payments import CardDetails

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class GoneLine:
    """An item of the cart no longer on sale: sold, ordered by someone else, or taken offline."""

    item_id: str
    title: str


@dataclass(frozen=True, slots=True)
class StoreLines:
    """The items of the cart one store holds: one order at checkout, confirmed by that store."""

    store: StoreOut
    listings: tuple[ListingOut, ...]

    @property
    def items_cents(self) -> int:
        return sum(listing.price_cents for listing in self.listings)

    @property
    def being_confirmed(self) -> bool:
        return any(listing.availability == BEING_CONFIRMED for listing in self.listings)


@dataclass(frozen=True, slots=True)
class CartView:
    """The cart as the customer sees it now, every line re-read from the database: the items on
    sale grouped by the store that holds them, and those no longer on sale (not counted)."""

    groups: tuple[StoreLines, ...] = ()
    gone: tuple[GoneLine, ...] = ()

    @property
    def available_ids(self) -> tuple[str, ...]:
        return tuple(listing.item_id for group in self.groups for listing in group.listings)

    @property
    def count(self) -> int:
        return sum(len(group.listings) for group in self.groups)

    @property
    def items_cents(self) -> int:
        return sum(group.items_cents for group in self.groups)

    def delivery_cents(self, fulfilment: Fulfilment) -> int:
        """Standard delivery for each store that ships a parcel; collecting is free."""
        return STANDARD_DELIVERY_CENTS * len(self.groups) if fulfilment is Fulfilment.SHIP else 0

    def total_cents(self, fulfilment: Fulfilment) -> int:
        return self.items_cents + self.delivery_cents(fulfilment)

    def listing(self, item_id: str) -> ListingOut | None:
        for group in self.groups:
            for listing in group.listings:
                if listing.item_id == item_id:
                    return listing
        return None


def listing_titles(conn: Connection, item_ids: Sequence[str]) -> dict[str, str]:
    """The titles of listed items, on sale or not (a cart names the ones no longer on sale)."""
    if not item_ids:
        return {}
    rows = conn.execute(
        select(m.listings.c.item_id, c.articles.c.name)
        .join(c.articles, c.articles.c.id == m.listings.c.article_id)
        .where(m.listings.c.item_id.in_(bindparam("ids", expanding=True))),
        {"ids": list(item_ids)},
    )
    return {row.item_id: row.name for row in rows}


def read_cart(central: CentralNode, cart: Cart) -> CartView:
    """The lines of the cart as they are now in the database."""
    with central.reading() as conn:
        rows = listings_by_id(conn, cart.item_ids)
        titles = listing_titles(conn, [i for i in cart.item_ids if i not in rows])
    now, silence = central.clock.now(), timedelta(seconds=central.settings.store_silence_s)
    by_store: dict[int, list[ListingOut]] = {}
    for item_id in cart.item_ids:
        if item_id in rows:
            listing = listing_out(rows[item_id], now, silence)
            by_store.setdefault(listing.store.number, []).append(listing)
    return CartView(
        groups=tuple(
            StoreLines(listings[0].store, tuple(listings))
            for _, listings in sorted(by_store.items())
        ),
        gone=tuple(GoneLine(i, titles.get(i, "Article")) for i in cart.item_ids if i not in rows),
    )


# --- forms posted to the storefront -----------------------------------------------------------


def same_origin(request: Request) -> bool:
    """Whether a form comes from the storefront's own pages (or from a client that names no
    origin): a page elsewhere cannot fill a customer's cart, order or withdraw in their name."""
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.headers.get("host", "")


async def form_fields(request: Request) -> dict[str, str]:
    """The text fields of a posted form (a field given twice: its last value); none when the
    body is not a form that can be read (the page then says what is missing, in French)."""
    try:
        form = await request.form()
    except StarletteHTTPException:  # a malformed multipart body
        return {}
    return {name: value for name, value in form.multi_items() if isinstance(value, str)}


def message_page(request: Request, title: str, text: str, status_code: int) -> Response:
    return templates.TemplateResponse(
        request,
        "storefront/message.html",
        {"form": SearchForm(), "title": title, "text": text},
        status_code=status_code,
        headers=PRIVATE,
    )


def foreign_form_page(request: Request) -> Response:
    return message_page(
        request,
        "Demande refusée",
        "Ce formulaire ne vient pas de notre site : rien n'a été fait. Revenez sur la page de "
        "l'article ou de votre panier pour recommencer.",
        403,
    )


def cart_page_response(
    request: Request,
    view: CartView,
    *,
    cart: Cart,
    added: bool = False,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    return templates.TemplateResponse(
        request,
        "storefront/cart.html",
        {
            "form": SearchForm(),
            "view": view,
            "cart_count": len(cart),
            "added": added,
            "message": message,
            "delivery_cents": STANDARD_DELIVERY_CENTS,
        },
        status_code=status_code,
        headers=PRIVATE,
    )


@router.get("/panier", response_class=HTMLResponse)
async def cart_page(request: Request, central: CentralDep) -> Response:
    """The cart: its items grouped by store, those no longer on sale, and the total."""
    cart = cart_of(request)
    view = await run_in_threadpool(read_cart, central, cart)
    added = request.query_params.get("ajout") == "1"
    return cart_page_response(request, view, cart=cart, added=added)


@router.post("/panier/ajouter", response_class=HTMLResponse)
async def add_to_cart(request: Request, central: CentralDep) -> Response:
    """Put an item on sale in the cart (the item page's button), then show the cart."""
    if not same_origin(request):
        return foreign_form_page(request)
    item_id = (await form_fields(request)).get("item_id", "").strip()
    if not ITEM_ID.fullmatch(item_id):
        return not_found_page(request)
    try:
        await run_in_threadpool(find_listing, central, item_id)
    except NotFound:
        return not_found_page(request)
    cart = cart_of(request)
    try:
        bigger = cart.with_item(item_id)
    except CartFull:
        view = await run_in_threadpool(read_cart, central, cart)
        message = (
            f"Votre panier contient déjà {CART_MAX_ITEMS} articles, le plus qu'une commande "
            "peut en compter : passez d'abord cette commande, ou retirez un article du panier."
        )
        return cart_page_response(request, view, cart=cart, message=message, status_code=409)
    response = RedirectResponse("/panier?ajout=1", status_code=303)
    keep_cart(response, request, bigger)
    return response


@router.post("/panier/retirer", response_class=HTMLResponse)
async def remove_from_cart(request: Request) -> Response:
    """Take an item out of the cart, then show the cart."""
    if not same_origin(request):
        return foreign_form_page(request)
    item_id = (await form_fields(request)).get("item_id", "").strip()
    response = RedirectResponse("/panier", status_code=303)
    keep_cart(response, request, cart_of(request).without([item_id]))
    return response


# --- checkout ---------------------------------------------------------------------------------

_PHONE = re.compile(r"\+?[0-9 .()/-]{6,40}")
_POSTCODE = re.compile(r"[0-9]{5}")
_CVC = re.compile(r"[0-9]{3,4}")
_CARD_NUMBER = re.compile(r"[0-9]{12,19}")
_MONTH = re.compile(r"(0?[1-9]|1[0-2])")
_YEAR = re.compile(r"20[0-9]{2}")
EXPIRY_YEARS = 16  # the years a card's expiry is chosen among, from this one
DELIVERY_MODES: dict[str, str] = {
    Fulfilment.COLLECT.value: "Retrait gratuit au magasin",
    Fulfilment.SHIP.value: "Livraison à domicile",
}


@dataclass(frozen=True, slots=True)
class CheckoutForm:
    """The checkout form as the customer typed it, shown back after an error: everything but
    the card's number and security code, which go to the payment provider and nowhere else."""

    nom: str = ""
    email: str = ""
    telephone: str = ""
    mode: str = Fulfilment.COLLECT.value
    livraison_nom: str = ""
    livraison_ligne1: str = ""
    livraison_ligne2: str = ""
    livraison_code_postal: str = ""
    livraison_ville: str = ""
    carte_mois: str = ""
    carte_annee: str = ""


@dataclass(frozen=True, slots=True)
class CheckoutAsked:
    """What a correctly filled checkout form asks for."""

    customer: checkout_service.Customer
    fulfilment: Fulfilment
    card: CardDetails
    shipping_address: dict[str, str] | None = None


def read_checkout_form(
    fields: Mapping[str, str], *, today: date
) -> tuple[CheckoutForm, dict[str, str], CheckoutAsked | None]:
    """The form as typed, a French message for each field at fault (by field name), and what
    it asks for when no field is at fault."""

    def text(name: str, longest: int) -> str:
        return " ".join(fields.get(name, "").split())[:longest]

    form = CheckoutForm(
        nom=text("nom", 200),
        email=fields.get("email", "").strip()[:254],
        telephone=text("telephone", 40),
        mode=fields.get("mode", Fulfilment.COLLECT.value).strip(),
        livraison_nom=text("livraison_nom", 200),
        livraison_ligne1=text("livraison_ligne1", 200),
        livraison_ligne2=text("livraison_ligne2", 200),
        livraison_code_postal=text("livraison_code_postal", 10),
        livraison_ville=text("livraison_ville", 120),
        carte_mois=fields.get("carte_mois", "").strip()[:2],
        carte_annee=fields.get("carte_annee", "").strip()[:4],
    )
    errors: dict[str, str] = {}
    if not form.nom:
        errors["nom"] = "Indiquez votre nom et votre prénom."
    email = ""
    if not form.email:
        errors["email"] = "Indiquez votre adresse e-mail : nous y envoyons le suivi de la commande."
    else:
        try:
            email = validate_email(form.email, check_deliverability=False).normalized
        except EmailNotValidError:
            errors["email"] = (
                f"L'adresse e-mail « {form.email} » n'est pas valide "
                "(par exemple : camille.martin@exemple.fr)."
            )
    digits = sum(ch.isdigit() for ch in form.telephone)
    if not form.telephone:
        errors["telephone"] = "Indiquez un numéro de téléphone, pour que le magasin vous joigne."
    elif not _PHONE.fullmatch(form.telephone) or not 6 <= digits <= 15:
        errors["telephone"] = (
            f"Le numéro de téléphone « {form.telephone} » n'est pas valide "
            "(par exemple : 06 12 34 56 78)."
        )
    try:
        fulfilment = Fulfilment(form.mode)
    except ValueError:
        fulfilment = Fulfilment.COLLECT
        errors["mode"] = "Choisissez le retrait au magasin ou la livraison à domicile."
    address: dict[str, str] | None = None
    if fulfilment is Fulfilment.SHIP:
        if not form.livraison_nom:
            errors["livraison_nom"] = "Indiquez le nom du destinataire du colis."
        if not form.livraison_ligne1:
            errors["livraison_ligne1"] = "Indiquez l'adresse de livraison (numéro et rue)."
        if not _POSTCODE.fullmatch(form.livraison_code_postal):
            errors["livraison_code_postal"] = "Le code postal a 5 chiffres (par exemple : 69002)."
        if not form.livraison_ville:
            errors["livraison_ville"] = "Indiquez la ville de livraison."
        address = {
            "name": form.livraison_nom,
            "line1": form.livraison_ligne1,
            "line2": form.livraison_ligne2,
            "postcode": form.livraison_code_postal,
            "city": form.livraison_ville,
        }
    number = re.sub(r"[\s-]", "", fields.get("carte_numero", ""))
    if not number:
        errors["carte_numero"] = "Indiquez le numéro de votre carte bancaire."
    elif not _CARD_NUMBER.fullmatch(number) or not luhn.is_valid(number):
        errors["carte_numero"] = "Ce numéro de carte n'est pas valide : vérifiez-le."
    month = int(form.carte_mois) if _MONTH.fullmatch(form.carte_mois) else None
    year = int(form.carte_annee) if _YEAR.fullmatch(form.carte_annee) else None
    if month is None or year is None:
        errors["carte_expiration"] = "Choisissez le mois et l'année d'expiration de votre carte."
    elif (year, month) < (today.year, today.month):
        errors["carte_expiration"] = "Cette carte a expiré : utilisez-en une autre."
    cvc = fields.get("carte_cvc", "").strip()
    if not _CVC.fullmatch(cvc):
        errors["carte_cvc"] = "Le cryptogramme visuel a 3 ou 4 chiffres, au dos de votre carte."
    if errors or month is None or year is None:
        return form, errors, None
    return (
        form,
        errors,
        CheckoutAsked(
            customer=checkout_service.Customer(name=form.nom, email=email, phone=form.telephone),
            fulfilment=fulfilment,
            card=CardDetails(number=number, expiry_month=month, expiry_year=year, cvc=cvc),
            shipping_address=address,
        ),
    )


def order_url(number: str, email: str) -> str:
    """The order page's address: the order's number and the customer's e-mail address."""
    return f"/commande/{quote(number, safe='')}?{urlencode({'email': email})}"


def _titles(titles: Sequence[str]) -> str:
    return ", ".join(f"« {title} »" for title in titles)


def taken_message(gone: Sequence[GoneLine]) -> str:
    """An item the customer was about to order was sold or ordered meanwhile."""
    if len(gone) == 1:
        what = f"{_titles([gone[0].title])} n'est plus disponible : il vient d'être vendu ou "
        what += "commandé par un autre client. Nous l'avons retiré de votre panier"
    else:
        what = f"Ces articles ne sont plus disponibles : {_titles([g.title for g in gone])}. "
        what += "Ils viennent d'être vendus ou commandés ; nous les avons retirés de votre panier"
    return f"{what}. Rien n'a été commandé ni débité : vérifiez le total, puis validez à nouveau."


CART_CHANGED = (
    "Votre panier a changé depuis l'affichage de cette page (un article ajouté ou retiré, ou un "
    "prix modifié) : rien n'a été commandé ni débité. Vérifiez vos articles et le total, puis "
    "validez à nouveau."
)
CARD_DECLINED = (
    "Votre banque a refusé le paiement : rien n'a été commandé ni débité. Vérifiez les "
    "informations de votre carte, ou utilisez-en une autre."
)
# What the payment provider found wrong with a card, shown next to the field at fault.
CARD_FIELD_ERRORS: dict[str, tuple[str, str]] = {
    "card.number": ("carte_numero", "Ce numéro de carte n'est pas valide."),
    "card.expiry": ("carte_expiration", "Cette carte a expiré."),
    "card.cvc": ("carte_cvc", "Le cryptogramme visuel n'est pas valide."),
}
NOT_PLACED = (
    "Votre commande n'a pas pu être enregistrée : rien n'a été commandé ni débité. Vérifiez le "
    "formulaire, puis validez à nouveau."
)


def checkout_page_response(
    request: Request,
    central: CentralNode,
    view: CartView,
    form: CheckoutForm,
    *,
    cart: Cart,
    errors: Mapping[str, str] | None = None,
    refusal: str | None = None,
    status_code: int = 200,
) -> Response:
    this_year = central.clock.now().astimezone(PARIS).year
    response = templates.TemplateResponse(
        request,
        "storefront/checkout.html",
        {
            "form": SearchForm(),
            "checkout": form,
            "errors": errors or {},
            "refusal": refusal,
            "view": view,
            "cart_count": len(cart),
            "delivery_cents": STANDARD_DELIVERY_CENTS,
            "collect_total": view.total_cents(Fulfilment.COLLECT),
            "ship_total": view.total_cents(Fulfilment.SHIP),
            "ship_delivery": view.delivery_cents(Fulfilment.SHIP),
            "months": [f"{month:02d}" for month in range(1, 13)],
            "years": [str(year) for year in range(this_year, this_year + EXPIRY_YEARS)],
            "articles": ",".join(view.available_ids),
            "montant": str(view.items_cents),
        },
        status_code=status_code,
        headers=PRIVATE,
    )
    if cart != cart_of(request):
        keep_cart(response, request, cart)
    return response


@router.get("/commande", response_class=HTMLResponse)
async def checkout_page(request: Request, central: CentralDep) -> Response:
    """The checkout form: the customer, collection or delivery, and the card."""
    cart = cart_of(request)
    view = await run_in_threadpool(read_cart, central, cart)
    if not view.count:
        return RedirectResponse("/panier", status_code=303)
    return checkout_page_response(request, central, view, CheckoutForm(), cart=cart)


@router.post("/commande", response_class=HTMLResponse)
async def place_order(request: Request, central: CentralDep) -> Response:
    """Order the items of the cart shown on the form: one order per store, each confirmed by
    its store, the card only authorised meanwhile. A refusal shows the form again, in French,
    as typed (but the card's number and code)."""
    if not same_origin(request):
        return foreign_form_page(request)
    fields = await form_fields(request)
    cart = cart_of(request)
    view = await run_in_threadpool(read_cart, central, cart)
    if not view.count and not view.gone:
        return RedirectResponse("/panier", status_code=303)
    today = central.clock.now().astimezone(PARIS).date()
    form, errors, asked = read_checkout_form(fields, today=today)

    def again(
        refusal: str | None,
        status_code: int,
        *,
        now: CartView = view,
        kept: Cart = cart,
        at_fault: Mapping[str, str] = errors,
    ) -> Response:
        return checkout_page_response(
            request,
            central,
            now,
            form,
            cart=kept,
            errors=at_fault,
            refusal=refusal,
            status_code=status_code,
        )

    shown = [i for i in fields.get("articles", "").split(",") if i]
    gone = [line for line in view.gone if line.item_id in shown]
    if gone:
        kept = cart.without(line.item_id for line in gone)
        return again(taken_message(gone), 409, now=replace(view, gone=()), kept=kept)
    if asked is None:
        return again(None, 422)
    if set(shown) != set(view.available_ids) or fields.get("montant") != str(view.items_cents):
        return again(CART_CHANGED, 409)
    order = checkout_service.Checkout(
        item_ids=view.available_ids,
        customer=asked.customer,
        fulfilment=asked.fulfilment,
        card=asked.card,
        shipping_address=asked.shipping_address,
    )
    try:
        placed = await run_in_threadpool(
            checkout_service.checkout, central, central.payments, order
        )
    except DomainError as exc:
        if exc.code is ErrorCode.PAYMENT_DECLINED:
            name, text = CARD_FIELD_ERRORS.get(exc.field or "", ("", ""))
            return again(CARD_DECLINED, 402, at_fault={name: text} if name else {})
        if exc.code is not ErrorCode.LISTING_UNAVAILABLE:
            return again(NOT_PLACED, 422)
        now = await run_in_threadpool(read_cart, central, cart)
        waiting = now.listing(str(exc.extra.get("item_id", "")))
        if waiting is not None:  # still on sale: its store has not been heard from lately
            return again(silent_store_message(waiting), 409, now=now)
        kept = cart.without(line.item_id for line in now.gone)
        refusal = taken_message(now.gone) if now.gone else CART_CHANGED
        return again(refusal, 409, now=replace(now, gone=()), kept=kept)
    request.app.state.indexer.touched(view.available_ids)  # held now: off the search
    request.app.state.order_processor.wake()  # the first message
    first = min(placed, key=lambda row: row.store_number)
    response = RedirectResponse(order_url(first.number, asked.customer.email), status_code=303)
    keep_cart(response, request, Cart())
    return response


def silent_store_message(listing: ListingOut) -> str:
    return (
        f"{listing.store.name} ({listing.store.city}) n'a pas confirmé ces dernières minutes "
        f"qu'il détient toujours {_titles([listing.title])} : rien n'a été commandé ni débité. "
        "Réessayez dans quelques minutes, ou retirez cet article de votre panier."
    )


# --- the order page ---------------------------------------------------------------------------

ORDER_REFRESH_S = 3  # while the store has yet to answer, the order page reloads itself
ORDER_NUMBER_MAX = 20
EMAIL_MAX = 254


@dataclass(frozen=True, slots=True)
class OrderStatusView:
    """Where an order stands, as the customer reads it on the order page."""

    headline: str
    detail: str
    tone: str  # the colour of the status box: "waiting", "done" or "ended"
    waiting: bool = False  # the store has yet to answer, or the payment to be taken


def _money_back(order: OrderOut) -> str:
    if order.payment_state == "refunded":
        return f"vous êtes remboursé(e) de {euros(order.refunded_cents)}"
    if order.payment_state == "captured":
        return f"vous allez être remboursé(e) de {euros(order.total_cents)}"
    return "votre carte n'a pas été débitée"


def order_status(order: OrderOut) -> OrderStatusView:
    """The status of an order in the customer's words."""
    store = f"{order.store_name} ({order.store_city})"
    status = order.status
    if status is OrderStatus.AWAITING_STORE:
        return OrderStatusView(
            "En attente de confirmation par le magasin",
            f"{store} vérifie qu'il détient toujours vos articles ; votre carte n'est débitée "
            "qu'après sa confirmation. Cette page se met à jour toute seule.",
            "waiting",
            waiting=True,
        )
    if status is OrderStatus.RESERVED:
        return OrderStatusView(
            "Réservée par le magasin — paiement en cours",
            f"{store} a réservé vos articles. Cette page se met à jour toute seule.",
            "waiting",
            waiting=True,
        )
    if status is OrderStatus.CONFIRMED:
        then = (
            f"nous vous écrirons dès qu'elle sera prête à retirer ({store})."
            if order.fulfilment is Fulfilment.COLLECT
            else "nous vous écrirons dès que votre colis sera expédié."
        )
        return OrderStatusView(
            "Confirmée — paiement effectué", f"Le magasin prépare votre commande : {then}", "done"
        )
    if status is OrderStatus.READY_FOR_COLLECTION:
        return OrderStatusView(
            f"Prête à retirer au magasin — {store}",
            f"Présentez le numéro de commande {order.number} en caisse.",
            "done",
        )
    if status is OrderStatus.SHIPPED:
        tracked = f", suivi {order.tracking_number}" if order.tracking_number else ""
        return OrderStatusView(
            f"Expédiée{tracked}",
            "Vous disposez de 14 jours à compter de la livraison pour vous rétracter.",
            "done",
        )
    if status is OrderStatus.DELIVERED:
        until = (
            f"Vous pouvez vous rétracter jusqu'au {long_day(order.withdrawal_ends_on)} inclus."
            if order.withdrawal_ends_on
            else ""
        )
        return OrderStatusView("Livrée", until, "done")
    if status is OrderStatus.COLLECTED:
        return OrderStatusView("Retirée au magasin", "Merci et à bientôt !", "done")
    if status is OrderStatus.WITHDRAWN:
        return OrderStatusView(
            f"Rétractation enregistrée — {_money_back(order)}",
            "Le remboursement comprend la livraison standard (Code de la consommation L221-24).",
            "ended",
        )
    reason = order.end_reason or "le magasin ne peut pas fournir vos articles"
    return OrderStatusView(f"Annulée : {reason} — {_money_back(order)}", "", "ended")


def long_day(day: date) -> str:
    """A day spelled out: "4 décembre 2026"."""
    return str(format_date(day, format="long", locale="fr_FR"))


def may_withdraw(order: OrderOut, today: date) -> bool:
    """Whether the customer may still withdraw from this order (rule E.22): shipped, and
    within 14 days of delivery."""
    return (
        order.fulfilment is Fulfilment.SHIP
        and order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED)
        and (order.withdrawal_ends_on is None or today <= order.withdrawal_ends_on)
    )


def checkout_orders(central: CentralNode, number: str, email: str) -> list[OrderOut]:
    """The order with this number, if it is this customer's, then the other orders its cart
    gave (one per store). Raises NotFound."""
    first = order_out(central, number, email=email)
    with central.reading() as conn:
        checkout_id = select(m.orders.c.checkout_id).where(m.orders.c.number == number)
        others = (
            conn.execute(
                select(m.orders.c.number)
                .where(
                    m.orders.c.checkout_id == checkout_id.scalar_subquery(),
                    m.orders.c.number != number,
                )
                .order_by(m.orders.c.store_number)
            )
            .scalars()
            .all()
        )
    return [first, *(order_out(central, other) for other in others)]


@dataclass(frozen=True, slots=True)
class OrderPanel:
    """One order as its page shows it."""

    order: OrderOut
    status: OrderStatusView
    may_withdraw: bool
    url: str


def order_page_response(
    request: Request,
    central: CentralNode,
    orders: Sequence[OrderOut],
    email: str,
    *,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    today = central.clock.now().astimezone(order_service.MARKET_ZONE).date()
    panels = [
        OrderPanel(
            order, order_status(order), may_withdraw(order, today), order_url(order.number, email)
        )
        for order in orders
    ]
    return templates.TemplateResponse(
        request,
        "storefront/order.html",
        {
            "form": SearchForm(),
            "panels": panels,
            "email": email,
            "message": message,
            "refresh_s": ORDER_REFRESH_S if any(p.status.waiting for p in panels) else None,
            "delivery_names": DELIVERY_MODES,
        },
        status_code=status_code,
        headers=PRIVATE,
    )


def lookup_page_response(
    request: Request,
    *,
    numero: str = "",
    email: str = "",
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    return templates.TemplateResponse(
        request,
        "storefront/order_lookup.html",
        {"form": SearchForm(), "numero": numero, "email": email, "message": message},
        status_code=status_code,
        headers=PRIVATE,
    )


def no_such_order(number: str) -> str:
    return (
        f"Nous ne trouvons pas de commande {number} passée avec cette adresse e-mail : vérifiez "
        "le numéro (il commence par W) et l'adresse donnée à la commande."
    )


@router.get("/suivi", response_class=HTMLResponse)
async def order_lookup(request: Request, central: CentralDep) -> Response:
    """ "Suivre ma commande": the order's number and the customer's e-mail address lead to the
    order page."""
    numero = request.query_params.get("numero", "").strip().upper()[:ORDER_NUMBER_MAX]
    email = request.query_params.get("email", "").strip()[:EMAIL_MAX]
    if not numero and not email:
        return lookup_page_response(request)
    if not numero or not email:
        return lookup_page_response(
            request,
            numero=numero,
            email=email,
            message="Indiquez le numéro de la commande et l'adresse e-mail donnée à la commande.",
            status_code=422,
        )
    try:
        await run_in_threadpool(lambda: order_out(central, numero, email=email))
    except NotFound:
        return lookup_page_response(
            request, numero=numero, email=email, message=no_such_order(numero), status_code=404
        )
    return RedirectResponse(order_url(numero, email), status_code=303)


@router.get("/commande/{number}", response_class=HTMLResponse)
async def order_page(request: Request, number: str, central: CentralDep) -> Response:
    """The customer's order (the link of their messages): its status, which updates itself
    while the store has yet to answer, its items and totals, its store; and the orders the
    same cart gave at other stores."""
    email = request.query_params.get("email", "").strip()
    if not email:
        return lookup_page_response(request, numero=number[:ORDER_NUMBER_MAX])
    if len(number) > ORDER_NUMBER_MAX or len(email) > EMAIL_MAX:
        return lookup_page_response(
            request, message=no_such_order(number[:ORDER_NUMBER_MAX]), status_code=404
        )
    try:
        orders = await run_in_threadpool(checkout_orders, central, number, email)
    except NotFound:
        return lookup_page_response(
            request, numero=number, email=email, message=no_such_order(number), status_code=404
        )
    return order_page_response(request, central, orders, email)


@router.post("/commande/{number}/retractation", response_class=HTMLResponse)
async def withdraw_order(request: Request, number: str, central: CentralDep) -> Response:
    """The customer withdraws from a shipped order within 14 days of delivery: refunded in
    full, standard delivery included (rule E.22)."""
    if not same_origin(request):
        return foreign_form_page(request)
    email = (await form_fields(request)).get("email", "").strip()
    if len(number) > ORDER_NUMBER_MAX or len(email) > EMAIL_MAX or not email:
        return lookup_page_response(
            request, message=no_such_order(number[:ORDER_NUMBER_MAX]), status_code=404
        )
    try:
        await run_in_threadpool(order_service.withdraw, central, number, email)
    except NotFound:
        return lookup_page_response(
            request, numero=number, email=email, message=no_such_order(number), status_code=404
        )
    except DomainError as exc:
        orders = await run_in_threadpool(checkout_orders, central, number, email)
        message = withdrawal_refusal(exc)
        return order_page_response(
            request, central, orders, email, message=message, status_code=409
        )
    request.app.state.order_processor.wake()  # the refund
    return RedirectResponse(order_url(number, email), status_code=303)


def withdrawal_refusal(exc: DomainError) -> str:
    ended_on = exc.extra.get("ended_on")
    if ended_on:
        day = long_day(date.fromisoformat(str(ended_on)))
        return f"Le délai de rétractation de 14 jours a pris fin le {day}."
    return (
        "Cette commande ne peut pas faire l'objet d'une rétractation : seule une commande "
        "expédiée le peut. Pour un article retiré au magasin, adressez-vous au magasin."
    )


templates.env.globals["cart_size"] = cart_size
templates.env.filters["long_day"] = long_day
