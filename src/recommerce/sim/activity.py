"""What the people of a simulated chain do, through the same HTTP APIs as in life: sellers
bringing objects to the buying counter, shoppers at the till, staff publishing items online,
preparing online orders, closing the till and the day; customers buying on the website.

Each store's day is played by one thread, one operation after the other, as a small shop's
staff would. A node that does not answer (killed, restarting) is waited for: staff retry.
Every outcome is counted (`Tally`) for the simulator's report.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

import httpx

from recommerce.buyback.seller import SellerIdentity
from recommerce.sim.chain import Chain, ChainStore
from recommerce.sim.marketplace_bench import listing_photo

TILL = "T1"
FLOAT_CENTS = 15000
IBAN = "FR1420041010050500013M02606"
CARD = {"number": "4242424242424242", "expiry_month": 12, "expiry_year": 2035, "cvc": "123"}
CASH_PURCHASE_LIMIT_CENTS = 30000  # above it the counter pays by bank transfer
CASH_SALE_LIMIT_CENTS = 100000  # above it a customer pays by card (rule B.11)
RETRY_S = 0.2
NODE_DOWN_S = 60.0  # the longest staff wait for a node that was killed to answer again
COUNTED = ("cash", "card", "store_credit")  # the tenders counted at the till's closing
PUBLISH_SHARE = 0.35  # of the items bought, put online with a photo


class NodeDown(Exception):
    """A node did not answer within NODE_DOWN_S."""


@dataclass
class Tally:
    """Counts per kind of operation and outcome, shared by every actor."""

    counts: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, what: str, n: int = 1) -> None:
        with self._lock:
            self.counts[what] += n

    def outcome(self, what: str, answer: httpx.Response, ok: tuple[int, ...] = (200, 201)) -> None:
        """Count an answer; a refusal under its reason (the problem's detail, numbers cut)."""
        if answer.status_code in ok:
            self.note(f"{what}: ok")
            return
        try:
            detail = str(answer.json().get("detail", ""))
        except ValueError:
            detail = answer.text
        reason = re.sub(r"[0-9][0-9A-Z.,:-]*", "#", detail)[:70]
        self.note(f"{what}: refused {answer.status_code} ({reason})")

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self.counts.items()))


def call(send: Callable[[], httpx.Response], *, patience: float = NODE_DOWN_S) -> httpx.Response:
    """Send a request, again while the node does not answer (killed and restarting), up to
    `patience` seconds. A request that reached a node before it died may or may not have been
    applied: the caller only ever counts what the node answered."""
    deadline = time.monotonic() + patience
    while True:
        try:
            return send()
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise NodeDown from None
            time.sleep(RETRY_S)


def seller_json(seller: SellerIdentity) -> dict[str, Any]:
    document = seller.document
    return {
        "surname": seller.surname,
        "first_names": seller.first_names,
        "birth_date": seller.birth_date.isoformat(),
        "address": seller.address,
        "document": {
            "type": document.type.value,
            "number": document.number,
            "issued_on": document.issued_on.isoformat(),
            "issuing_authority": document.issuing_authority,
            "expires_on": document.expires_on.isoformat() if document.expires_on else None,
        },
    }


@dataclass(frozen=True, slots=True)
class Article:
    id: str
    precious_metal: bool


@dataclass
class Shelf:
    """What a store's simulated staff know is on the shelf: label -> asking price (cents)."""

    prices: dict[str, int] = field(default_factory=dict)
    # Precious metals in the seller's withdrawal period (rule A.8): off the shelf until then.
    held: dict[str, tuple[int, date]] = field(default_factory=dict)
    sold_tickets: list[tuple[str, str]] = field(default_factory=list)  # (ticket, label)


class StoreDay:
    """One trading day of one store, played by its staff and its customers."""

    def __init__(
        self,
        store: ChainStore,
        *,
        day: date,
        rng: random.Random,
        articles: list[Article],
        sellers: Callable[[int], SellerIdentity],
        shelf: Shelf,
        tally: Tally,
        operations: int,
        pace_s: float,
        neighbours: tuple[int, ...] = (),
        in_transit: dict[str, int] | None = None,
    ) -> None:
        self.store = store
        self.neighbours = neighbours  # the other stores of the chain, for transfers
        # Items on their way between stores: label -> asking price, shared by every store.
        self.in_transit = in_transit if in_transit is not None else {}
        self.day = day
        self.rng = rng
        self.articles = articles
        self.sellers = sellers
        self.shelf = shelf
        self.tally = tally
        self.operations = operations
        self.pace_s = pace_s
        self.photo = listing_photo()
        # What the cashier expects in the drawer at night, per tender, from the tickets taken.
        self.drawer: Counter[str] = Counter({"cash": FLOAT_CENTS})

    # --- the day --------------------------------------------------------------------------

    def morning(self) -> None:
        for label, (price, until) in list(self.shelf.held.items()):
            if until < self.day:
                self.shelf.prices[label] = price
                del self.shelf.held[label]
        self.store.forget_sessions()
        self._post("cashier", f"/api/v1/tills/{TILL}/open", {"float_cents": FLOAT_CENTS})
        self.receive_transfers()

    def trade(self, stop: threading.Event) -> None:
        """The day's operations, in random order, at the day's pace."""
        kinds = ["purchase"] * 4 + ["sale"] * 5 + ["orders"] * 2 + ["return", "transfer"]
        for _ in range(self.operations):
            if stop.is_set():
                return
            kind = self.rng.choice(kinds)
            if kind == "purchase":
                self.purchase()
            elif kind == "sale":
                self.sale()
            elif kind == "orders":
                self.online_orders()
                self.receive_transfers()
            elif kind == "transfer":
                self.send_transfer()
            else:
                self.give_back()
            if self.pace_s:
                stop.wait(self.rng.uniform(0.5, 1.5) * self.pace_s)

    def evening(self) -> None:
        """Last online orders handed over, the till counted and closed, the day closed."""
        self.online_orders()
        # Refunds can outweigh a tender's takings; a count is never below zero.
        counted = {k: max(0, cents) for k, cents in self.drawer.items() if k in COUNTED}
        self._post(
            "cashier", f"/api/v1/tills/{TILL}/close", {"counted": counted}, counted="till close"
        )
        self._post(
            "manager",
            "/api/v1/closings",
            {"period": "day", "label": self.day.isoformat()},
            counted="daily closing",
        )

    # --- the buying counter ---------------------------------------------------------------

    def purchase(self) -> None:
        chosen = self.rng.sample(self.articles, k=min(len(self.articles), self.rng.randint(1, 3)))
        lines = []
        precious = False
        for article in chosen:
            grade = self.rng.choice("AABBBCCD")
            quote = self._post(
                "buyer", "/api/v1/quotes", {"article_id": article.id, "grade": grade}
            )
            if quote is None or quote["buy_offer_cents"] < 100:
                continue
            line: dict[str, Any] = {
                "article_id": article.id,
                "grade": grade,
                "agreed_price_cents": quote["buy_offer_cents"],
            }
            if article.precious_metal:
                precious = True
                line.update(weight_grams="12.5", fineness=750)
            lines.append(line)
        if not lines:
            return
        amount = sum(line["agreed_price_cents"] for line in lines)
        payment: dict[str, Any] = {"method": "cash"}
        if precious or amount > CASH_PURCHASE_LIMIT_CENTS:
            payment = {"method": "bank_transfer", "account_holder": "Vendeur", "iban": IBAN}
        seller = self.sellers(self.rng.randrange(1_000_000))
        if payment["method"] == "bank_transfer":  # to an account in the seller's own name
            payment["account_holder"] = f"{seller.first_names} {seller.surname}"
        bought = self._post(
            "buyer",
            "/api/v1/purchases",
            {"seller": seller_json(seller), "payment": payment, "lines": lines},
            counted="purchase",
        )
        if bought is None:
            return
        self.tally.note("items bought", len(bought["items"]))
        for item in bought["items"]:
            if item["resale_blocked_until"]:
                until = date.fromisoformat(item["resale_blocked_until"][:10])
                self.shelf.held[item["label_code"]] = (item["asking_price_cents"], until)
                continue
            self.shelf.prices[item["label_code"]] = item["asking_price_cents"]
            if self.rng.random() < PUBLISH_SHARE:
                self.publish(item["label_code"])

    def publish(self, label: str) -> None:
        photo = self._send(
            "manager",
            lambda c, h: c.post(
                f"/api/v1/items/{label}/photos",
                files={"photo": ("photo.jpg", self.photo, "image/jpeg")},
                headers=h,
            ),
        )
        if photo is None or photo.status_code != 201:
            self.tally.note("publish refused")
            return
        self._send(
            "manager",
            lambda c, h: c.put(
                f"/api/v1/items/{label}/online",
                json={"published": True, "description": "Bon état, testé, avec son câble."},
                headers=h,
            ),
            counted="publish online",
        )

    # --- the till -------------------------------------------------------------------------

    def sale(self) -> None:
        if not self.shelf.prices:
            return
        labels = self.rng.sample(
            sorted(self.shelf.prices), k=min(len(self.shelf.prices), self.rng.randint(1, 3))
        )
        total = sum(self.shelf.prices[label] for label in labels)
        if total <= CASH_SALE_LIMIT_CENTS and self.rng.random() < 0.5:
            tender = {"kind": "cash", "amount_cents": -(-total // 1000) * 1000}
        else:
            tender = {"kind": "card", "amount_cents": total}
        sold = self._post(
            "cashier",
            "/api/v1/sales",
            {
                "till": TILL,
                "lines": [{"label_code": label} for label in labels],
                "tenders": [tender],
            },
            counted="till sale",
        )
        if sold is None:
            return  # reserved online, in a legal hold, sold meanwhile: the till said why
        self._into_drawer(sold)
        for label in labels:
            self.shelf.prices.pop(label, None)
            self.shelf.sold_tickets.append((sold["number"], label))

    def give_back(self) -> None:
        """A customer brings back an item bought here earlier (within the return window)."""
        if not self.shelf.sold_tickets:
            return
        ticket, label = self.shelf.sold_tickets.pop(
            self.rng.randrange(len(self.shelf.sold_tickets))
        )
        returned = self._post(
            "cashier",
            "/api/v1/returns",
            {"till": TILL, "sale_number": ticket, "lines": [{"label_code": label}]},
            counted="till return",
        )
        if returned is not None:
            self._into_drawer(returned)
            for line in returned["lines"]:
                self.shelf.prices[line["label_code"]] = abs(line["unit_price_cents"])

    def _into_drawer(self, ticket: dict[str, Any]) -> None:
        for tender in ticket["tenders"]:
            self.drawer[tender["kind"]] += tender["amount_cents"]
        self.drawer["cash"] -= ticket["change_cents"]

    # --- transfers between stores --------------------------------------------------------

    def send_transfer(self) -> None:
        """The manager sends an item to another store of the chain."""
        if not self.neighbours or not self.shelf.prices:
            return
        label = self.rng.choice(sorted(self.shelf.prices))
        sent = self._post(
            "manager",
            "/api/v1/transfers",
            {
                "to_store": self.rng.choice(self.neighbours),
                "labels": [label],
                "note": "rééquilibrage du stock",
            },
            counted="transfer sent",
        )
        if sent is not None:
            self.in_transit[label] = self.shelf.prices.pop(label)

    def receive_transfers(self) -> None:
        """The manager unpacks the transfers that arrived and scans their items."""
        expected = self._get(
            "manager", "/api/v1/transfers", {"direction": "incoming", "status": "expected"}
        )
        for transfer in expected or []:
            labels = [item["label_code"] for item in transfer["items"]]
            received = self._post(
                "manager",
                f"/api/v1/transfers/{transfer['id']}/receive",
                {"labels": labels},
                counted="transfer received",
            )
            if received is not None:
                for label in labels:
                    if label in self.in_transit:
                        self.shelf.prices[label] = self.in_transit.pop(label)

    # --- online orders at the store -------------------------------------------------------

    def online_orders(self) -> None:
        waiting = self._get("cashier", "/api/v1/online-orders", {"status": "to_prepare"})
        for order in waiting or []:
            self._post(
                "cashier",
                f"/api/v1/online-orders/{order['number']}/hand-over",
                {"till": TILL},
                counted="online order handed over",
                ok=(200,),
            )
            for line in order.get("lines", []):
                self.shelf.prices.pop(line.get("label_code", ""), None)

    # --- HTTP, as staff -------------------------------------------------------------------

    _USERS: ClassVar[dict[str, str]] = {
        "buyer": "acheteur",
        "cashier": "caissier",
        "manager": "gerant",
    }

    def _send(
        self,
        role: str,
        request: Callable[[httpx.Client, dict[str, str]], httpx.Response],
        *,
        counted: str | None = None,
        ok: tuple[int, ...] = (200, 201),
    ) -> httpx.Response | None:
        username = self._USERS[role]
        try:
            with self.store.http() as client:
                answer = call(lambda: request(client, self.store.headers(username)))
                if answer.status_code == 401:  # a restarted node, a new day: log in again
                    self.store.headers(username, fresh=True)
                    answer = call(lambda: request(client, self.store.headers(username)))
        except NodeDown:
            self.tally.note(f"store {self.store.number} unreachable")
            return None
        if counted is not None:
            self.tally.outcome(counted, answer, ok)
        return answer

    def _post(
        self,
        role: str,
        path: str,
        body: dict[str, Any],
        *,
        counted: str | None = None,
        ok: tuple[int, ...] = (200, 201),
    ) -> dict[str, Any] | None:
        answer = self._send(
            role, lambda c, h: c.post(path, json=body, headers=h), counted=counted, ok=ok
        )
        if answer is None or answer.status_code not in ok:
            return None
        result: dict[str, Any] = answer.json()
        return result

    def _get(self, role: str, path: str, params: dict[str, Any] | None = None) -> Any:
        answer = self._send(role, lambda c, h: c.get(path, params=params, headers=h))
        if answer is None or answer.status_code != 200:
            return None
        return answer.json()


class OnlineShoppers:
    """Customers buying on the website: search the listings, order one item, pay by card,
    collect it in store (or have it shipped)."""

    def __init__(
        self,
        chain: Chain,
        *,
        rng: random.Random,
        customers: Callable[[int], dict[str, str]],
        tally: Tally,
        orders: int,
        pace_s: float,
    ) -> None:
        self.chain = chain
        self.rng = rng
        self.customers = customers
        self.tally = tally
        self.orders = orders
        self.pace_s = pace_s

    def shop(self, stop: threading.Event) -> None:
        with self.chain.central_http() as http:
            for _ in range(self.orders):
                if stop.is_set():
                    return
                try:
                    self._order(http)
                except NodeDown:
                    self.tally.note("central unreachable")
                stop.wait(self.rng.uniform(0.5, 1.5) * max(self.pace_s, 0.05))

    def _order(self, http: httpx.Client) -> None:
        found = call(lambda: http.get("/api/v1/marketplace/listings", params={"limit": 48}))
        if found.status_code != 200:
            self.tally.outcome("online search", found)
            return
        results = found.json()["items"]
        if not results:
            return
        listing = self.rng.choice(results)
        customer = self.customers(self.rng.randrange(1_000_000))
        body: dict[str, Any] = {
            "items": [listing["item_id"]],
            "customer": {k: customer[k] for k in ("name", "email", "phone")},
            "fulfilment": "collect",
            "card": CARD,
        }
        ordered = call(lambda: http.post("/api/v1/marketplace/checkout", json=body))
        self.tally.outcome("online order", ordered)
