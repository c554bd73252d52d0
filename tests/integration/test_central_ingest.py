"""Central applies the stores' outbox batches exactly once (docs/sync-protocol.md, "Upstream"):
the cursor is the dedupe, a gap is answered with the seq central expects, a bad event is
quarantined and acknowledged, a damaged batch is refused whole; the read models follow the
events, and reconciliation compares them with the store's daily closing.

The events are the real ones: a store node buys, sells, takes a return, moves an item, corrects
its police register, counts a till and closes its day, and its outbox is what is pushed."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from helpers import enrolled_store_headers, purchase_body
from sqlalchemy import func, select
from typer.testing import CliRunner

from recommerce.central.bootstrap import CentralNode
from recommerce.central.db import sync_tables as s
from recommerce.central.services.ingest import apply_batch
from recommerce.central.services.reconcile import reconcile
from recommerce.cli import app as cli_app
from recommerce.clock import FixedClock
from recommerce.store.app import create_app
from recommerce.store.bootstrap import bootstrap
from recommerce.store.db import tables as store_tables
from recommerce.store.seed import DEMO_PASSWORD, seed_catalog, seed_demo_staff
from recommerce.store.settings import StoreSettings
from recommerce.sync.protocol import batch_checksum

STORE = 42
EVENTS = "/api/v1/sync/stores/{n}/events"


# --- a real store's history ------------------------------------------------------------------


def _wire(row: Any) -> dict[str, Any]:
    """An outbox row as the store sends it."""
    return {
        "seq": row.seq,
        "event_id": row.event_id,
        "type": row.type,
        "schema_version": row.schema_version,
        "occurred_at": row.occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "payload": row.payload,
    }


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Store 42 (Europe/Paris) on 2026-11-20: three phones bought, two sold on one ticket, one
    of them returned, the third sent to repair, a register correction, till T2 opened and
    counted, the day closed; then at 23:30 UTC (00:30 in Paris, the 21st) one more purchase."""
    tmp = tmp_path_factory.mktemp("store")
    clock = FixedClock(datetime(2026, 11, 20, 10, 30, tzinfo=UTC))
    settings = StoreSettings(
        environment="test",
        data_dir=tmp,
        database_url=f"sqlite:///{tmp / 'store.db'}",
        store_number=STORE,
        store_name="Magasin de Lyon Part-Dieu",
        store_city="Lyon",
        identity_key=Fernet.generate_key().decode(),
        till_requires_open_session=False,
    )
    node = bootstrap(settings, clock=clock)
    with node.uow() as uow:
        seed_catalog(uow.conn)
        seed_demo_staff(uow.conn, at=clock.now())
        uow.commit()
    with TestClient(create_app(node), raise_server_exceptions=False) as client:

        def as_(username: str) -> dict[str, str]:
            token = client.post(
                "/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD}
            ).json()["access_token"]
            return {"Authorization": f"Bearer {token}"}

        def ok(response: Any) -> Any:
            assert response.status_code in (200, 201), response.text
            return response.json()

        phone = client.get(
            "/api/v1/articles", params={"q": "iphone 12"}, headers=as_("acheteur")
        ).json()[0]["id"]

        def buy(count: int) -> list[str]:
            lines = [
                {
                    "article_id": phone,
                    "grade": "B",
                    "agreed_price_cents": 2000,
                    "asking_price_cents": 5000,
                }
                for _ in range(count)
            ]
            bought = ok(
                client.post("/api/v1/purchases", json=purchase_body(lines), headers=as_("acheteur"))
            )
            return [i["label_code"] for i in bought["items"]]

        labels = buy(3)
        cashier, manager = as_("caissier"), as_("gerant")
        sale = ok(
            client.post(
                "/api/v1/sales",
                json={
                    "till": "T1",
                    "lines": [{"label_code": x} for x in labels[:2]],
                    "tenders": [{"kind": "cash", "amount_cents": 10000}],
                },
                headers=cashier,
            )
        )
        ok(
            client.post(
                "/api/v1/returns",
                json={
                    "till": "T1",
                    "sale_number": sale["number"],
                    "lines": [{"label_code": labels[0]}],
                    "refund": "original_tenders",
                },
                headers=cashier,
            )
        )
        ok(
            client.post(
                f"/api/v1/items/{labels[2]}/status",
                json={"status": "to_repair", "reason": "écran fissuré"},
                headers=manager,
            )
        )
        ok(
            client.post(
                "/api/v1/police-register/general/1/corrections",
                json={
                    "reason": "description incomplète",
                    "objects": [{"label_code": labels[2], "description": "rayure au dos"}],
                },
                headers=manager,
            )
        )
        ok(client.post("/api/v1/tills/T2/open", json={"float_cents": 15000}, headers=cashier))
        ok(
            client.post(
                "/api/v1/tills/T2/close", json={"counted": {"cash": 15000}}, headers=cashier
            )
        )
        ok(
            client.post(
                "/api/v1/closings", json={"period": "day", "label": "2026-11-20"}, headers=manager
            )
        )
        clock.advance(timedelta(hours=13))  # 23:30 UTC: already the 21st in Paris
        buy(1)
    with node.engine.connect() as conn:
        rows = conn.execute(select(store_tables.outbox).order_by(store_tables.outbox.c.seq)).all()
    node.engine.dispose()
    events = [_wire(row) for row in rows]
    assert [e["type"] for e in events] == [
        "PurchaseRecorded",
        "TicketValidated",
        "TicketValidated",
        "ItemStatusChanged",
        "RegisterEntryCorrected",
        "TillSessionClosed",
        "PeriodClosed",
        "PurchaseRecorded",
    ]
    return events


@pytest.fixture
def events(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A copy each test may change."""
    return copy.deepcopy(history)


# --- central, with store 42 enrolled -----------------------------------------------------------


def _enrol(client: TestClient, admin: dict[str, str], number: int) -> dict[str, str]:
    """Only the credential: each test says which protocol headers it sends."""
    return {"Authorization": enrolled_store_headers(client, admin, number)["Authorization"]}


@pytest.fixture
def store(central_client: TestClient, central_admin: dict[str, str]) -> dict[str, str]:
    """Store 42's credential headers."""
    return _enrol(central_client, central_admin, STORE)


def push(
    client: TestClient,
    credential: dict[str, str],
    events: list[dict[str, Any]],
    *,
    first_seq: int | None = None,
    head_seq: int | None = None,
    protocol: str | None = "2",
    checksum: str | None = None,
    number: int = STORE,
) -> Any:
    body: dict[str, Any] = {
        "first_seq": first_seq if first_seq is not None else events[0]["seq"],
        "head_seq": head_seq if head_seq is not None else (events[-1]["seq"] if events else 0),
        "events": events,
    }
    if protocol == "2":
        body["checksum"] = checksum or batch_checksum(events)
    headers = dict(credential)
    if protocol is not None:
        headers["Recommerce-Protocol"] = protocol
        headers["Recommerce-Schema"] = "1"
    return client.post(EVENTS.format(n=number), json=body, headers=headers)


def count(central: CentralNode, table: Any) -> int:
    with central.reading() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def item_statuses(central: CentralNode) -> dict[str, tuple[str, str | None]]:
    with central.reading() as conn:
        rows = conn.execute(
            select(s.items.c.label_code, s.items.c.status, s.items.c.sold_ticket_id)
        )
        return {r.label_code: (r.status, r.sold_ticket_id) for r in rows}


def cursor(central: CentralNode) -> Any:
    with central.reading() as conn:
        return conn.execute(
            select(s.sync_cursors).where(s.sync_cursors.c.store_number == STORE)
        ).one()


# --- exactly once ------------------------------------------------------------------------------


def test_a_batch_is_applied_once_and_acknowledged(central_client, store, central, events):
    response = push(central_client, store, events)
    assert response.status_code == 200, response.text
    assert response.json() == {"acked_seq": 8, "applied": 8, "duplicates": 0, "quarantined": 0}
    assert count(central, s.events) == 8
    assert count(central, s.purchases) == 2
    assert count(central, s.tickets) == 2
    assert count(central, s.items) == 4
    assert count(central, s.register_entries) == 3  # two acquisitions and a correction
    assert count(central, s.journal_records) == 3  # two tickets and the daily closing
    assert count(central, s.closings) == 1
    assert count(central, s.till_sessions) == 1
    assert cursor(central).last_applied_seq == 8


def test_a_duplicate_batch_is_acknowledged_and_applied_once(central_client, store, central, events):
    assert push(central_client, store, events).status_code == 200
    again = push(central_client, store, events)
    assert again.status_code == 200, again.text
    assert again.json() == {"acked_seq": 8, "applied": 0, "duplicates": 8, "quarantined": 0}
    assert count(central, s.events) == 8
    assert count(central, s.items) == 4


def test_a_partly_duplicate_batch_applies_only_the_new_events(
    central_client, store, central, events
):
    assert push(central_client, store, events[:3]).json()["acked_seq"] == 3
    response = push(central_client, store, events[1:])
    assert response.json() == {"acked_seq": 8, "applied": 5, "duplicates": 2, "quarantined": 0}
    assert count(central, s.events) == 8
    assert count(central, s.tickets) == 2


def test_a_gap_is_answered_409_with_the_seq_central_expects(central_client, store, central, events):
    assert push(central_client, store, events[:2]).status_code == 200
    response = push(central_client, store, events[4:])
    assert response.status_code == 409
    assert response.json()["code"] == "seq_gap"
    assert response.json()["expected_seq"] == 3
    assert count(central, s.events) == 2
    assert cursor(central).last_applied_seq == 2


def test_a_bad_event_is_quarantined_and_acked_while_the_others_apply(
    central_client, store, central, central_admin, events
):
    del events[4]["payload"]["book"]  # the register correction lost a field on the way
    events[5]["type"] = "TillExploded"
    response = push(central_client, store, events)
    assert response.status_code == 200, response.text
    assert response.json() == {"acked_seq": 8, "applied": 6, "duplicates": 0, "quarantined": 2}
    assert count(central, s.events) == 6
    assert count(central, s.till_sessions) == 0
    page = central_client.get(f"/api/v1/stores/{STORE}/quarantine", headers=central_admin).json()
    assert page["total"] == 2
    reasons = {e["seq"]: e["reason"] for e in page["events"]}
    assert reasons == {5: "payload.book is missing", 6: "unknown event type 'TillExploded'"}
    assert page["events"][0]["event"]["type"] == "TillExploded"
    status = central_client.get(f"/api/v1/stores/{STORE}/sync", headers=central_admin).json()
    assert status["quarantined"] == 2
    assert status["last_applied_seq"] == 8


def test_an_event_id_already_applied_under_another_seq_is_quarantined(
    central_client, store, central, events
):
    assert push(central_client, store, events[:7]).status_code == 200
    events[7]["event_id"] = events[0]["event_id"]
    response = push(central_client, store, events[7:])
    assert response.json()["quarantined"] == 1
    assert count(central, s.purchases) == 1


def test_an_event_that_clashes_with_central_data_is_quarantined_alone(
    central_client, store, central, events
):
    # The late purchase claims the item ids of the first one: only it is set aside.
    first_items = events[0]["payload"]["items"]
    for item, known in zip(events[7]["payload"]["items"], first_items, strict=False):
        item["item_id"] = known["item_id"]
    response = push(central_client, store, events)
    assert response.json() == {"acked_seq": 8, "applied": 7, "duplicates": 0, "quarantined": 1}
    with central.reading() as conn:
        reason = conn.execute(select(s.quarantine.c.reason)).scalar_one()
    assert reason.startswith("clashes with central's data")
    assert count(central, s.purchases) == 1


def test_text_a_database_cannot_hold_is_quarantined_not_refused(
    central_client, store, central, central_admin, events
):
    events[3]["payload"]["reason"] = "écran\x00fissuré"
    events[5]["type"] = "Till\x00Closed"
    response = push(central_client, store, events)
    assert response.status_code == 200, response.text
    assert response.json()["quarantined"] == 2
    page = central_client.get(f"/api/v1/stores/{STORE}/quarantine", headers=central_admin).json()
    assert {e["seq"]: e["reason"] for e in page["events"]} == {
        4: "payload.reason holds a NUL character or an unpaired surrogate",
        6: "event.type holds a NUL character or an unpaired surrogate",
    }
    assert page["events"][0]["type"] == "'Till\\x00Closed'"


def test_the_same_batch_pushed_twice_at_once_is_applied_once(central, store, events):
    batch = {"first_seq": 1, "head_seq": 8, "events": events}
    results: list[Any] = []

    def push_directly() -> None:
        with central.writing() as conn:
            results.append(apply_batch(conn, STORE, batch, now=central.clock.now()))

    threads = [threading.Thread(target=push_directly) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted((r.applied, r.duplicates) for r in results) == [(0, 8), (8, 0)]
    assert count(central, s.events) == 8


def test_an_event_of_another_store_is_quarantined(central_client, store, central, events):
    events[0]["payload"]["store_number"] = 7
    response = push(central_client, store, events[:1])
    assert response.json()["quarantined"] == 1
    assert count(central, s.purchases) == 0


# --- damaged or foreign batches ----------------------------------------------------------------


def test_a_wrong_checksum_refuses_the_whole_batch_and_writes_nothing(
    central_client, store, central, events
):
    checksum = batch_checksum(events)
    events[1]["payload"]["total_cents"] += 1  # damaged on the way
    response = push(central_client, store, events, checksum=checksum)
    assert response.status_code == 422
    assert response.json()["code"] == "batch_invalid"
    assert count(central, s.events) == 0
    assert count(central, s.sync_cursors) == 0


def test_protocol_1_is_served_without_a_checksum(central_client, store, central, events):
    response = push(central_client, store, events, protocol="1")
    assert response.status_code == 200, response.text
    assert response.json()["applied"] == 8


def test_a_protocol_older_than_the_previous_one_is_answered_426(
    central_client, store, central, events
):
    response = push(central_client, store, events, protocol="0")
    assert response.status_code == 426
    assert response.json()["code"] == "protocol_too_old"
    assert response.json()["supported"] == [1, 2]
    assert count(central, s.events) == 0


def test_a_missing_or_unknown_protocol_is_answered_400(central_client, store, central, events):
    for header in (None, "3", "deux"):
        response = push(central_client, store, events, protocol=header)
        assert response.status_code == 400, header
        assert response.json()["code"] == "protocol_unknown"
    assert count(central, s.events) == 0


def test_a_non_contiguous_batch_is_refused(central_client, store, central, events):
    response = push(central_client, store, [events[0], events[2]])
    assert response.status_code == 422
    assert response.json()["code"] == "batch_invalid"
    assert count(central, s.events) == 0


def test_a_batch_over_the_limit_is_refused(central_client, store, central, events):
    central.settings.max_batch_events = 5
    response = push(central_client, store, events)
    assert response.status_code == 422
    assert response.json()["max_events"] == 5


def test_a_store_cannot_push_on_another_stores_url(
    central_client, central_admin, store, central, events
):
    _enrol(central_client, central_admin, 7)
    response = push(central_client, store, events, number=7)
    assert response.status_code == 403
    assert count(central, s.events) == 0


def test_an_unknown_credential_is_answered_401(central_client, store, central, events):
    response = push(central_client, {"Authorization": "Bearer rcs_042_forged"}, events)
    assert response.status_code == 401
    assert count(central, s.events) == 0


# --- read models -------------------------------------------------------------------------------


def test_a_sale_marks_the_items_sold_and_a_return_puts_them_back(
    central_client, store, central, events
):
    bought = [i["label_code"] for i in events[0]["payload"]["items"]]
    sale_id = events[1]["payload"]["ticket_id"]
    push(central_client, store, events[:2])
    assert item_statuses(central) == {
        bought[0]: ("sold", sale_id),
        bought[1]: ("sold", sale_id),
        bought[2]: ("in_stock", None),
    }
    push(central_client, store, events[2:4])
    assert item_statuses(central) == {
        bought[0]: ("in_stock", None),
        bought[1]: ("sold", sale_id),
        bought[2]: ("to_repair", None),
    }


def test_an_item_returned_for_repair_is_not_back_in_stock_at_central(
    central_client, store, central, events
):
    bought = [i["label_code"] for i in events[0]["payload"]["items"]]
    events[2]["payload"]["items"][0]["status"] = "to_repair"  # as the store says of such a return
    push(central_client, store, events[:3], protocol="1")
    assert item_statuses(central)[bought[0]] == ("to_repair", None)


def test_one_batch_leaves_each_item_in_its_last_status(central_client, store, central, events):
    bought = [i["label_code"] for i in events[0]["payload"]["items"]]
    push(central_client, store, events[:4])  # bought, sold, returned, repaired: one batch
    statuses = item_statuses(central)
    assert statuses[bought[0]] == ("in_stock", None)
    assert statuses[bought[1]][0] == "sold"
    assert statuses[bought[2]] == ("to_repair", None)


def test_the_business_day_is_the_stores_local_date(central_client, store, central, events):
    push(central_client, store, events)
    with central.reading() as conn:
        late = conn.execute(
            select(s.purchases.c.occurred_at, s.purchases.c.business_day).order_by(
                s.purchases.c.occurred_at
            )
        ).all()[-1]
    assert late.occurred_at == datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    assert late.business_day.isoformat() == "2026-11-21"  # 00:30 in Paris


def test_the_store_reads_its_day_as_central_computed_it(central_client, store, events):
    push(central_client, store, events)
    headers = {**store, "Recommerce-Protocol": "2"}
    day = central_client.get(f"/api/v1/sync/stores/{STORE}/days/2026-11-20", headers=headers)
    assert day.status_code == 200, day.text
    body = day.json()
    assert body["purchases"] == {"count": 1, "total_cents": 6000}
    assert body["sales"] == {"count": 1, "total_cents": 10000}
    assert body["returns"] == {"count": 1, "total_cents": -5000}
    assert body["closing"]["grand_total_cents"] == 5000
    assert body["last_applied_seq"] == 8
    next_day = central_client.get(
        f"/api/v1/sync/stores/{STORE}/days/2026-11-21", headers=headers
    ).json()
    assert next_day["purchases"]["count"] == 1
    assert next_day["closing"] is None


# --- visibility --------------------------------------------------------------------------------


def test_head_office_sees_how_far_behind_a_store_is(
    central_client, central_admin, store, central, clock, events
):
    push(central_client, store, events[:3], head_seq=8)
    clock.advance(timedelta(minutes=5))
    status = central_client.get(f"/api/v1/stores/{STORE}/sync", headers=central_admin).json()
    assert status["last_applied_seq"] == 3
    assert status["store_head_seq"] == 8
    assert status["lag_events"] == 5
    assert status["lag_seconds"] == 300
    push(central_client, store, events[3:])
    overview = central_client.get("/api/v1/sync/overview", headers=central_admin).json()
    assert [(o["store_number"], o["lag_events"], o["lag_seconds"]) for o in overview] == [
        (STORE, 0, 0)
    ]


def test_the_metrics_count_applied_duplicate_and_quarantined_events(central_client, store, events):
    events[5]["payload"] = "nonsense"
    push(central_client, store, events)
    push(central_client, store, events[:2])
    text = central_client.get("/metrics").text
    assert 'recommerce_sync_events_applied_total{store="042",type="PurchaseRecorded"} 2.0' in text
    assert 'recommerce_sync_events_duplicate_total{store="042",type="TicketValidated"} 1.0' in text
    assert (
        'recommerce_sync_events_quarantined_total{store="042",type="TillSessionClosed"} 1.0' in text
    )
    assert "recommerce_sync_batch_apply_seconds_count 2.0" in text


# --- reconciliation ----------------------------------------------------------------------------


def test_reconcile_agrees_when_central_has_every_event_of_the_day(
    central_client, store, central, events
):
    push(central_client, store, events)
    with central.reading() as conn:
        reports = {r.day.isoformat(): r for r in reconcile(conn, store_number=STORE)}
    assert reports["2026-11-20"].status == "agrees", reports["2026-11-20"].differences
    assert reports["2026-11-21"].status == "no_closing"


def test_reconcile_finds_the_sale_central_never_applied(central_client, store, central, events):
    events[1]["payload"]["lines"] = "lost"  # the sale is quarantined: central misses it
    push(central_client, store, events)
    with central.reading() as conn:
        (report,) = reconcile(conn, store_number=STORE, day=datetime(2026, 11, 20).date())
    assert report.status == "differs"
    figures = {d.figure: (d.central, d.store) for d in report.differences}
    assert figures["closing.sales_count"] == (0, 1)
    assert figures["closing.total_cents"] == (-5000, 5000)
    assert figures["closing.grand_total_cents"] == (-5000, 5000)
    # The day totals the store declared with its closing point at the same sale.
    assert events[6]["payload"]["day_totals"]["sales"] == {"count": 1, "total_cents": 10000}
    assert figures["sales.count"] == (0, 1)
    assert figures["sales.total_cents"] == (0, 10000)
    assert "purchases.count" not in figures


@pytest.fixture
def central_env(central: CentralNode, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI's settings point at the test's central."""
    monkeypatch.setenv("RECOMMERCE_CENTRAL_DATABASE_URL", central.settings.effective_database_url)
    monkeypatch.setenv("RECOMMERCE_CENTRAL_DATA_DIR", str(Path(central.settings.data_dir)))
    yield


def test_the_reconcile_command_exits_1_on_a_difference(
    central_client, store, central, events, central_env
):
    events[1]["payload"]["lines"] = "lost"
    push(central_client, store, events)
    runner = CliRunner()
    result = runner.invoke(cli_app, ["central", "reconcile", "--store", "42", "--json"])
    assert result.exit_code == 1, result.output
    body = json.loads(result.output)
    assert [(d["day"], d["status"]) for d in body["days"]] == [
        ("2026-11-20", "differs"),
        ("2026-11-21", "no_closing"),
    ]
    agrees = runner.invoke(cli_app, ["central", "reconcile", "--day", "2026-11-21"])
    assert agrees.exit_code == 0, agrees.output
    assert "no closing received yet" in agrees.output
