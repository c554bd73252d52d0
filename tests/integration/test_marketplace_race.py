"""The race the ownership rule exists for (architecture.md section 3), on real processes:
online customers order the very items the stores' tills are selling, while the links between
the stores and central are cut and restored at random.

Central and three store nodes run as processes; the stores reach central through a fault
proxy. A thousand checkouts, the tills' sales, staff handing over confirmed orders and a link
cut every few seconds all run at once. Then the links stay up, the stores drain, and central's
order processor ends every order. The checks read the databases and the payment provider's
ledger: no item is sold twice without a recorded conflict, every order ends collected with its
payment captured or cancelled with its payment voided or refunded.
"""

from __future__ import annotations

import io
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select
from sync_chain import Chain, Store, running_chain, wait_until

from recommerce.buyback.handlers import record_purchase
from recommerce.buyback.payment import Payment, PaymentMethod
from recommerce.buyback.purchase import PurchaseLine, RecordPurchase
from recommerce.catalog.model import Grade
from recommerce.central.bootstrap import bootstrap as bootstrap_central
from recommerce.central.db import marketplace_tables as m
from recommerce.central.db import sync_tables as c
from recommerce.central.services.catalog import seed_demo_catalogue
from recommerce.marketplace.payments import SimulatedPaymentProvider
from recommerce.money import Money
from recommerce.pos.tenders import TenderKind
from recommerce.sim.sync_bench import TILL
from recommerce.sim.till_bench import IBAN, bench_seller, catalogue, offered_at_least
from recommerce.store.db import tables as t
from recommerce.store.seed import DEMO_PASSWORD
from recommerce.store.services import online
from recommerce.store.services.staff import authenticate

pytestmark = pytest.mark.slow

STORES = (11, 12, 13)
ITEMS_PER_STORE = 120
ORDERS = 1000
TILL_SALES_PER_STORE = 60
CARD = {"number": "4242424242424242", "expiry_month": 12, "expiry_year": 2035, "cvc": "123"}
FINAL = {"collected", "cancelled"}
SETTLE_TIMEOUT_S = 90.0


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (480, 360), (30, 90, 160)).save(out, "JPEG")
    return out.getvalue()


def stock_and_publish(store: Store, count: int) -> list[str]:
    """Items bought from the public and published online, with the store's own handlers;
    their ids."""
    node = store.node
    price = Money(3000)  # at or below the argus' offer: no reason needed (buyback.offer)
    articles = [a.id for a in offered_at_least(node, catalogue(node), price)][:5]
    with node.reading() as conn:
        buyer = authenticate(conn, "acheteur", DEMO_PASSWORD)
        manager = authenticate(conn, "gerant", DEMO_PASSWORD)
    for n in range(0, count, 40):
        record_purchase(
            RecordPurchase(
                seller=bench_seller(store.number * 1000 + n, prefix="RACE"),
                payment=Payment(PaymentMethod.BANK_TRANSFER, account_holder="Race", iban=IBAN),
                lines=tuple(
                    PurchaseLine(
                        article_id=articles[k % len(articles)],
                        grade=Grade.B,
                        agreed_price=price,
                        asking_price=Money(9000 + 100 * k),
                    )
                    for k in range(min(40, count - n))
                ),
                staff_id=buyer.id,
            ),
            node.uow,
            argus=node.argus,
            clock=node.clock,
            keys=node.vault,
            policy=node.policy,
        )
    with node.reading() as conn:
        ids = list(conn.execute(select(t.items.c.id).order_by(t.items.c.label_code)).scalars())
    image = photo()
    for item_id in ids:
        online.add_photo(node, manager, item_id, image)
        online.publish(
            node, manager, item_id, published=True, description="Très bon état, testé, complet."
        )
    return ids


class Race:
    """The actors of the race, each a thread, and what each saw."""

    def __init__(self, chain: Chain, items: dict[int, list[str]], seed: int) -> None:
        self.chain = chain
        self.items = items
        self.all_items = [i for ids in items.values() for i in ids]
        self.rng = random.Random(seed)
        self.stop = threading.Event()  # the customers and tills are done: no more cuts
        self.settled = threading.Event()  # every order ended: the staff go home
        self.outcomes: Counter[str] = Counter()
        self.refusals: Counter[str] = Counter()  # why, for the report of a failure
        self.lock = threading.Lock()
        self.cuts = 0

    def note(self, outcome: str) -> None:
        with self.lock:
            self.outcomes[outcome] += 1

    def customers(self, count: int, seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=self.chain.central.url, timeout=30, trust_env=False) as http:
            for n in range(count):
                answer = http.post(
                    "/api/v1/marketplace/checkout",
                    json={
                        "items": [rng.choice(self.all_items)],
                        "customer": {
                            "name": f"Client {n}",
                            "email": f"client{seed}-{n}@example.fr",
                            "phone": "0612345678",
                        },
                        "fulfilment": "collect",
                        "card": CARD,
                    },
                )
                assert answer.status_code in (201, 409), answer.text
                self.note("ordered" if answer.status_code == 201 else "unavailable")
                if answer.status_code == 409:
                    self.refusals[answer.json()["detail"].split(":")[0][:60]] += 1

    def till(self, store: Store, sales: int, seed: int) -> None:
        rng = random.Random(seed)
        labels = self._labels(store)
        with store.http() as http:
            for _ in range(sales):
                label = rng.choice(labels)
                sold = http.post(
                    "/api/v1/sales",
                    json={
                        "till": TILL,
                        "lines": [{"label_code": label}],
                        "tenders": [{"kind": "cash", "amount_cents": 50000}],
                    },
                    headers=store.login("caissier"),
                )
                if sold.status_code == 201:
                    self.note("till sale")
                    continue
                assert sold.status_code in (409, 422), sold.text
                self.note("till refused")
                self.refusals[sold.json()["detail"][:60]] += 1
                time.sleep(0.02)

    def staff(self, store: Store) -> None:
        """Hand over every paid order as it comes, until the race is settled."""
        with store.http() as http:
            while not self.settled.is_set():
                waiting = http.get(
                    "/api/v1/online-orders",
                    params={"status": "to_prepare"},
                    headers=store.login("caissier"),
                ).json()
                for order in waiting:
                    handed = http.post(
                        f"/api/v1/online-orders/{order['number']}/hand-over",
                        json={"till": TILL},
                        headers=store.login("caissier"),
                    )
                    # Refused when central cancelled the order meanwhile (no answer in time).
                    assert handed.status_code in (200, 409), handed.text
                    self.note("handed over" if handed.status_code == 200 else "hand-over refused")
                time.sleep(0.2)

    def chaos(self) -> None:
        while not self.stop.is_set():
            time.sleep(self.rng.uniform(0.3, 1.5))
            self.chain.proxy.cut()
            self.cuts += 1
            time.sleep(self.rng.uniform(0.2, 1.5))
            self.chain.proxy.restore()

    @staticmethod
    def _labels(store: Store) -> list[str]:
        with store.node.reading() as conn:
            return list(conn.execute(select(t.items.c.label_code)).scalars())


def threads(*targets: tuple[Any, ...]) -> list[threading.Thread]:
    started = []
    for target, *args in targets:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        started.append(thread)
    return started


@pytest.fixture
def chain(tmp_path: Path, central_database_url: str) -> Iterator[Chain]:
    # A store silent for a minute stops taking orders; an order unanswered for 5 s ends.
    with running_chain(
        tmp_path, central_database_url, reservation_timeout_s=5, store_silence_s=60
    ) as running:
        yield running


def test_online_orders_and_tills_racing_for_the_same_items_under_link_cuts(chain: Chain) -> None:
    central = bootstrap_central(chain.settings, migrate=False)
    with central.writing() as conn:  # the stores' demo articles are central's
        seed_demo_catalogue(conn, now=central.clock.now())
    central.engine.dispose()
    stores = [chain.new_store(number) for number in STORES]
    items = {store.number: stock_and_publish(store, ITEMS_PER_STORE) for store in stores}
    for store in stores:
        store.process.start()
    for store in stores:
        store.open_till()
    listed = len(STORES) * ITEMS_PER_STORE
    wait_until(lambda: listings_on_sale(chain) == listed, "central lists every item", 120)

    race = Race(chain, items, seed=20261129)
    actors = threads(
        (race.customers, ORDERS // 2, 1),
        (race.customers, ORDERS - ORDERS // 2, 2),
        *((race.till, store, TILL_SALES_PER_STORE, store.number) for store in stores),
    )
    staff = threads(*((race.staff, store) for store in stores))
    chaos = threads((race.chaos,))
    for actor in actors:
        actor.join()
    race.stop.set()
    for thread in chaos:
        thread.join()
    chain.proxy.restore()

    # Settle: every order central holds ends, every store drains its outbox.
    try:
        wait_until(
            lambda: open_orders(chain) == 0 and all(drained(store) for store in stores),
            "every order ends and every store has pushed everything",
            SETTLE_TIMEOUT_S,
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {unsettled(chain, stores)}") from None
    finally:
        race.settled.set()
        for thread in staff:
            thread.join()
    assert race.outcomes["ordered"] > 0 and race.outcomes["till sale"] > 0, (
        race.outcomes,
        race.refusals,
    )
    assert race.cuts > 0
    print(f"race: {dict(race.outcomes)}, {race.cuts} link cuts, {unsettled(chain, stores)[:300]}")

    sold_at_tills = check_each_item_sold_at_most_once(stores)
    check_every_order_ends_fulfilled_or_refunded(chain)
    check_no_double_sale_without_a_conflict(chain, sold_at_tills)


def listings_on_sale(chain: Chain) -> int:
    with chain.db.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(m.listings)
                .join(c.items, c.items.c.item_id == m.listings.c.item_id)
                .where(m.listings.c.published.is_(True), c.items.c.status == "in_stock")
            ).scalar_one()
        )


def open_orders(chain: Chain) -> int:
    with chain.db.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(m.orders)
                .where(
                    ~m.orders.c.status.in_(FINAL)
                    | m.orders.c.payment_state.in_(("authorizing", "authorized"))
                    | (
                        (m.orders.c.status == "cancelled")
                        & (m.orders.c.payment_state == "captured")
                    )
                )
            ).scalar_one()
        )


def unsettled(chain: Chain, stores: list[Store]) -> str:
    """What is still open, for the report of a failure."""
    with chain.db.connect() as conn:
        states = Counter(
            (row.status, row.payment_state, (row.end_reason or "")[:40])
            for row in conn.execute(
                select(m.orders.c.status, m.orders.c.payment_state, m.orders.c.end_reason)
            )
        )
    pushes = {s.number: (s.status().acked_seq, s.status().head_seq) for s in stores}
    return f"orders {dict(states)}; stores (acked, head) {pushes}; {chain.central.log_tail(1500)}"


def drained(store: Store) -> bool:
    status = store.status()
    return status.acked_seq == status.head_seq


def check_each_item_sold_at_most_once(stores: list[Store]) -> dict[str, str]:
    """Each store's tickets sell an item once at most; the items sold by a till sale (not an
    online order's hand-over), with their ticket."""
    sold_at_tills: dict[str, str] = {}
    for store in stores:
        with store.node.reading() as conn:
            lines = conn.execute(
                select(t.ticket_lines.c.item_id, t.tickets.c.display_number, t.tickets.c.kind).join(
                    t.tickets, t.tickets.c.id == t.ticket_lines.c.ticket_id
                )
            ).all()
            online_tickets = set(
                conn.execute(
                    select(t.ticket_tenders.c.ticket_id).where(
                        t.ticket_tenders.c.kind == TenderKind.ONLINE.value
                    )
                ).scalars()
            )
            ticket_ids = dict(
                conn.execute(select(t.tickets.c.display_number, t.tickets.c.id)).all()
            )
        sales = Counter(line.item_id for line in lines if line.kind == "sale")
        twice = [item for item, n in sales.items() if n > 1]
        assert twice == [], f"store {store.number} sold items twice: {twice}"
        for line in lines:
            if line.kind == "sale" and ticket_ids[line.display_number] not in online_tickets:
                sold_at_tills[line.item_id] = line.display_number
    return sold_at_tills


def check_every_order_ends_fulfilled_or_refunded(chain: Chain) -> None:
    provider = SimulatedPaymentProvider(chain.settings.payments_ledger)
    try:
        with chain.db.connect() as conn:
            orders = conn.execute(select(m.orders)).all()
        assert orders
        for order in orders:
            state, amount, refunded = provider.state(order.authorization_id)
            if order.status == "collected":
                assert (order.payment_state, state, refunded) == ("captured", "captured", 0), order
                assert amount == order.total_cents
            else:
                assert order.status == "cancelled", order
                assert order.payment_state in ("voided", "refunded"), order
                if order.payment_state == "voided":
                    assert state == "voided", order
                else:
                    assert (state, refunded) == ("captured", amount), order
    finally:
        provider.close()


def check_no_double_sale_without_a_conflict(chain: Chain, sold_at_tills: dict[str, str]) -> None:
    """An item sold at a till is never also sold online with the money kept; where an order
    had been paid for an item a till then sold, a conflict records both facts."""
    with chain.db.connect() as conn:
        lines = conn.execute(
            select(m.order_lines.c.item_id, m.orders).join(
                m.orders, m.orders.c.id == m.order_lines.c.order_id
            )
        ).all()
        conflicts = {(row.item_id, row.order_id) for row in conn.execute(select(m.conflicts)).all()}
    for line in lines:
        if line.item_id not in sold_at_tills:
            continue
        assert line.status != "collected", f"item {line.item_id} sold at a till and online"
        if line.payment_state == "refunded":  # it had been paid: the store confirmed, then sold
            assert (line.item_id, line.id) in conflicts, line
