"""The marketplace's benchmarks: how fast a till sale takes an item off the website, and how
fast a customer's search answers over a chain-sized catalogue, next to the naive search it
replaces measured in the same run.

- `bench_delist`: many stores, each with its items published online, sell at their tills while
  customers' browsers (pollers) watch the sold items at central, until the item's page answers
  404 and a search that found it neither lists nor counts it.
- `bench_search`: central's database filled with listings of 60 stores (realistic titles,
  brands, categories, grades, prices and cities), central started on it (its indexer builds
  the search index from the database), then varied searches through the HTTP API; the
  reference measured in the same run is the naive `LIKE '%word%'` the engine replaces.
"""

from __future__ import annotations

import functools
import http.client
import io
import json
import queue
import random
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlalchemy import select
from sqlalchemy.engine import make_url

from recommerce.catalog.search import fold, search_text
from recommerce.catalog.seed_data import demo_articles
from recommerce.central.settings import CentralSettings
from recommerce.inventory.labels import label_code
from recommerce.marketplace.search import ListingQuery, Sort
from recommerce.money import Money
from recommerce.pos.tenders import TenderKind, TenderRequest
from recommerce.sim.stores import bench_store
from recommerce.sim.sync_bench import (
    TILL,
    _central_settings,
    _drop_schema,
    _quantile,
    _wait_idle,
    sell_basket,
)
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t
from recommerce.store.seed import DEMO_PASSWORD

# The goals on 2 cores: reported next to the figures, never asserted.
MARKETPLACE_GOALS = {"delist_p99_ms": 1000, "search_p95_ms": 20}

LISTINGS_PATH = "/api/v1/marketplace/listings"


# --- a customer's browser: one keep-alive connection to central ------------------------------


class ApiConnection:
    """One keep-alive HTTP/1.1 connection to central, as lean as a load generator's (the
    standard library's client, Nagle's algorithm off): the time measured is central's."""

    def __init__(self, base: str, *, timeout: float = 30) -> None:
        url = urlsplit(base)
        self._conn = http.client.HTTPConnection(
            url.hostname or "127.0.0.1", url.port, timeout=timeout
        )
        self._conn.connect()
        assert self._conn.sock is not None
        self._conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def get(self, path: str, params: dict[str, Any] | None = None) -> tuple[int, Any]:
        """GET `path`: the status and the decoded JSON answer."""
        target = f"{path}?{urlencode(params, doseq=True)}" if params else path
        self._conn.request("GET", target)
        response = self._conn.getresponse()
        body = response.read()
        return response.status, json.loads(body) if body else None

    def close(self) -> None:
        self._conn.close()


def search(conn: ApiConnection, params: dict[str, Any]) -> dict[str, Any]:
    status, body = conn.get(LISTINGS_PATH, params)
    if status != 200:
        raise RuntimeError(f"the search {params} answered {status}: {body}")
    return dict(body)


# --- a till sale takes the item off the marketplace ------------------------------------------

DESCRIPTION = "Très bon état, testé en magasin, livré avec son câble d'origine."
DELIST_TIMEOUT_S = 10.0  # an item still online this long after its sale fails the bench
POLL_INTERVAL_S = 0.01  # how often each sold item is checked at central
WATCHERS = 3  # polling threads, each with its own connection


@functools.cache
def listing_photo() -> bytes:
    """A small JPEG photo of an item (320 x 240), as a phone at the counter would send."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 240), (236, 232, 224))
    draw = ImageDraw.Draw(image)
    draw.rectangle((90, 40, 230, 200), fill=(40, 40, 48), outline=(10, 10, 10), width=4)
    draw.ellipse((150, 170, 170, 190), fill=(200, 200, 200))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class OnlineItem:
    """An item a store published online: what a customer would search it by."""

    store_number: int
    item_id: str
    label: str
    title: str
    price_cents: int


def publish_stock(node: StoreNode, count: int, photo: bytes) -> list[OnlineItem]:
    """Buy `count` items at the store (`stock_baskets`), add a photo to each and publish it
    online with a description, as the store's manager does (`gerant`)."""
    from recommerce.sim.till_bench import ITEMS_PER_SALE, stock_baskets
    from recommerce.store.services.online import add_photo, publish
    from recommerce.store.services.staff import authenticate

    baskets = stock_baskets(node, -(-count // ITEMS_PER_SALE))
    labels = [label for basket in baskets for label in basket][:count]
    with node.reading() as conn:
        manager = authenticate(conn, "gerant", DEMO_PASSWORD)
        titles = dict(conn.execute(select(t.articles.c.id, t.articles.c.name)).all())
    items = []
    for label in labels:
        add_photo(node, manager, label, photo)
        listing = publish(node, manager, label, published=True, description=DESCRIPTION)
        item = listing.item
        if not listing.online:
            raise RuntimeError(f"item {label} did not go online: {listing.problems}")
        items.append(
            OnlineItem(
                store_number=item.store_number,
                item_id=item.id,
                label=label,
                title=titles[item.article_id],
                price_cents=item.asking_price.cents,
            )
        )
    return items


@dataclass(slots=True)
class SoldItem:
    """A sale being watched: when its ticket committed and when central stopped showing it
    (monotonic clock of the bench's process)."""

    item: OnlineItem
    sold_at: float
    page_gone: bool = False
    gone_at: float | None = None
    next_check: float = 0.0


class DelistWatcher(threading.Thread):
    """A customer's browser on central: checks each sold item every POLL_INTERVAL_S until its
    page answers 404 and the search that found it (its title's words at its store) neither
    lists it nor counts it; records when, or gives up after DELIST_TIMEOUT_S."""

    def __init__(self, base: str) -> None:
        super().__init__(name="delist-watcher", daemon=True)
        self.base = base
        self.done: list[SoldItem] = []
        self.late: list[SoldItem] = []
        self.error: BaseException | None = None
        self._incoming: queue.Queue[SoldItem] = queue.Queue()
        self._closing = threading.Event()

    def watch(self, sale: SoldItem) -> None:
        self._incoming.put(sale)

    def close(self) -> None:
        """Finish the sales being watched, then stop."""
        self._closing.set()

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # reported by the bench, which raises it
            self.error = exc

    def _run(self) -> None:
        conn = ApiConnection(self.base)
        pending: list[SoldItem] = []
        try:
            while True:
                if not pending:
                    if self._closing.is_set() and self._incoming.empty():
                        return
                    try:
                        pending.append(self._incoming.get(timeout=0.05))
                    except queue.Empty:
                        continue
                while not self._incoming.empty():
                    pending.append(self._incoming.get_nowait())
                now = time.monotonic()
                for sale in [s for s in pending if s.next_check <= now]:
                    if self._check(conn, sale):
                        pending.remove(sale)
                        self.done.append(sale)
                    elif time.monotonic() - sale.sold_at > DELIST_TIMEOUT_S:
                        pending.remove(sale)
                        self.late.append(sale)
                    else:
                        sale.next_check = time.monotonic() + POLL_INTERVAL_S
                if pending:
                    wait = min(s.next_check for s in pending) - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
        finally:
            conn.close()

    @staticmethod
    def _check(conn: ApiConnection, sale: SoldItem) -> bool:
        """Whether the sold item is off the marketplace now (item page and search)."""
        item = sale.item
        if not sale.page_gone:
            status, body = conn.get(f"{LISTINGS_PATH}/{item.item_id}")
            if status == 404:
                sale.page_gone = True  # a sold item never comes back: no need to ask again
            elif status != 200:
                raise RuntimeError(f"item {item.item_id} answered {status}: {body}")
        if not sale.page_gone:
            return False
        found = search(conn, {"store": item.store_number, "q": item.title, "limit": 100})
        listed = [hit["item_id"] for hit in found["items"]]
        if found["total"] > len(listed) and len(listed) == 100:
            raise RuntimeError(f"the search for {item.title!r} has more than one page")
        # Gone from the page (re-read from the database) and from the index's count.
        if item.item_id not in listed and found["total"] == len(listed):
            sale.gone_at = time.monotonic()
            return True
        return False


def seed_central_catalogue(settings: CentralSettings) -> None:
    """Central's catalogue master with the demo catalogue, which the stores' items are of."""
    from recommerce.central.bootstrap import bootstrap as bootstrap_central
    from recommerce.central.services.catalog import seed_demo_catalogue

    central = bootstrap_central(settings)
    try:
        with central.writing() as conn:
            seed_demo_catalogue(
                conn, now=central.clock.now(), retention=central.settings.feed_retention_events
            )
    finally:
        central.engine.dispose()


def wait_for_listings(conn: ApiConnection, expected: int, *, timeout: float) -> None:
    """Until central's search counts `expected` listings on sale."""
    deadline = time.monotonic() + timeout
    total = -1
    while time.monotonic() < deadline:
        total = search(conn, {"limit": 1})["total"]
        if total == expected:
            return
        time.sleep(0.25)
    raise RuntimeError(f"central lists {total} items, not {expected}, after {timeout:.0f} s")


def bench_delist(
    workdir: Path,
    *,
    stores: int,
    seconds: float,
    sales_per_s: float,
    items_per_store: int,
    base_url: str | None = None,
) -> dict[str, Any]:
    """`delist_p50_ms` / `delist_p99_ms`: `stores` store nodes, each with its sync worker and
    `items_per_store` items published online, sell one item a ticket at random moments
    (`sales_per_s` sales a second over all stores) for `seconds`; the latency of a sale is
    from its commit at the till to the moment central's item page answers 404 and the search
    that found the item neither lists nor counts it (one process, one monotonic clock)."""
    from recommerce.sim.processes import central_process, init_central, register_and_enrol
    from recommerce.store.services.sessions import open_till
    from recommerce.store.services.staff import authenticate
    from recommerce.store.sync.worker import SyncWorker

    settings, database = _central_settings(workdir / "central", base_url)
    init_central(settings)
    seed_central_catalogue(settings)
    rng = random.Random(23)
    photo = listing_photo()
    nodes: list[StoreNode] = []
    workers: list[SyncWorker] = []
    watchers: list[DelistWatcher] = []
    stock: dict[int, list[OnlineItem]] = {}
    sales: list[SoldItem] = []
    stages: dict[str, float] = {}
    try:
        started = time.perf_counter()
        for number in range(1, stores + 1):
            node = bench_store(workdir / f"store-{number:03d}", store_number=number)
            nodes.append(node)
            stock[number] = publish_stock(node, items_per_store, photo)
        stages["stores_stocked_and_published_s"] = round(time.perf_counter() - started, 1)
        by_number = {node.settings.store_number: node for node in nodes}
        with central_process(settings) as central:
            started = time.perf_counter()
            cashiers = {}
            for node in nodes:
                register_and_enrol(central.url, node.settings)
                with node.reading() as conn:
                    cashier = authenticate(conn, "caissier", DEMO_PASSWORD)
                cashiers[node.settings.store_number] = cashier
                open_till(node, cashier, TILL, 15000)
                worker = SyncWorker(node)
                if not worker.start():
                    raise RuntimeError(f"store {node.settings.store_number} is not enrolled")
                workers.append(worker)
            _wait_idle(nodes, timeout=300)
            browser = ApiConnection(central.url)
            try:
                wait_for_listings(browser, stores * items_per_store, timeout=180)
            finally:
                browser.close()
            stages["enrolled_and_listed_at_central_s"] = round(time.perf_counter() - started, 1)
            watchers = [DelistWatcher(central.url) for _ in range(WATCHERS)]
            for watcher in watchers:
                watcher.start()
            due = time.monotonic()
            deadline = due + seconds
            while True:
                due += rng.expovariate(sales_per_s)  # Poisson arrivals over all the stores
                if due >= deadline:
                    break
                time.sleep(max(0.0, due - time.monotonic()))
                stocked = [number for number, items in stock.items() if items]
                if not stocked:
                    break
                number = rng.choice(stocked)
                item = stock[number].pop(rng.randrange(len(stock[number])))
                sell_basket(
                    by_number[number],
                    cashiers[number],
                    [item.label],
                    TenderRequest(kind=TenderKind.CASH, amount=Money(item.price_cents)),
                )
                sale = SoldItem(item, sold_at=time.monotonic())
                sales.append(sale)
                watchers[len(sales) % len(watchers)].watch(sale)
            for watcher in watchers:
                watcher.close()
            for watcher in watchers:
                watcher.join(DELIST_TIMEOUT_S + 30)
            for worker in workers:  # before central stops, so that no worker sees it go
                worker.stop()
    finally:
        for watcher in watchers:
            watcher.close()
        for worker in workers:
            worker.stop()
        for node in nodes:
            node.engine.dispose()
        _drop_schema(settings.effective_database_url)
    for watcher in watchers:
        if watcher.error is not None:
            raise RuntimeError(f"a watcher failed: {watcher.error}") from watcher.error
    late = [sale for watcher in watchers for sale in watcher.late]
    if late:
        names = ", ".join(sale.item.label for sale in late[:5])
        raise RuntimeError(
            f"{len(late)} of {len(sales)} sold items still online {DELIST_TIMEOUT_S:.0f} s "
            f"after their sale: {names}"
        )
    latencies = sorted(
        (sale.gone_at - sale.sold_at) * 1000 for sale in sales if sale.gone_at is not None
    )
    if len(latencies) != len(sales) or not sales:
        raise RuntimeError(f"{len(sales)} sales, {len(latencies)} seen leaving the marketplace")
    return {
        "figures": {
            "delist_p50_ms": round(_quantile(latencies, 0.50), 1),
            "delist_p99_ms": round(_quantile(latencies, 0.99), 1),
        },
        "setup": {
            "stores": stores,
            "items_online": stores * items_per_store,
            "sales": len(sales),
            "seconds": seconds,
            "sales_per_s_asked": sales_per_s,
            "sales_per_s": round(len(sales) / seconds, 1),
            "database": database,
            "stages": stages,
            "how": "every store node's database, till and sync worker in the bench's process "
            "(threads), central in its own process over HTTP on 127.0.0.1; one item a sale, "
            "at random stores and moments (Poisson); latency from the sale's commit at the "
            f"till until {WATCHERS} polling threads (keep-alive connections, each sold item "
            f"checked every {POLL_INTERVAL_S * 1000:.0f} ms) see GET {LISTINGS_PATH}/{{id}} "
            "answer 404 and the search ?store=N&q=<title>&limit=100 neither list nor count it "
            "(so the search index has caught up too); time of the answer that showed it",
        },
    }


# --- search over a chain-sized catalogue -----------------------------------------------------

# The 60 stores' cities and where they are (WGS 84 degrees): "city latitude longitude; ...".
_CITIES = """
Paris 48.857 2.352; Marseille 43.297 5.370; Lyon 45.764 4.836; Toulouse 43.605 1.444;
Nice 43.710 7.262; Nantes 47.218 -1.554; Montpellier 43.611 3.877; Strasbourg 48.573 7.752;
Bordeaux 44.838 -0.579; Lille 50.629 3.057; Rennes 48.117 -1.678; Reims 49.258 4.032;
Toulon 43.124 5.928; Saint-Étienne 45.440 4.387; Le Havre 49.494 0.108; Grenoble 45.188 5.724;
Dijon 47.322 5.041; Angers 47.478 -0.563; Nîmes 43.837 4.360; Villeurbanne 45.767 4.880;
Clermont-Ferrand 45.778 3.087; Le Mans 48.006 0.199; Aix-en-Provence 43.529 5.447;
Brest 48.390 -4.486; Tours 47.394 0.685; Amiens 49.894 2.296; Limoges 45.834 1.262;
Annecy 45.899 6.129; Perpignan 42.699 2.895; Metz 49.119 6.176; Besançon 47.238 6.024;
Orléans 47.903 1.909; Rouen 49.443 1.099; Mulhouse 47.750 7.336; Caen 49.182 -0.371;
Nancy 48.692 6.184; Argenteuil 48.947 2.248; Montreuil 48.861 2.443; Roubaix 50.690 3.181;
Tourcoing 50.724 3.161; Avignon 43.949 4.806; Dunkerque 51.034 2.377; Poitiers 46.580 0.340;
Nanterre 48.892 2.207; Créteil 48.790 2.455; Versailles 48.801 2.130; Pau 43.295 -0.371;
Courbevoie 48.897 2.253; La Rochelle 46.160 -1.151; Colmar 48.079 7.358; Calais 50.951 1.858;
Béziers 43.344 3.216; Bourges 47.081 2.399; Cannes 43.552 7.017; Saint-Nazaire 47.273 -2.214;
Valence 44.933 4.892; Ajaccio 41.919 8.738; Quimper 47.996 -4.102; Chambéry 45.564 5.917;
Troyes 48.297 4.074
"""
CITIES: tuple[tuple[str, float, float], ...] = tuple(
    (name, float(lat), float(lon))
    for name, lat, lon in (
        entry.strip().rsplit(" ", 2) for entry in _CITIES.replace("\n", " ").split(";")
    )
)


# The chain's catalogue as the stores buy it, one line per brand of a category:
# "category/brand/variants/cheapest-dearest price new in euros: model; model; ...";
# an indented line carries on the line above.
_CATALOGUE = """
phones/Apple/phone/529-1479: iPhone SE 2022; iPhone XR; iPhone 11; iPhone 12; iPhone 12 mini;
  iPhone 13; iPhone 13 Pro; iPhone 14; iPhone 14 Pro Max; iPhone 15
phones/Samsung/phone/349-1419: Galaxy S20; Galaxy S21; Galaxy S22; Galaxy S23 Ultra; Galaxy A52;
  Galaxy A54; Galaxy Z Flip 5; Galaxy Note 20
phones/Xiaomi/phone/199-649: Redmi Note 11; Redmi Note 12 Pro; 13T; Poco X5
phones/Google/phone/499-1099: Pixel 6; Pixel 7; Pixel 7a; Pixel 8 Pro
phones/OnePlus/phone/399-919: Nord 2; 10 Pro; 11
phones/Huawei/phone/299-899: P30 Pro; P40 Lite
consoles/Sony/console/299-549: PlayStation 5 Standard; PlayStation 5 Digital; PlayStation 5 Slim;
  PlayStation 4 Slim; PlayStation 4 Pro
consoles/Nintendo/console/219-349: Switch; Switch OLED; Switch Lite
consoles/Microsoft/console/249-499: Xbox Series X; Xbox Series S; Xbox One S
video_games/Nintendo/switch/49-69: Mario Kart 8 Deluxe; Zelda Tears of the Kingdom;
  Super Mario Odyssey; Animal Crossing New Horizons; Pokémon Écarlate; Super Smash Bros Ultimate;
  Splatoon 3
video_games/Sony/playstation/39-79: God of War Ragnarök; Horizon Forbidden West; Gran Turismo 7;
  The Last of Us Part II; Spider-Man Miles Morales
video_games/Ubisoft/platform/29-69: Assassin's Creed Valhalla; Far Cry 6; Just Dance 2024;
  Rayman Legends
video_games/EA/platform/29-79: FC 24; FIFA 23; Need for Speed Unbound; Les Sims 4
video_games/Rockstar/platform/29-59: GTA V; Red Dead Redemption 2
laptops/Apple/laptop/1129-2799: MacBook Air M1 13"; MacBook Air M2 13"; MacBook Pro M1 14";
  MacBook Pro 16"
laptops/Dell/laptop/599-1999: XPS 13; XPS 15; Latitude 5420; Inspiron 15
laptops/HP/laptop/599-1499: Pavilion 15; EliteBook 840 G8; Envy x360; ProBook 450
laptops/Lenovo/laptop/599-1899: ThinkPad T14; ThinkPad X1 Carbon; IdeaPad 5; Yoga Slim 7
laptops/Asus/laptop/549-1599: ZenBook 14; VivoBook 15; ROG Strix G15
laptops/Acer/laptop/499-1199: Aspire 5; Swift 3; Nitro 5
tablets/Apple/tablet/389-1069: iPad 9e génération; iPad 10e génération; iPad Air 5; iPad Pro 11";
  iPad mini 6
tablets/Samsung/tablet/229-799: Galaxy Tab S7; Galaxy Tab S8; Galaxy Tab A8; Galaxy Tab S6 Lite
tablets/Lenovo/tablet/179-349: Tab P11; Tab M10
tablets/Microsoft/tablet/449-1199: Surface Go 3; Surface Pro 8
tvs/Samsung/tv/449-1999: Téléviseur QLED Q60B; Téléviseur Crystal UHD AU7105;
  Téléviseur Neo QLED QN90A
tvs/LG/tv/549-2199: Téléviseur OLED C1; Téléviseur OLED C2; Téléviseur NanoCell 75
tvs/Sony/tv/799-2499: Téléviseur Bravia X80K; Téléviseur Bravia A80J
tvs/Philips/tv/599-1899: Téléviseur Ambilight PUS8507; Téléviseur OLED 807
tvs/TCL/tv/349-899: Téléviseur QLED C635; Téléviseur P635
tvs/Hisense/tv/349-1299: Téléviseur A6BG; Téléviseur U8HQ
audio/Sony/colour/199-419: Casque WH-1000XM4; Casque WH-1000XM5; Écouteurs WF-1000XM4;
  Enceinte SRS-XB43
audio/Bose/colour/169-549: Casque QuietComfort 45; Enceinte SoundLink Flex;
  Écouteurs QuietComfort Earbuds II; Barre de son Smart Soundbar 600
audio/JBL/colour/99-349: Enceinte Flip 6; Enceinte Charge 5; Enceinte Xtreme 3; Casque Tune 760NC
audio/Apple/colour/199-629: AirPods Pro; AirPods 3; AirPods Max
audio/Marshall/colour/149-399: Enceinte Stanmore II; Enceinte Emberton; Casque Major IV
audio/Sonos/colour/229-499: Enceinte One; Barre de son Beam; Enceinte Move
tools/Bosch/tool/79-299: Perceuse visseuse GSR 18V-55; Perforateur GBH 2-26;
  Scie circulaire PKS 55; Ponceuse excentrique PEX 300; Meuleuse GWS 750
tools/Makita/tool/129-329: Perceuse visseuse DHP482; Visseuse à chocs DTD153;
  Scie sauteuse DJV182; Meuleuse DGA504
tools/DeWalt/tool/149-399: Perceuse visseuse DCD791; Perforateur DCH273; Scie circulaire DCS570
tools/Ryobi/tool/79-199: Perceuse visseuse R18PD3; Taille-haie OHT1845; Souffleur R18TB
tools/Metabo/tool/99-599: Perceuse à percussion SBE 650; Scie sur table TS 254
appliances/Dyson/home/399-749: Aspirateur V8 Absolute; Aspirateur V11 Absolute;
  Aspirateur V15 Detect; Sèche-cheveux Supersonic
appliances/Nespresso/home/99-229: Machine à café Vertuo Next; Machine à café Essenza Mini;
  Machine à café Citiz
appliances/De'Longhi/home/69-799: Machine à café Magnifica S; Machine à café Dinamica;
  Bouilloire Icona
appliances/Moulinex/home/79-699: Robot Companion XL; Friteuse Easy Fry; Blender Perfect Mix
appliances/Kenwood/home/299-549: Robot Chef XL; Robot kMix
appliances/KitchenAid/home/249-649: Robot Artisan 4,8 L; Blender K400
appliances/Vorwerk/home/1099-1499: Thermomix TM5; Thermomix TM6
appliances/Rowenta/home/59-299: Centrale vapeur Perfect Steam; Fer à repasser Focus
instruments/Yamaha/finish/129-599: Guitare classique C40; Guitare folk FG800; Piano numérique P-45;
  Clavier PSR-E373; Batterie électronique DTX402
instruments/Fender/finish/199-899: Stratocaster Player; Telecaster Player; Jazz Bass Player;
  Ampli Mustang LT25
instruments/Gibson/finish/1599-2799: Les Paul Standard; SG Standard
instruments/Epiphone/finish/299-549: Les Paul Studio; SG Special
instruments/Roland/finish/699-1099: Piano numérique FP-30X; Batterie électronique TD-07KV;
  Synthétiseur JUNO-DS61
instruments/Korg/finish/29-549: Synthétiseur Minilogue; Accordeur TM-60
"""

# The variants each model comes in, by the name the catalogue above gives them.
_VARIANTS: dict[str, tuple[str, ...]] = {
    "phone": tuple(
        f"{size} Go {colour}"
        for size in (64, 128, 256)
        for colour in ("Noir", "Blanc", "Bleu", "Rouge", "Vert", "Violet")
    ),
    "console": ("Noir", "Blanc", "Édition limitée", "avec 2 manettes", "en boîte"),
    "switch": ("(Switch)",),
    "playstation": ("(PS4)", "(PS5)"),
    "platform": ("(PS4)", "(PS5)", "(Switch)", "(Xbox One)", "(Xbox Series X)"),
    "laptop": ("8 Go 256 Go SSD", "8 Go 512 Go SSD", "16 Go 512 Go SSD", "16 Go 1 To SSD"),
    "tablet": tuple(f"{size} Go {net}" for size in (64, 128, 256) for net in ("Wi-Fi", "4G")),
    "tv": ('43" 4K', '50" 4K', '55" 4K', '65" 4K', '75" 4K'),
    "colour": ("Noir", "Blanc", "Bleu", "Gris", "Vert"),
    "tool": ("sans batterie", "avec 1 batterie 2 Ah", "avec 2 batteries 4 Ah", "en coffret"),
    "home": ("Noir", "Blanc", "Rouge", "Argent", "Gris"),
    "finish": ("Noir", "Sunburst", "Naturel", "Blanc", "Rouge"),
}


@dataclass(frozen=True, slots=True)
class ProductLine:
    """One brand's models in one category, each sold in the same variants."""

    category: str
    brand: str
    models: tuple[str, ...]
    variants: tuple[str, ...]
    cheapest: int  # euros, new
    dearest: int


def product_lines(text: str = _CATALOGUE) -> list[ProductLine]:
    """The catalogue's lines, read from its text."""
    joined: list[str] = []
    for line in text.strip().splitlines():
        if line.startswith(" ") and joined:
            joined[-1] += " " + line.strip()
        elif line.strip():
            joined.append(line.strip())
    lines = []
    for line in joined:
        head, models = line.split(": ", 1)
        category, brand, variants, prices = head.split("/")
        cheapest, dearest = (int(p) for p in prices.split("-"))
        lines.append(
            ProductLine(
                category,
                brand,
                tuple(m.strip() for m in models.split(";")),
                _VARIANTS[variants],
                cheapest,
                dearest,
            )
        )
    return lines


# Share of the listings per category: phones sell most.
_CATEGORY_SHARE = {
    "phones": 30,
    "consoles": 8,
    "video_games": 12,
    "laptops": 8,
    "tablets": 7,
    "tvs": 5,
    "audio": 10,
    "tools": 8,
    "appliances": 8,
    "instruments": 3,
    "jewellery": 1,
}
_GRADES = (("A", 0.62, 25), ("B", 0.48, 45), ("C", 0.35, 25), ("D", 0.15, 5))

_CONDITION = (
    "Très bon état général",
    "Quelques micro-rayures sur la coque",
    "Traces d'usage légères",
    "Comme neuf, très peu servi",
    "Rayure visible sur le côté",
    "État correct, fonctionne parfaitement",
    "Aucune trace d'usage",
    "Petit choc sur un angle, sans effet",
)
_EXTRAS = (
    "livré avec son chargeur",
    "boîte d'origine et notice",
    "sans boîte",
    "câble fourni",
    "facture d'achat disponible",
    "testé en magasin",
    "garantie 12 mois en magasin",
    "nettoyé et désinfecté",
    "accessoires d'origine",
    "emballage soigné pour l'envoi",
)

# What customers type: (words, the category they mean or None).
_SEARCHES: tuple[tuple[str, str | None], ...] = (
    ("iphone", "phones"),
    ("iphone 13", "phones"),
    ("iphone 12 128", "phones"),
    ("galaxy s21", "phones"),
    ("samsung", None),
    ("apple", None),
    ("pixel", "phones"),
    ("redmi note", "phones"),
    ("playstation 5", "consoles"),
    ("switch oled", "consoles"),
    ("xbox series", "consoles"),
    ("mario kart", "video_games"),
    ("zelda", "video_games"),
    ("fifa", "video_games"),
    ("macbook air", "laptops"),
    ("thinkpad", "laptops"),
    ("ipad", "tablets"),
    ("galaxy tab", "tablets"),
    ("televiseur oled", "tvs"),
    ("téléviseur samsung", "tvs"),
    ("qled", "tvs"),
    ("airpods", "audio"),
    ("casque bose", "audio"),
    ("enceinte jbl", "audio"),
    ("perceuse visseuse", "tools"),
    ("perceuse bosch", "tools"),
    ("makita", "tools"),
    ("scie circulaire", "tools"),
    ("dyson v11", "appliances"),
    ("aspirateur", "appliances"),
    ("machine a cafe", "appliances"),
    ("thermomix", "appliances"),
    ("guitare", "instruments"),
    ("stratocaster", "instruments"),
    ("piano numerique", "instruments"),
    ("chargeur", None),
    ("facture", None),
    # one typo a word, and words being typed
    ("iphnoe", "phones"),
    ("samsnug galaxy", "phones"),
    ("playstaton", "consoles"),
    ("televiseru", "tvs"),
    ("perseuse", "tools"),
    ("guitarre", "instruments"),
    ("iph", "phones"),
    ("galax", "phones"),
    ("macb", "laptops"),
    ("thermo", "appliances"),
    ("enceint", "audio"),
)


@dataclass(frozen=True, slots=True)
class BenchArticle:
    """An article of the bench's catalogue: what its listings are titled and priced from."""

    id: str
    category_code: str
    brand: str
    name: str
    price_cents: int


def generated_articles(rng: random.Random) -> list[BenchArticle]:
    """The articles of a chain-sized catalogue: each model of `_CATALOGUE` in each of its variants
    (storage, colour, size, platform), priced between its line's cheapest and dearest."""
    articles = []
    for line in product_lines():
        for model in line.models:
            base = rng.randint(line.cheapest, line.dearest)
            for position, variant in enumerate(line.variants):
                name = f"{line.brand} {model} {variant}"
                price = round(base * (1 + 0.12 * (position % 4)))
                articles.append(
                    BenchArticle(
                        id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-article:{name}")),
                        category_code=line.category,
                        brand=line.brand,
                        name=name,
                        price_cents=price * 100,
                    )
                )
    return articles


def _listing_weights(articles: Sequence[BenchArticle], rng: random.Random) -> list[float]:
    """How often each article is listed: each category its share, and within a category a
    few popular articles listed far more often than the rest (Zipf-like)."""
    by_category: dict[str, list[int]] = {}
    for position, article in enumerate(articles):
        by_category.setdefault(article.category_code, []).append(position)
    weights = [0.0] * len(articles)
    for category, positions in by_category.items():
        rng.shuffle(positions)
        ranks = [1 / (rank + 1) ** 0.8 for rank in range(len(positions))]
        scale = _CATEGORY_SHARE.get(category, 1) / sum(ranks)
        for position, rank in zip(positions, ranks, strict=True):
            weights[position] = rank * scale
    return weights


def _descriptions(rng: random.Random, count: int) -> list[str]:
    out = []
    for _ in range(count):
        first, second = rng.sample(_EXTRAS, 2)
        text = f"{rng.choice(_CONDITION)}, {first}, {second}."
        if rng.random() < 0.4:
            text += f" Batterie à {rng.randint(78, 100)} %."
        out.append(text)
    return out


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if make_url(url).get_backend_name() != "sqlite" or not database:
        raise ValueError(f"the search bench loads a SQLite database, not {url}")
    return Path(database)


def _sorted_ids(rng: random.Random, count: int) -> Iterator[str]:
    """`count` random item ids (uuid4) in key order: the table's key is filled from its end,
    as quickly as a database can be loaded."""
    ids = sorted(str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(count))
    yield from ids


def load_listings(path: Path, count: int, *, seed: int = 5) -> list[BenchArticle]:
    """Fill central's (migrated, empty) SQLite database with 60 stores, the demo catalogue
    and generated articles, and `count` items in stock at those stores, each published online
    with a photo and a description; every store was heard from just now. Straight
    `executemany` inserts, a chunk a transaction; returns the catalogue's articles."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(tzinfo=None)
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    demo = [
        BenchArticle(a.id, a.category_code, a.brand, a.name, a.reference_new_price.cents)
        for a in demo_articles()
    ]
    generated = generated_articles(rng)
    articles = demo + generated
    weights = _listing_weights(articles, rng)
    descriptions = _descriptions(rng, 5000)
    photos = {
        a.id: json.dumps(
            [
                {
                    "full_sha256": uuid.uuid5(uuid.NAMESPACE_URL, f"full:{a.id}").hex * 2,
                    "thumb_sha256": uuid.uuid5(uuid.NAMESPACE_URL, f"thumb:{a.id}").hex * 2,
                    "width": 1600,
                    "height": 1200,
                }
            ]
        )
        for a in articles
    }
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")  # a load, not a business write
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO stores (number, name, city, timezone, latitude, longitude, created_at)"
            " VALUES (?, ?, ?, 'Europe/Paris', ?, ?, ?)",
            [
                (number, f"Recommerce {city}", city, lat, lon, stamp)
                for number, (city, lat, lon) in enumerate(CITIES, start=1)
            ],
        )
        conn.executemany(
            "INSERT INTO sync_cursors (store_number, last_applied_seq, store_head_seq,"
            " last_batch_at, last_seen_at) VALUES (?, 0, 0, ?, ?)",
            [(number, stamp, stamp) for number in range(1, len(CITIES) + 1)],
        )
        conn.executemany(
            "INSERT INTO articles (id, category_code, brand, model, name, gtin,"
            " reference_new_price_cents, released_on, attributes, search_text, updated_at)"
            " VALUES (?, ?, ?, ?, ?, NULL, ?, NULL, '{}', ?, ?)",
            [
                (
                    a.id,
                    a.category_code,
                    a.brand,
                    a.name[len(a.brand) + 1 :],
                    a.name,
                    a.price_cents,
                    search_text(a.name, a.category_code),
                    stamp,
                )
                for a in generated
            ],
        )
        conn.execute("COMMIT")
        # Bigger cities' stores hold more; grades as they come in at the counter.
        store_weights = [1 / (rank + 1) ** 0.5 for rank in range(len(CITIES))]
        picked_articles = rng.choices(articles, weights, k=count)
        picked_stores = rng.choices(range(1, len(CITIES) + 1), store_weights, k=count)
        picked_grades = rng.choices(_GRADES, [g[2] for g in _GRADES], k=count)
        sequences = [0] * (len(CITIES) + 1)
        chunk: list[tuple[tuple[Any, ...], tuple[Any, ...]]] = []
        for n, item_id in enumerate(_sorted_ids(rng, count)):
            article, store = picked_articles[n], picked_stores[n]
            grade, factor, _ = picked_grades[n]
            sequences[store] += 1
            price = article.price_cents * factor * rng.uniform(0.85, 1.15)
            price = max(100, int(round(price, -2))) - 10  # 149,90 EUR
            listed = (now - timedelta(seconds=rng.uniform(0, 120 * 86400))).strftime(
                "%Y-%m-%d %H:%M:%S.%f"
            )
            chunk.append(
                (
                    (
                        item_id,
                        store,
                        label_code(store, sequences[store]),
                        article.id,
                        grade,
                        str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                        price // 2,
                        price,
                        listed,
                    ),
                    (
                        item_id,
                        store,
                        article.id,
                        grade,
                        price,
                        rng.choice(descriptions),
                        photos[article.id],
                        listed,
                        listed,
                    ),
                )
            )
            if len(chunk) == 50_000:
                _insert_listings(conn, chunk)
                chunk = []
        if chunk:
            _insert_listings(conn, chunk)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return articles


def _insert_listings(
    conn: sqlite3.Connection, rows: Sequence[tuple[tuple[Any, ...], tuple[Any, ...]]]
) -> None:
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO items (item_id, store_number, label_code, article_id, grade, purchase_id,"
        " purchase_price_cents, asking_price_cents, vat_regime, status, status_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'margin', 'in_stock', ?)",
        [item for item, _ in rows],
    )
    conn.executemany(
        "INSERT INTO listings (item_id, store_number, article_id, grade, price_cents,"
        " description, photos, published, published_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
        [listing for _, listing in rows],
    )
    conn.execute("COMMIT")


def search_queries(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """`count` customers' searches, in turn: words only; words with filters (category,
    grades, price range, city); filters without words; sorted by price. Each answer carries
    its facets."""
    kinds = ("text",) * 7 + ("text_filters",) * 6 + ("filters",) * 4 + ("sorted",) * 3
    categories = sorted({line.category for line in product_lines()})
    cities = [city for city, _, _ in CITIES]
    out = []
    for n in range(count):
        kind = kinds[n % len(kinds)]
        words, meant = rng.choice(_SEARCHES)
        params: dict[str, Any] = {"q": words}
        if kind in ("text_filters", "filters"):
            if kind == "filters":
                params = {"q": ""}
                meant = rng.choice(categories)
            if meant is not None and rng.random() < 0.7:
                params["category"] = meant
            if rng.random() < 0.5:
                params["grade"] = sorted(rng.sample("ABC", rng.randint(1, 2)))
            if rng.random() < 0.4:
                low = rng.choice((0, 5000, 10000, 20000))
                params["min_price_cents"] = low
                params["max_price_cents"] = low + rng.choice((10000, 30000, 60000))
            if rng.random() < 0.4 or len(params) == 1:
                params["city"] = rng.choice(cities)
        elif kind == "sorted":
            if rng.random() < 0.5:
                params = {"q": "", "category": rng.choice(categories)}
            params["sort"] = rng.choice(("price_asc", "price_desc"))
        out.append({"kind": kind, "params": params})
    return out


def sql_like_reference(path: Path, queries: Sequence[dict[str, Any]]) -> list[float]:
    """The naive search the engine replaces: each query's words as `LIKE '%word%'` on the
    article's folded name, its filters and order in SQL, over the listings on sale joined to
    their items, articles and stores; a page of 24 plus a COUNT(*). Milliseconds each."""
    conn = sqlite3.connect(path)
    samples = []
    try:
        for query in queries:
            params = query["params"]
            where = ["l.published = 1", "i.status = 'in_stock'"]
            args: list[Any] = []
            for word in fold(params["q"]).split():
                where.append("a.search_text LIKE ?")
                args.append(f"%{word}%")
            if "category" in params:
                where.append("a.category_code = ?")
                args.append(params["category"])
            if "grade" in params:
                where.append(f"l.grade IN ({', '.join('?' for _ in params['grade'])})")
                args += params["grade"]
            if "min_price_cents" in params:
                where.append("l.price_cents BETWEEN ? AND ?")
                args += [params["min_price_cents"], params["max_price_cents"]]
            if "city" in params:
                where.append("s.city = ?")
                args.append(params["city"])
            order = {
                "price_asc": "l.price_cents ASC",
                "price_desc": "l.price_cents DESC",
            }.get(params.get("sort", ""), "l.published_at DESC")
            source = (
                "FROM listings l JOIN items i ON i.item_id = l.item_id"
                " JOIN articles a ON a.id = l.article_id"
                " JOIN stores s ON s.number = l.store_number"
                f" WHERE {' AND '.join(where)}"
            )
            started = time.perf_counter()
            conn.execute(
                f"SELECT l.item_id, a.name, l.price_cents, s.city {source} ORDER BY {order}"
                " LIMIT 24",
                args,
            ).fetchall()
            conn.execute(f"SELECT COUNT(*) {source}", args).fetchone()
            samples.append((time.perf_counter() - started) * 1000)
    finally:
        conn.close()
    return samples


def _timed_searches(base: str, queries: Sequence[dict[str, Any]]) -> tuple[list[float], str]:
    """Each search through the HTTP API on one keep-alive connection, in ms from sending the
    request to reading the whole answer; and the engine the answers name."""
    conn = ApiConnection(base)
    samples = []
    engines = set()
    try:
        for query in queries:
            params = {**query["params"], "limit": 24}
            started = time.perf_counter()
            found = search(conn, params)
            samples.append((time.perf_counter() - started) * 1000)
            if not isinstance(found.get("facets"), dict):
                raise RuntimeError(f"the search {params} answered without facets")
            engines.add(str(found["engine"]))
    finally:
        conn.close()
    if len(engines) != 1:
        raise RuntimeError(f"the searches were answered by {sorted(engines)}")
    return samples, engines.pop()


def listing_query(params: dict[str, Any]) -> ListingQuery:
    """The search the API makes of these query parameters."""
    return ListingQuery(
        text=params.get("q", ""),
        category=params.get("category"),
        grades=tuple(params.get("grade", ())),
        min_price_cents=params.get("min_price_cents"),
        max_price_cents=params.get("max_price_cents"),
        city=params.get("city"),
        sort=Sort(params.get("sort", Sort.RELEVANCE.value)),
        limit=24,
    )


def _index_only(settings: CentralSettings, queries: Sequence[dict[str, Any]]) -> list[float]:
    """Each search asked of central's index (stopped central's, opened here), sorted ms."""
    from recommerce.central.bootstrap import bootstrap as bootstrap_central

    central = bootstrap_central(settings, migrate=False)
    index = central.listing_index
    try:
        samples = []
        for query in queries:
            started = time.perf_counter()
            index.search(listing_query(query["params"]))
            samples.append((time.perf_counter() - started) * 1000)
    finally:
        index.close()
        central.engine.dispose()
    return sorted(samples)


def bench_search(
    workdir: Path, *, listings: int, queries: int = 300, reference_queries: int | None = None
) -> dict[str, Any]:
    """`search_p95_ms` (and p50) through the HTTP API over `listings` listed items, with the
    engine's name, `search_index_build_s`, and the same-run reference
    `search_reference_sql_like_p95_ms` over the text queries (the first `reference_queries`
    of them; all when None)."""
    from recommerce.sim.processes import central_process, init_central

    settings, database = _central_settings(workdir / "central", None)
    init_central(settings)
    seed_central_catalogue(settings)
    path = _sqlite_path(settings.effective_database_url)
    stages: dict[str, float] = {}
    started = time.perf_counter()
    articles = load_listings(path, listings)
    stages["load_database_s"] = round(time.perf_counter() - started, 1)
    rng = random.Random(31)
    warmup = search_queries(random.Random(37), 20)
    measured = search_queries(rng, queries)
    started = time.perf_counter()
    with central_process(settings) as central:
        browser = ApiConnection(central.url)
        try:
            wait_for_listings(browser, listings, timeout=max(120.0, listings / 1000))
        finally:
            browser.close()
        build_s = time.perf_counter() - started
        started = time.perf_counter()
        _timed_searches(central.url, warmup)
        samples, engine = _timed_searches(central.url, measured)
        stages["searches_s"] = round(time.perf_counter() - started, 1)
        cpu = central.cpu_seconds()
    stages["index_build_s"] = round(build_s, 1)
    index_only = _index_only(settings, measured)
    with_text = [q for q in measured if q["params"]["q"]]
    reference = with_text if reference_queries is None else with_text[:reference_queries]
    started = time.perf_counter()
    sql_like_reference(path, reference[:2])  # the file in the page cache, as central had it
    reference_samples = sql_like_reference(path, reference)
    stages["reference_s"] = round(time.perf_counter() - started, 1)
    compared = {id(query) for query in reference}
    same_queries = [
        sample for sample, query in zip(samples, measured, strict=True) if id(query) in compared
    ]
    kinds: dict[str, int] = {}
    for query in measured:
        kinds[query["kind"]] = kinds.get(query["kind"], 0) + 1
    ordered = sorted(samples)
    return {
        "figures": {
            "search_p50_ms": round(_quantile(ordered, 0.50), 2),
            "search_p95_ms": round(_quantile(ordered, 0.95), 2),
            "search_listed_items": listings,
            "search_engine": engine,
            "search_index_build_s": round(build_s, 1),
            "search_reference_sql_like_p95_ms": round(
                _quantile(sorted(reference_samples), 0.95), 2
            ),
        },
        "setup": {
            "database": database,
            "listed_items": listings,
            "stores": len(CITIES),
            "articles": len(articles),
            "engine": engine,
            "queries": len(samples),
            "queries_by_kind": kinds,
            "reference_queries": len(reference_samples),
            "engine_p95_ms_on_the_reference_queries": round(
                _quantile(sorted(same_queries), 0.95), 2
            ),
            # The same searches asked of the index alone in the bench's process (no HTTP, no
            # database re-read of the page): how the API's time splits.
            "index_only_p50_ms": round(_quantile(index_only, 0.50), 2),
            "index_only_p95_ms": round(_quantile(index_only, 0.95), 2),
            "central_cpu_s_at_end": cpu,
            "stages": stages,
            "how": "central's SQLite database filled with straight executemany inserts (60 "
            "stores, the demo catalogue and generated articles, items in stock and their "
            "published listings), then central started as its own process (uvicorn, one "
            "worker): its indexer builds the search index from the database "
            "(search_index_build_s: from the start until the search counts every listing); "
            "then 20 warm-up and the measured searches one after the other on one keep-alive "
            "connection, a page of 24 with its facets each; the reference: the text queries "
            "as LIKE '%word%' on the articles' folded names with the same filters and order, "
            "LIMIT 24 plus a COUNT(*), plain sqlite3 on the same file",
        },
    }


@dataclass(frozen=True)
class MarketplaceRun:
    """The sizes of one run of the marketplace's benchmarks."""

    stores: int
    seconds: float
    sales_per_s: float
    items_per_store: int
    listings: int
    reference_queries: int | None = None  # None: every text query


QUICK = MarketplaceRun(
    stores=5, seconds=6, sales_per_s=8, items_per_store=24, listings=20_000, reference_queries=50
)
# The scale: a million listings (about two minutes: load, index, searches).
FULL = MarketplaceRun(
    stores=60,
    seconds=20,
    sales_per_s=25,
    items_per_store=24,
    listings=1_000_000,
    reference_queries=40,
)


def run_marketplace_benches(
    workdir: Path, *, quick: bool, base_url: str | None = None
) -> dict[str, Any]:
    """Every figure of the marketplace, with its setup."""
    plan = QUICK if quick else FULL
    delist = bench_delist(
        workdir / "delist",
        stores=plan.stores,
        seconds=plan.seconds,
        sales_per_s=plan.sales_per_s,
        items_per_store=plan.items_per_store,
        base_url=base_url,
    )
    found = bench_search(
        workdir / "search", listings=plan.listings, reference_queries=plan.reference_queries
    )
    return {
        "figures": {**delist["figures"], **found["figures"]},
        "setup": {"delist": delist["setup"], "search": found["setup"]},
    }
