"""The marketplace's storefront: the pages customers browse, on a phone or a computer, to find
the items every store has put online, and to order them.

Server-rendered HTML in French that works without JavaScript: the home page, a search with
filters, one page per item (with the schema.org description search engines read), a French
404 for an item no longer on sale, and the sitemap that lists every item on sale. The pages
read the same search and listings as the JSON API (`recommerce.central.api.marketplace`).

The cart lives in `cart.py`, the checkout and order pages in `orders.py`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from babel.dates import format_date
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup
from sqlalchemy import Connection, Select, bindparam, select
from starlette.datastructures import QueryParams

from recommerce.catalog.search import fold
from recommerce.central.api.deps import CentralDep
from recommerce.central.api.marketplace import (
    BEING_CONFIRMED,
    ListingOut,
    find_listing,
    search_listings,
)
from recommerce.central.bootstrap import CentralNode
from recommerce.central.db import catalog_tables as c
from recommerce.central.db import marketplace_tables as m
from recommerce.central.services.listings import listing_query
from recommerce.central.services.search_index import ListingIndexer, listings_on_sale
from recommerce.central.web.cart import cart_of
from recommerce.errors import NotFound
from recommerce.marketplace.notifications import euros
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
