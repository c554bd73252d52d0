"""The marketplace's storefront: the pages customers browse, on a phone or a computer, to find
the items every store has put online, and to order them.

Server-rendered HTML in French that works without JavaScript: the home page, a search with
filters, one page per item (with the schema.org description search engines read), a French
404 for an item no longer on sale, and the sitemap that lists every item on sale. The pages
read the same search and listings as the JSON API (`recommerce.central.api.marketplace`).

Then the cart (item ids in a signed cookie, each line re-read from the database), the
checkout form (one order per store, through the same checkout as the JSON API), the order
page the customer's messages link to, and the withdrawal from a shipped order.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import math
import os
import re
import secrets
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_currency
from email_validator import EmailNotValidError, validate_email
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup
from sqlalchemy import Connection, Select, bindparam, func, select
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException as StarletteHTTPException
from stdnum import luhn

from recommerce.catalog.search import fold
from recommerce.central.api.deps import CentralDep
from recommerce.central.api.marketplace import (
    BEING_CONFIRMED,
    ListingOut,
    StoreOut,
    find_listing,
    listing_out,
    search_listings,
)
from recommerce.central.api.orders import OrderOut, order_out
from recommerce.central.bootstrap import CentralNode
from recommerce.central.db import catalog_tables as c
from recommerce.central.db import marketplace_tables as m
from recommerce.central.services import checkout as checkout_service
from recommerce.central.services import orders as order_service
from recommerce.central.services.listings import listing_query, listings_by_id
from recommerce.central.services.search_index import ListingIndexer
from recommerce.errors import DomainError, ErrorCode, NotFound
from recommerce.marketplace.orders import STANDARD_DELIVERY_CENTS, Fulfilment, OrderStatus
from recommerce.marketplace.payments import CardDetails
from recommerce.marketplace.search import ListingQuery, ListingResults, Sort

router = APIRouter(include_in_schema=False)

_HERE = Path(__file__).parent.parent
templates = Jinja2Templates(
    env=Environment(loader=FileSystemLoader(_HERE / "templates"), autoescape=True)
)

PER_PAGE = 24  # results on one page of a search
NEWEST_ON_HOME = 12  # newest items on the home page
# Deeper pages cost the index more and nobody reads them: past this, refine the search.
MAX_PAGE = 400
# The most brands or cities a filter offers (the most frequent ones); the others are typed.
FILTER_OPTIONS = 100
# A price typed in a filter is at most this much (the JSON API's own bound).
MAX_PRICE_CENTS = 100_000_000
TEXT_MAX = 200  # characters of a search kept

# The sitemap protocol's limit of URLs per file; the sitemap index points to the files.
SITEMAP_URLS = 50_000
SITEMAP_CHUNK = 5_000  # listings read from the database at a time for a sitemap file
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"

PARIS = ZoneInfo("Europe/Paris")

# The chain's condition scale as customers read it; each category's grade guide details it.
GRADE_NAMES: dict[str, str] = {
    "A": "Comme neuf",
    "B": "Bon état",
    "C": "État correct",
    "D": "Pour pièces",
}

# The orders of a search as the URL names them (`tri`), with their labels.
SORTS: dict[str, tuple[Sort, str]] = {
    "pertinence": (Sort.RELEVANCE, "Pertinence"),
    "prix-croissant": (Sort.PRICE_ASC, "Prix croissant"),
    "prix-decroissant": (Sort.PRICE_DESC, "Prix décroissant"),
    "nouveautes": (Sort.NEWEST, "Nouveautés"),
}
DEFAULT_SORT = "pertinence"
_SORT_NAMES = {sort: name for name, (sort, _) in SORTS.items()}

USED_CONDITION = "https://schema.org/UsedCondition"
IN_STOCK = "https://schema.org/InStock"
LIMITED_AVAILABILITY = "https://schema.org/LimitedAvailability"

_CSS = (_HERE / "static" / "storefront.css").read_bytes()
CSS_VERSION = hashlib.sha256(_CSS).hexdigest()[:12]


# --- words and numbers as the customer reads them ---------------------------------------------


def euros(cents: int) -> str:
    """An amount as French customers read it: "1 234,50 €" (with no-break spaces)."""
    return str(format_currency(Decimal(cents).scaleb(-2), "EUR", locale="fr_FR"))


def long_date(moment: datetime) -> str:
    """The day of a moment in Paris, spelled out: "20 novembre 2026"."""
    return str(format_date(moment.astimezone(PARIS).date(), format="long", locale="fr_FR"))


def item_condition(grade: str) -> str:
    """The schema.org condition of an item of this grade: every grade, even A ("like new"), is
    a used item (none is refurbished by the manufacturer)."""
    return USED_CONDITION


def offer_availability(availability: str) -> str:
    """The schema.org availability of an offer: in stock, or limited while the store has not
    confirmed lately that it still holds the item."""
    return LIMITED_AVAILABILITY if availability == BEING_CONFIRMED else IN_STOCK


_AMOUNT = re.compile(r"(?P<units>[0-9]{1,9})(?:[.,](?P<decimals>[0-9]{1,2}))?")
_AMOUNT_NOISE = re.compile(r"[\s\u00a0\u202f€]")


def cents_of_euros(text: str) -> int:
    """The cents of an amount typed in euros: "150", "149,90", "149.9", "1 200 €".
    Raises ValueError for anything else, or above `MAX_PRICE_CENTS`."""
    match = _AMOUNT.fullmatch(_AMOUNT_NOISE.sub("", text))
    if match is None:
        raise ValueError(f"not an amount in euros: {text!r}")
    cents = int(match["units"]) * 100 + int((match["decimals"] or "0").ljust(2, "0"))
    if cents > MAX_PRICE_CENTS:
        raise ValueError(f"more than {MAX_PRICE_CENTS} cents: {text!r}")
    return cents


def euros_field(cents: int) -> str:
    """An amount as typed back in a price filter: "150" or "149,90"."""
    units, rest = divmod(cents, 100)
    return f"{units}" if rest == 0 else f"{units},{rest:02d}"


# --- the search form --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchForm:
    """A customer's search as typed in the form, shown back in it as typed."""

    q: str = ""
    categorie: str = ""
    marque: str = ""
    etats: tuple[str, ...] = ()
    prix_min: str = ""
    prix_max: str = ""
    ville: str = ""
    tri: str = DEFAULT_SORT
    page: int = 1


@dataclass(frozen=True, slots=True)
class Option:
    """One choice of a filter, with how many items of the search it would keep."""

    value: str
    label: str
    count: int
    selected: bool


def read_search_form(params: QueryParams) -> tuple[SearchForm, ListingQuery, list[str]]:
    """The form as typed, the search it asks for, and a French message for each filter that
    could not be read (the search then runs without that filter)."""
    messages: list[str] = []

    def text(name: str, longest: int) -> str:
        return params.get(name, "").strip()[:longest]

    q, categorie, marque, ville = (
        text("q", TEXT_MAX),
        text("categorie", 40),
        text("marque", 120),
        text("ville", 120),
    )
    etats = tuple(
        dict.fromkeys(
            e.strip().upper() for e in params.getlist("etat") if e.strip().upper() in GRADE_NAMES
        )
    )
    prices: dict[str, int | None] = {}
    for name, wording in (("prix_min", "Le prix minimum"), ("prix_max", "Le prix maximum")):
        typed = text(name, 40)
        prices[name] = None
        if typed:
            try:
                prices[name] = cents_of_euros(typed)
            except ValueError:
                messages.append(
                    f"{wording} « {typed} » n'est pas un montant en euros (par exemple 150 ou "
                    "149,90) : la recherche ne tient pas compte de ce filtre."
                )
    low, high = prices["prix_min"], prices["prix_max"]
    if low is not None and high is not None and low > high:
        messages.append(
            "Le prix minimum est supérieur au prix maximum : la recherche ne tient pas compte "
            "des prix."
        )
        low = high = None
    tri = params.get("tri", DEFAULT_SORT)
    if tri not in SORTS:
        tri = DEFAULT_SORT
    try:
        page = min(max(int(params.get("page", "1")), 1), MAX_PAGE)
    except ValueError:
        page = 1
    form = SearchForm(
        q=q,
        categorie=categorie,
        marque=marque,
        etats=etats,
        prix_min=text("prix_min", 40),
        prix_max=text("prix_max", 40),
        ville=ville,
        tri=tri,
        page=page,
    )
    query = ListingQuery(
        text=q,
        category=categorie or None,
        brand=marque or None,
        grades=etats,
        min_price_cents=low,
        max_price_cents=high,
        city=ville or None,
        sort=SORTS[tri][0],
        offset=(page - 1) * PER_PAGE,
        limit=PER_PAGE,
    )
    return form, query, messages


def search_url(query: ListingQuery, page: int = 1) -> str:
    """The address of a page of this search, with only the filters it applies."""
    pairs: list[tuple[str, str]] = []
    for name, value in (
        ("q", query.text),
        ("categorie", query.category),
        ("marque", query.brand),
        ("ville", query.city),
    ):
        if value:
            pairs.append((name, value))
    pairs += [("etat", grade) for grade in query.grades]
    if query.min_price_cents is not None:
        pairs.append(("prix_min", euros_field(query.min_price_cents)))
    if query.max_price_cents is not None:
        pairs.append(("prix_max", euros_field(query.max_price_cents)))
    if query.sort is not Sort.RELEVANCE:
        pairs.append(("tri", _SORT_NAMES[query.sort]))
    if page > 1:
        pairs.append(("page", str(page)))
    return "/recherche" + (f"?{urlencode(pairs)}" if pairs else "")


def options(
    counts: Mapping[str, int],
    selected: str,
    labels: Mapping[str, str] | None = None,
    *,
    most: int = FILTER_OPTIONS,
) -> list[Option]:
    """The choices of a filter: its most frequent values in the search, in alphabetical order,
    and the chosen one even when the search has none of it."""
    labels = labels or {}
    kept = sorted(counts.items(), key=lambda pair: -pair[1])[:most]
    chosen = fold(selected)
    found = [
        Option(value, labels.get(value, value), count, bool(chosen) and fold(value) == chosen)
        for value, count in kept
    ]
    if chosen and not any(option.selected for option in found):
        found.append(Option(selected, labels.get(selected, selected), 0, True))
    return sorted(found, key=lambda option: fold(option.label))


def grade_options(counts: Mapping[str, int], chosen: Sequence[str]) -> list[Option]:
    return [
        Option(grade, f"{grade} — {name}", counts.get(grade, 0), grade in chosen)
        for grade, name in GRADE_NAMES.items()
    ]


# --- what the item page tells search engines --------------------------------------------------


def absolute_base(request: Request) -> str:
    """The site's address as the customer reached it, without the final slash."""
    return str(request.base_url).rstrip("/")


def item_path(item_id: str) -> str:
    return f"/article/{quote(item_id, safe='')}"


def schema_price(cents: int) -> str:
    """A price as schema.org reads it: "349.00"."""
    return f"{Decimal(cents).scaleb(-2):.2f}"


def product_json_ld(listing: ListingOut, base: str) -> dict[str, Any]:
    """The schema.org `Product` of an item on sale: the item's own id as sku (never its label
    code, which is the store's), and no gtin (a second-hand item is not the new product)."""
    product: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": listing.title,
        "category": listing.category_name,
        "image": [base + photo.url for photo in listing.photos],
        "description": listing.description,
        "sku": listing.item_id,
        "offers": {
            "@type": "Offer",
            "price": schema_price(listing.price_cents),
            "priceCurrency": "EUR",
            "itemCondition": item_condition(listing.grade),
            "availability": offer_availability(listing.availability),
            "url": base + item_path(listing.item_id),
            "seller": {"@type": "Organization", "name": listing.store.name},
        },
    }
    if listing.brand:
        product["brand"] = {"@type": "Brand", "name": listing.brand}
    return product


def json_for_script(data: Any) -> Markup:
    """JSON to put inside a <script> element: no "<", ">" or "&" left raw, so nothing in the
    data can close the element or open another one."""
    text = json.dumps(data, ensure_ascii=False, indent=1)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


templates.env.filters["euros"] = euros
templates.env.filters["long_date"] = long_date
templates.env.globals["grade_names"] = GRADE_NAMES
templates.env.globals["css_url"] = f"/static/storefront.css?v={CSS_VERSION}"
templates.env.globals["item_path"] = item_path


# --- reading ----------------------------------------------------------------------------------


def category_names(conn: Connection) -> dict[str, str]:
    """The catalogue's category names by code ("tel" -> "Téléphonie")."""
    return {
        row.code: row.name for row in conn.execute(select(c.categories.c.code, c.categories.c.name))
    }


def _search_with_names(
    central: CentralNode, indexer: ListingIndexer, query: ListingQuery
) -> tuple[ListingResults, list[ListingOut], dict[str, str]]:
    results, page = search_listings(central, indexer, query)
    with central.reading() as conn:
        names = category_names(conn)
    return results, page, names


def _indexer(request: Request) -> ListingIndexer:
    indexer: ListingIndexer = request.app.state.indexer
    return indexer


def not_found_page(request: Request) -> Response:
    return templates.TemplateResponse(
        request, "storefront/not_found.html", {"form": SearchForm()}, status_code=404
    )


# --- the pages --------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, central: CentralDep) -> Response:
    """A search box, the categories with their counts, and the newest items."""
    query = ListingQuery(sort=Sort.NEWEST, limit=NEWEST_ON_HOME)
    results, newest, names = await run_in_threadpool(
        _search_with_names, central, _indexer(request), query
    )
    categories = [
        (search_url(ListingQuery(category=option.value)), option)
        for option in options(results.facets.category, "", names)
    ]
    return templates.TemplateResponse(
        request,
        "storefront/home.html",
        {
            "form": SearchForm(),
            "total": results.total,
            "categories": categories,
            "newest": newest,
            "all_newest": search_url(ListingQuery(sort=Sort.NEWEST)),
        },
    )


@router.get("/recherche", response_class=HTMLResponse)
async def search_page(request: Request, central: CentralDep) -> Response:
    """The search with its filters, order, result count and pages of item cards."""
    form, query, messages = read_search_form(request.query_params)
    results, listings, names = await run_in_threadpool(
        _search_with_names, central, _indexer(request), query
    )
    facets = results.facets
    pages = max(1, min(math.ceil(results.total / PER_PAGE), MAX_PAGE))
    return templates.TemplateResponse(
        request,
        "storefront/search.html",
        {
            "form": form,
            "messages": messages,
            "total": results.total,
            "listings": listings,
            "categories": options(facets.category, form.categorie, names),
            "brands": options(facets.brand, form.marque),
            "cities": options(facets.city, form.ville),
            "grades": grade_options(facets.grade, form.etats),
            "sorts": [(name, label, name == form.tri) for name, (_, label) in SORTS.items()],
            "page": form.page,
            "pages": pages,
            "previous_url": search_url(query, form.page - 1) if form.page > 1 else None,
            "next_url": search_url(query, form.page + 1) if form.page < pages else None,
            "truncated": math.ceil(results.total / PER_PAGE) > MAX_PAGE,
        },
    )


@router.get("/article/{item_id}", response_class=HTMLResponse)
async def item_page(request: Request, item_id: str, central: CentralDep) -> Response:
    """One item on sale: its photos, words, grade, price, store, and the legal guarantee."""
    if len(item_id) > 36:
        return not_found_page(request)
    try:
        listing = await run_in_threadpool(find_listing, central, item_id)
    except NotFound:
        return not_found_page(request)
    base = absolute_base(request)
    return templates.TemplateResponse(
        request,
        "storefront/item.html",
        {
            "form": SearchForm(),
            "listing": listing,
            "being_confirmed": listing.availability == BEING_CONFIRMED,
            "canonical": base + item_path(listing.item_id),
            "json_ld": json_for_script(product_json_ld(listing, base)),
            "category_url": search_url(ListingQuery(category=listing.category_code)),
            "in_cart": listing.item_id in cart_of(request),
        },
    )


@router.get("/static/storefront.css")
async def stylesheet(v: str = "") -> Response:
    """The storefront's stylesheet; cached for good under its current version's address."""
    cache = "public, max-age=31536000, immutable" if v == CSS_VERSION else "public, max-age=300"
    return Response(_CSS, media_type="text/css", headers={"Cache-Control": cache})


# --- the sitemap ------------------------------------------------------------------------------


def _on_sale_ids() -> Select[Any]:
    """The id and first publication of every listing on sale, by item id."""
    return listing_query().with_only_columns(m.listings.c.item_id, m.listings.c.published_at)


def listings_on_sale(conn: Connection) -> int:
    ids = _on_sale_ids().subquery()
    return int(conn.execute(select(func.count()).select_from(ids)).scalar_one())


def sitemap_files(listings: int) -> int:
    """How many sitemap files hold the home and these many listings."""
    return max(1, math.ceil((listings + 1) / SITEMAP_URLS))


def sitemap_start(conn: Connection, number: int) -> str | None:
    """The item id just before the first listing of sitemap file `number` ("" for the first),
    or None when that file would be empty. The home takes the first file's first place."""
    if number == 1:
        return ""
    before = (number - 1) * SITEMAP_URLS - 1  # listings in the files before this one
    ids = conn.execute(
        _on_sale_ids().order_by(m.listings.c.item_id).offset(before - 1).limit(2)
    ).all()
    return str(ids[0].item_id) if len(ids) == 2 else None


def _url_element(location: str, lastmod: str | None = None) -> str:
    modified = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
    return f"<url><loc>{escape(location)}</loc>{modified}</url>\n"


def _listings_after(conn: Connection, after: str) -> tuple[list[Any], str | None]:
    """The listings on sale among the next `SITEMAP_CHUNK` listings after this item id, and
    the last item id looked at (None when there were none). The next ids are read on the
    table's key alone, then checked for sale: each chunk costs the same however many listings
    there are."""
    ids = (
        conn.execute(
            select(m.listings.c.item_id)
            .where(m.listings.c.item_id > after)
            .order_by(m.listings.c.item_id)
            .limit(SITEMAP_CHUNK)
        )
        .scalars()
        .all()
    )
    if not ids:
        return [], None
    on_sale = _on_sale_ids().where(m.listings.c.item_id.in_(bindparam("ids", expanding=True)))
    rows = conn.execute(on_sale.order_by(m.listings.c.item_id), {"ids": list(ids)}).all()
    return list(rows), str(ids[-1])


def sitemap_lines(central: CentralNode, base: str, number: int, after: str) -> Iterator[str]:
    """Sitemap file `number`, written as it is read from the database, a chunk at a time."""
    yield f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{SITEMAP_NS}">\n'
    room = SITEMAP_URLS
    if number == 1:
        yield _url_element(base + "/")
        room -= 1
    cursor: str | None = after
    while room > 0 and cursor is not None:
        with central.reading() as conn:
            rows, cursor = _listings_after(conn, cursor)
        rows = rows[:room]
        if rows:
            yield "".join(
                _url_element(base + item_path(row.item_id), row.published_at.date().isoformat())
                for row in rows
            )
        room -= len(rows)
    yield "</urlset>\n"


def _count(central: CentralNode) -> int:
    with central.reading() as conn:
        return listings_on_sale(conn)


def _start(central: CentralNode, number: int) -> str | None:
    with central.reading() as conn:
        return sitemap_start(conn, number)


@router.get("/sitemap.xml")
async def sitemap_index(request: Request, central: CentralDep) -> Response:
    """The sitemap index: one sitemap file per `SITEMAP_URLS` addresses."""
    files = sitemap_files(await run_in_threadpool(_count, central))
    base = absolute_base(request)
    entries = "".join(
        f"<sitemap><loc>{escape(f'{base}/sitemap-{n}.xml')}</loc></sitemap>\n"
        for n in range(1, files + 1)
    )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<sitemapindex xmlns="{SITEMAP_NS}">\n{entries}</sitemapindex>\n'
    )
    return Response(body, media_type="application/xml")


@router.get("/sitemap-{number:int}.xml")
async def sitemap_file(request: Request, number: int, central: CentralDep) -> Response:
    """One sitemap file: the home (first file only) and items on sale, by item id."""
    after = await run_in_threadpool(_start, central, number) if number >= 1 else None
    if after is None:
        return Response("Pas de tel fichier dans le plan du site.\n", status_code=404)
    lines = sitemap_lines(central, absolute_base(request), number, after)
    return StreamingResponse(lines, media_type="application/xml")


# --- the cart ---------------------------------------------------------------------------------

CART_COOKIE = "panier"
CART_MAX_ITEMS = checkout_service.MAX_ITEMS  # what one checkout takes
CART_COOKIE_MAX_AGE = 30 * 24 * 3600  # a cart is kept a month
CART_COOKIE_MAX_LENGTH = 2000  # twenty ids and the signature take about 800 characters
SECRET_FILE = "storefront-secret"
CART_SIGNATURE_CONTEXT = b"recommerce storefront cart 1\x00"  # what the signature is for
_ITEM_ID = re.compile(r"[0-9A-Za-z-]{1,36}")
# Pages with a customer's own data: never kept by a shared cache or the browser's history.
PRIVATE = {"Cache-Control": "no-store"}


class CartFull(Exception):
    """The cart already holds as many items as one checkout takes."""


@dataclass(frozen=True, slots=True)
class Cart:
    """The items a customer set aside, by id, in the order they were added. Ids only: a price
    or an availability always comes from the database, never from the customer's browser."""

    item_ids: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.item_ids)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self.item_ids

    def with_item(self, item_id: str) -> Cart:
        """The cart with this item (once); raises CartFull past `CART_MAX_ITEMS` items."""
        if item_id in self.item_ids:
            return self
        if len(self.item_ids) >= CART_MAX_ITEMS:
            raise CartFull(f"a cart holds at most {CART_MAX_ITEMS} items")
        return Cart((*self.item_ids, item_id))

    def without(self, item_ids: Iterable[str]) -> Cart:
        gone = set(item_ids)
        return Cart(tuple(i for i in self.item_ids if i not in gone))


class CartSigner:
    """Writes a cart into a cookie value signed with the storefront's secret (HMAC-SHA256), and
    reads one back. A value this secret did not sign, changed since, or holding more items
    than a cart may, reads as an empty cart: the customer starts a new one."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _signature(self, payload: str) -> bytes:
        message = CART_SIGNATURE_CONTEXT + payload.encode("ascii")
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=")

    def dumps(self, cart: Cart) -> str:
        """The cookie value of a cart: the signature, then the item ids, dot-separated."""
        if len(cart) > CART_MAX_ITEMS or not all(_ITEM_ID.fullmatch(i) for i in cart.item_ids):
            raise ValueError("a cart holds up to 20 item ids")
        payload = ".".join(cart.item_ids)
        return f"{self._signature(payload).decode('ascii')}.{payload}"

    def loads(self, value: str | None) -> Cart:
        if not value or len(value) > CART_COOKIE_MAX_LENGTH or not value.isascii():
            return Cart()
        signature, _, payload = value.partition(".")
        if not hmac.compare_digest(signature.encode("ascii"), self._signature(payload)):
            return Cart()
        ids = tuple(payload.split(".")) if payload else ()
        if (
            len(ids) > CART_MAX_ITEMS
            or len(set(ids)) != len(ids)
            or not all(_ITEM_ID.fullmatch(i) for i in ids)
        ):
            return Cart()
        return Cart(ids)


_secrets: dict[Path, bytes] = {}
_secrets_lock = threading.Lock()


def storefront_secret(data_dir: Path) -> bytes:
    """The key that signs the customers' carts, kept in central's data directory (the file
    `storefront-secret`, readable by its owner only) and made on first use. Replicas of central
    sharing the directory sign alike; a new secret only empties the carts."""
    path = (data_dir / SECRET_FILE).absolute()
    with _secrets_lock:
        secret = _secrets.get(path)
        if secret is None:
            if not path.exists():
                _write_secret(path)
            secret = path.read_text(encoding="ascii").strip().encode("ascii")
            if len(secret) < 32:
                raise RuntimeError(f"{path} holds no usable secret: remove it to make a new one")
            _secrets[path] = secret
        return secret


def _write_secret(path: Path) -> None:
    """A new secret, written whole under a temporary name, then linked in place: a process that
    loses the race to make it reads the winner's, never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as out:
            out.write(secrets.token_urlsafe(32) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def cart_signer(request: Request) -> CartSigner:
    central: CentralNode = request.app.state.central
    return CartSigner(storefront_secret(central.settings.data_dir))


def cart_of(request: Request) -> Cart:
    """The customer's cart, as their cookie holds it (empty when it holds none, or a forged one)."""
    value = request.cookies.get(CART_COOKIE)
    return cart_signer(request).loads(value) if value else Cart()


def keep_cart(response: Response, request: Request, cart: Cart) -> None:
    """Have the browser keep this cart (an empty one: no cookie at all)."""
    secure = request.url.scheme == "https"
    if cart.item_ids:
        response.set_cookie(
            CART_COOKIE,
            cart_signer(request).dumps(cart),
            max_age=CART_COOKIE_MAX_AGE,
            path="/",
            secure=secure,
            httponly=True,
            samesite="lax",
        )
    else:
        response.delete_cookie(CART_COOKIE, path="/", secure=secure, httponly=True, samesite="lax")


def cart_size(request: Request) -> int:
    """How many items the customer's cart holds (the header's cart link)."""
    return len(cart_of(request))


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
    if not _ITEM_ID.fullmatch(item_id):
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
