"""The simulator's invariant checker (architecture.md section 5) on a store node and central in
this process: a clean day passes every invariant, and each kind of damage, done with plain SQL
as a faulty program or a tamperer would, is reported naming what broke."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from helpers import purchase_body, seller
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from store_and_central import (  # noqa: F401  (fixtures)
    STORE,
    TODAY,
    Headers,
    central_database_url,
    code,
    enrolled,
    puller,
    pusher,
)
from test_fiscal_tampering import drop_guards, rewrite_record
from test_marketplace_listings import listed_item, push_all
from test_online_orders import placed, process, sync

from recommerce.central.bootstrap import CentralNode
from recommerce.central.db import sync_tables as c
from recommerce.clock import FixedClock
from recommerce.sim.invariants import (
    InvariantResult,
    Probe,
    StoreHandle,
    check_invariants,
    probe,
    read_only_engine,
    report_dict,
)
from recommerce.sim.invariants.databases import reading
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t
from recommerce.store.sync.feed import FeedPuller
from recommerce.store.sync.pusher import Pusher

KEYS = [
    "items_sold_once",
    "police_register",
    "fiscal_chains",
    "events_exactly_once",
    "totals_reconcile",
    "online_orders_end",
    "money_exact",
    "bad_input_changes_nothing",
]


@dataclass(frozen=True)
class Day:
    """What store 42 did, all pushed to central."""

    labels: list[str]  # the five items bought, in order
    sold_alone: str  # the first sale's ticket number (its one item: labels[2])
    sold_together: str  # the second sale's (labels[3] and labels[4])
    returned: str  # the return of labels[4]


def buy(client: TestClient, login: Headers, article_id: str, *prices: int) -> list[str]:
    lines = [
        {
            "article_id": article_id,
            "grade": "B",
            "agreed_price_cents": price,
            "asking_price_cents": price * 2 + 990,
        }
        for price in prices
    ]
    bought = client.post("/api/v1/purchases", json=purchase_body(lines), headers=login("acheteur"))
    assert bought.status_code == 201, bought.text
    return [item["label_code"] for item in bought.json()["items"]]


def sell(client: TestClient, login: Headers, labels: list[str], *tenders: Any) -> str:
    sold = client.post(
        "/api/v1/sales",
        json={
            "till": "T1",
            "lines": [{"label_code": label} for label in labels],
            "tenders": list(tenders),
        },
        headers=login("caissier"),
    )
    assert sold.status_code == 201, sold.text
    return str(sold.json()["number"])


@pytest.fixture
def day(
    enrolled: StoreNode,
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    clock: FixedClock,
) -> Day:
    """Three purchases (a lot of two phones at 50 EUR, one phone at 90 EUR, two at 73.45),
    a cash sale with change, a sale of two phones by card and cash, a return of one of them to
    the card, the day closed; everything pushed to central."""
    phone = article_id("iphone 12")
    labels = buy(client, login, phone, 5000, 5000)
    labels += buy(client, login, phone, 9000)
    labels += buy(client, login, phone, 7345, 7345)
    clock.advance(timedelta(minutes=5))
    alone = sell(client, login, [labels[2]], {"kind": "cash", "amount_cents": 40000})
    clock.advance(timedelta(minutes=5))
    together = sell(
        client,
        login,
        labels[3:5],
        {"kind": "card", "amount_cents": 20000},
        {"kind": "cash", "amount_cents": 20000},
    )
    clock.advance(timedelta(minutes=5))
    returned = client.post(
        "/api/v1/returns",
        json={"till": "T1", "sale_number": together, "lines": [{"label_code": labels[4]}]},
        headers=login("caissier"),
    )
    assert returned.status_code == 201, returned.text
    clock.advance(timedelta(hours=8))
    closed = client.post(
        "/api/v1/closings",
        json={"period": "day", "label": TODAY.isoformat()},
        headers=login("gerant"),
    )
    assert closed.status_code == 201, closed.text
    push_all(pusher)
    return Day(labels, alone, together, str(returned.json()["number"]))


def check(
    central: CentralNode, node: StoreNode, probes: list[Probe] | None = None
) -> dict[str, InvariantResult]:
    results = check_invariants(
        central.settings.effective_database_url,
        [StoreHandle(node.settings)],
        probes=probes or (),
        central_data_dir=central.settings.data_dir,
    )
    return {result.key: result for result in results}


def failures(result: InvariantResult) -> list[dict[str, Any]]:
    assert not result.ok, f"{result.key} saw nothing wrong"
    listed: list[dict[str, Any]] = result.details["failures"]
    return listed


def broken_only(results: dict[str, InvariantResult]) -> list[str]:
    return [key for key, result in results.items() if not result.ok]


def item_id(node: StoreNode, label: str) -> str:
    with node.reading() as conn:
        return str(
            conn.execute(select(t.items.c.id).where(t.items.c.label_code == label)).scalar_one()
        )


def test_a_clean_day_of_buying_selling_and_a_return_keeps_every_invariant(
    day: Day, central: CentralNode, node: StoreNode
) -> None:
    results = check(central, node)

    assert [key for key in results] == KEYS
    assert broken_only(results) == [], {k: r.details for k, r in results.items() if not r.ok}
    details = {key: result.details for key, result in results.items()}
    assert details["items_sold_once"]["tickets"] == 3
    assert details["items_sold_once"]["items_sold"] == 3
    # The lot of two phones at 50 EUR shares one entry; the others have one each.
    assert details["police_register"]["entries"] == 4
    assert details["police_register"]["items"] == 5
    assert details["fiscal_chains"]["records_verified"] == 4  # three tickets and the closing
    assert details["totals_reconcile"]["daily_closings_agreeing"] == 1
    assert details["online_orders_end"]["orders"] == 0
    assert details["money_exact"]["tickets"] == 3
    assert details["bad_input_changes_nothing"]["probes"] == 0
    report = report_dict(results.values())
    assert report["ok"] is True
    assert list(report["invariants"]) == KEYS
    assert json.loads(json.dumps(report)) == report


@pytest.mark.parametrize("where", ["at the store's till", "in central's read model"])
def test_an_item_sold_twice_is_reported_naming_the_item_and_both_tickets(
    where: str, day: Day, central: CentralNode, node: StoreNode, clock: FixedClock
) -> None:
    label = day.labels[2]  # sold alone this morning
    item = item_id(node, label)
    later = clock.now() + timedelta(hours=1)
    if where == "at the store's till":
        with node.engine.begin() as conn:
            sold = conn.execute(
                select(t.tickets).where(t.tickets.c.display_number == day.sold_alone)
            )
            first = sold.one()
            line = conn.execute(
                select(t.ticket_lines).where(t.ticket_lines.c.ticket_id == first.id)
            ).one()
            again = str(uuid.uuid4())
            conn.execute(
                insert(t.tickets).values(
                    {
                        **first._asdict(),
                        "id": again,
                        "till": "T9",
                        "number": 1,
                        "display_number": "042-T9-000001",
                        "occurred_at": later,
                    }
                )
            )
            conn.execute(insert(t.ticket_lines).values({**line._asdict(), "ticket_id": again}))
    else:
        with central.writing() as conn:
            first = conn.execute(
                select(c.tickets).where(c.tickets.c.number == day.sold_alone)
            ).one()
            conn.execute(
                insert(c.tickets).values(
                    {
                        **first._asdict(),
                        "id": str(uuid.uuid4()),
                        "till": "T9",
                        "number": "042-T9-000001",
                        "occurred_at": later,
                    }
                )
            )

    results = check(central, node)

    [double] = failures(results["items_sold_once"])
    assert double["item_id"] == item
    assert double["label_code"] == label
    assert double["first"]["ticket"] == day.sold_alone
    assert double["second"]["ticket"] == "042-T9-000001"


def test_a_past_ticket_changed_in_the_fiscal_journal_is_reported_naming_its_record(
    day: Day, central: CentralNode, node: StoreNode
) -> None:
    label = f"ticket {day.sold_alone}"
    with node.reading() as conn:
        record = conn.execute(
            select(t.fiscal_journal).where(t.fiscal_journal.c.label == label)
        ).one()
    drop_guards(node, "fiscal_journal")
    rewrite_record(node, record.seq, fields={**record.fields, "total_cents": 100})

    results = check(central, node)

    assert failures(results["fiscal_chains"]) == [
        {
            "store": STORE,
            "seq": record.seq,
            "label": label,
            "problem": "hash does not match its contents: a field was changed",
        }
    ]


def test_an_acknowledged_event_missing_at_central_is_reported_as_lost(
    day: Day, central: CentralNode, node: StoreNode
) -> None:
    with node.reading() as conn:
        event = conn.execute(
            select(t.outbox).where(t.outbox.c.type == "TicketValidated").order_by(t.outbox.c.seq)
        ).first()
    assert event is not None and event.acked_at is not None
    with central.writing() as conn:
        conn.execute(
            delete(c.events).where(c.events.c.store_number == STORE, c.events.c.seq == event.seq)
        )

    results = check(central, node)

    assert failures(results["events_exactly_once"]) == [
        {
            "store": STORE,
            "seq": event.seq,
            "type": "TicketValidated",
            "event_id": event.event_id,
            "problem": "acknowledged but missing at central: lost",
        }
    ]


def test_a_number_missing_from_the_police_register_is_reported_with_its_book(
    day: Day, central: CentralNode, node: StoreNode
) -> None:
    with node.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER police_register_append_only ON police_register"))
        else:
            conn.execute(text("DROP TRIGGER police_register_no_delete"))
        conn.execute(
            delete(t.police_register).where(
                t.police_register.c.book == "general", t.police_register.c.number == 2
            )
        )

    results = check(central, node)

    found = failures(results["police_register"])
    assert {
        "store": STORE,
        "book": "general",
        "problem": "numbers missing from the register",
        "missing_numbers": [2],
        "missing_count": 1,
        "last_number": 4,
    } in found
    # The phone that entry listed has no entry any more.
    assert any(f.get("label_code") == day.labels[2] for f in found), found


def test_a_ticket_line_whose_vat_was_rounded_elsewhere_is_reported(
    day: Day, central: CentralNode, node: StoreNode
) -> None:
    drop_guards(node, "ticket_lines")
    with node.engine.begin() as conn:
        ticket_id = conn.execute(
            select(t.tickets.c.id).where(t.tickets.c.display_number == day.sold_alone)
        ).scalar_one()
        line = t.ticket_lines.c
        conn.execute(
            update(t.ticket_lines)
            .where(line.ticket_id == ticket_id)
            .values(vat_cents=line.vat_cents + 1)
        )

    results = check(central, node)

    [wrong] = failures(results["money_exact"])
    assert wrong["problem"] == "the line's VAT is not what fiscal.vat computes"
    assert (wrong["ticket"], wrong["line"], wrong["label_code"]) == (
        day.sold_alone,
        1,
        day.labels[2],
    )
    assert wrong["vat_cents"] == wrong["recomputed_vat_cents"] + 1


def test_a_day_whose_totals_differ_at_central_is_reported_with_the_figure(
    day: Day, central: CentralNode, node: StoreNode
) -> None:
    with central.writing() as conn:
        conn.execute(
            update(c.purchases)
            .where(c.purchases.c.store_number == STORE)
            .values(total_cents=c.purchases.c.total_cents + 1)
        )

    results = check(central, node)

    found = failures(results["totals_reconcile"])
    assert {
        "store": STORE,
        "day": TODAY.isoformat(),
        "figure": "purchases.total_cents",
        "problem": "the store's database and central differ",
        "at_store": 33690,
        "at_central": 33693,
    } in found


def test_bad_requests_are_counted_and_one_that_wrote_something_is_named(
    day: Day,
    central: CentralNode,
    node: StoreNode,
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
) -> None:
    line = {"article_id": article_id("iphone 12"), "grade": "B", "agreed_price_cents": 5000}
    minor = purchase_body([line], seller=seller(birth_date="2015-01-01"))
    refused = probe(
        node.engine,
        "a purchase from a seller under 18",
        store=STORE,
        send=lambda: client.post("/api/v1/purchases", json=minor, headers=login("acheteur")),
    )
    assert (refused.status, refused.error_code, refused.changed) == (422, "seller_under_18", {})

    results = check(central, node, [refused])
    assert results["bad_input_changes_nothing"].ok
    assert results["bad_input_changes_nothing"].details["probes"] == 1

    accepted = probe(
        node.engine,
        "a purchase the simulator believed bad",
        store=STORE,
        send=lambda: client.post(
            "/api/v1/purchases", json=purchase_body([line]), headers=login("acheteur")
        ),
    )
    results = check(central, node, [refused, accepted])
    named = failures(results["bad_input_changes_nothing"])
    assert [(f["probe"], f["problem"]) for f in named] == [
        ("a purchase the simulator believed bad", "the bad request changed the store"),
        ("a purchase the simulator believed bad", "the bad request got no clear error"),
    ]
    assert named[0]["changed"]["purchases"] == {"before": 3, "after": 4}
    assert named[0]["changed"]["police_register"] == {"before": 4, "after": 5}
    assert named[0]["changed"]["counter register:general"] == {"before": 4, "after": 5}


def test_an_online_order_left_waiting_for_its_store_fails_until_cancelled_and_voided(
    enrolled: StoreNode,
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    central_client: TestClient,
    central: CentralNode,
    clock: FixedClock,
) -> None:
    _, listed = listed_item(client, login, article_id)
    push_all(pusher)
    mine = placed(central_client, [listed])

    waiting = failures(check(central, enrolled)["online_orders_end"])
    assert waiting == [
        {
            "order": mine["number"],
            "order_id": waiting[0]["order_id"],
            "store": STORE,
            "status": "awaiting_store",
            "payment_state": "authorized",
            "problem": "still awaiting_store: the order has not ended",
        }
    ]

    clock.advance(timedelta(seconds=central.settings.reservation_timeout_s + 1))
    process(central_client)

    ended = check(central, enrolled)["online_orders_end"]
    assert ended.ok, ended.details
    assert ended.details["by_status"] == {"cancelled": 1}
    assert ended.details["ledger"].startswith("compared")


def test_an_item_sold_again_after_a_recorded_conflict_is_explained_by_the_conflict(
    enrolled: StoreNode,
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    puller: FeedPuller,
    pusher: Pusher,
    central_client: TestClient,
    central: CentralNode,
    clock: FixedClock,
) -> None:
    label, item = listed_item(client, login, article_id)
    push_all(pusher)
    mine = placed(central_client, [item])
    sync(puller, pusher, central_client)  # reserved by the store, paid
    # A state mistake at the store (a database restored from last night's backup): the item
    # is back on the shelf there and a cashier sells it; central records the conflict, and
    # cancels and refunds the order.
    with enrolled.engine.begin() as conn:
        conn.execute(
            update(t.items).where(t.items.c.id == item).values(status="in_stock", reserved_for=None)
        )
    at_till = sell(client, login, [label], {"kind": "cash", "amount_cents": 100000})
    push_all(pusher)
    process(central_client)
    # And the parcel went out all the same: a second sale of the item.
    with central.writing() as conn:
        first = conn.execute(select(c.tickets).where(c.tickets.c.number == at_till)).one()
        conn.execute(
            insert(c.tickets).values(
                {
                    **first._asdict(),
                    "id": str(uuid.uuid4()),
                    "till": "WEB",
                    "number": "042-WEB-000001",
                    "occurred_at": clock.now() + timedelta(hours=1),
                }
            )
        )

    results = check(central, enrolled)

    sold = results["items_sold_once"]
    assert sold.ok, sold.details
    assert sold.details["double_sales_explained_by_a_conflict"] == 1
    [explained] = sold.details["explained"]
    assert (explained["item_id"], explained["label_code"]) == (item, label)
    assert [explained["first"]["ticket"], explained["second"]["ticket"]] == [
        at_till,
        "042-WEB-000001",
    ]
    assert [x["online_fact"]["order"] for x in explained["conflicts"]] == [mine["number"]]
    orders = results["online_orders_end"]
    assert orders.ok, orders.details  # cancelled, refunded in full, as the provider's ledger says
    assert orders.details["by_status"] == {"cancelled": 1}


def test_the_checker_cannot_write_to_a_database_it_reads(central: CentralNode) -> None:
    engine = read_only_engine(central.settings.effective_database_url)
    try:
        with reading(engine) as conn, pytest.raises(DBAPIError):
            conn.execute(text("CREATE TABLE tampering (id INTEGER)"))
    finally:
        engine.dispose()


def test_a_store_database_that_is_not_there_is_not_created_by_the_checker(
    central: CentralNode, node: StoreNode, tmp_path: Path
) -> None:
    missing = tmp_path / "elsewhere" / "store.db"
    settings = node.settings.model_copy(update={"database_url": f"sqlite:///{missing}"})

    with pytest.raises(FileNotFoundError):
        check(central, StoreNode(settings, node.engine, node.vault, node.fiscal_key))

    assert not missing.parent.exists()
