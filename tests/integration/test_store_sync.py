"""The store's side of the sync protocol against central's real app: enrolment, the push of the
outbox, the feed, status and reconciliation (docs/sync-protocol.md)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from store_and_central import (  # noqa: F401  (fixtures)
    CENTRAL_URL,
    STORE,
    TODAY,
    Headers,
    buy,
    central_database_url,
    code,
    enrolled,
    puller,
    pusher,
    sync_client,
)
from typer.testing import CliRunner

from recommerce.central.bootstrap import CentralNode
from recommerce.central.db import sync_tables as central_tables
from recommerce.central.services.feed import append_to_feeds
from recommerce.cli import app as cli_app
from recommerce.clock import FixedClock
from recommerce.errors import DomainError
from recommerce.store.app import create_app
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t
from recommerce.store.sync import cli as sync_cli
from recommerce.store.sync import state
from recommerce.store.sync.enrolment import enrol
from recommerce.store.sync.feed import FeedPuller, PullStatus
from recommerce.store.sync.pusher import Pusher, PushStatus
from recommerce.store.sync.reconcile import reconcile_day
from recommerce.store.sync.status import sync_status
from recommerce.sync.protocol import PROTOCOL_VERSION


def buy_and_sell(client: TestClient, login: Headers, article_id: Callable[[str], str]) -> str:
    """A purchase, then a sale of one of its phones at the till (two events); the sold label."""
    label = buy(client, login, article_id)
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
    return label


def outbox(node: StoreNode) -> list[Any]:
    with node.engine.connect() as conn:
        return list(conn.execute(select(t.outbox).order_by(t.outbox.c.seq)))


def central_cursor(central: CentralNode) -> int:
    with central.reading() as conn:
        applied = conn.execute(
            select(central_tables.sync_cursors.c.last_applied_seq).where(
                central_tables.sync_cursors.c.store_number == STORE
            )
        ).scalar()
    return int(applied or 0)


def store_state(node: StoreNode) -> state.SyncState:
    with node.reading() as conn:
        current = state.load_state(conn, node.vault)
    assert current is not None
    return current


def central_article(client: TestClient, admin: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {
        "category_code": "phones",
        "brand": "Fairphone",
        "model": "5 256 Go",
        "reference_new_price_cents": 69900,
        **fields,
    }
    response = client.post("/api/v1/catalog/articles", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return dict(response.json())


def command_line_store(
    monkeypatch: pytest.MonkeyPatch, node: StoreNode, central: TestClient
) -> None:
    """`recommerce store ...` commands on this node's database, reaching central's app."""
    settings = node.settings
    assert settings.identity_key is not None
    for name, value in {
        "RECOMMERCE_DATABASE_URL": settings.effective_database_url,
        "RECOMMERCE_DATA_DIR": str(settings.data_dir),
        "RECOMMERCE_IDENTITY_KEY": settings.identity_key.get_secret_value(),
        "RECOMMERCE_STORE_NUMBER": str(STORE),
    }.items():
        monkeypatch.setenv(name, value)
    app = central.app
    monkeypatch.setattr(sync_cli, "connect", lambda url, _: TestClient(app, base_url=url))


def store_article(node: StoreNode, article_id: str) -> Any:
    with node.reading() as conn:
        return conn.execute(select(t.articles).where(t.articles.c.id == article_id)).first()


# --- enrolment --------------------------------------------------------------------------------


def test_an_enrolled_store_keeps_its_credential_encrypted_and_loads_centrals_catalogue(
    node: StoreNode, central_client: TestClient, central_admin: dict[str, str], code: str
) -> None:
    made_at_central = central_article(central_client, central_admin)
    loaded = enrol(node, central_client, central_url=CENTRAL_URL, code=code)
    assert loaded.status is PullStatus.SNAPSHOT
    assert store_article(node, made_at_central["id"]).name == "Fairphone 5 256 Go"
    with node.reading() as conn:
        row = conn.execute(select(t.sync_state)).one()
        demo_articles = conn.execute(select(func.count()).select_from(t.articles)).scalar_one()
    assert not row.credential.startswith("rcs_")  # encrypted at rest
    assert store_state(node).credential.startswith("rcs_042_")
    assert row.central_url == CENTRAL_URL
    assert row.feed_seq == loaded.feed_seq > 0
    assert demo_articles == 39  # the seeded demo articles are central's: same ids, not doubled


def test_store_enroll_on_the_command_line(
    node: StoreNode, central_client: TestClient, code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    command_line_store(monkeypatch, node, central_client)
    runner = CliRunner()
    enrolled = runner.invoke(cli_app, ["store", "enroll", "--central", CENTRAL_URL, "--code", code])
    assert enrolled.exit_code == 0, enrolled.output
    assert "store 42 enrolled with http://testserver" in enrolled.output
    assert "catalogue loaded from central: 38 articles" in enrolled.output
    shown = runner.invoke(cli_app, ["store", "sync", "status", "--json"])
    assert json.loads(shown.output)["enrolled"] is True
    again = runner.invoke(cli_app, ["store", "enroll", "--central", CENTRAL_URL, "--code", code])
    assert again.exit_code == 2
    assert "central refused to enrol store 42" in again.output


def test_a_used_enrolment_code_is_refused_and_changes_nothing(
    enrolled: StoreNode, central_client: TestClient, code: str
) -> None:
    before = store_state(enrolled)
    with pytest.raises(DomainError, match="central refused to enrol store 42") as refused:
        enrol(enrolled, central_client, central_url="http://elsewhere", code=code)
    assert refused.value.code == "enrolment_code_invalid"
    assert store_state(enrolled) == before


def test_enrolling_again_keeps_the_push_cursor_and_the_new_credential_is_used(
    pusher: Pusher,
    central: CentralNode,
    central_client: TestClient,
    central_admin: dict[str, str],
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
) -> None:
    buy_and_sell(client, login, article_id)
    pusher.push_once()
    new_code = central_client.post(f"/api/v1/stores/{STORE}/enrolment-codes", headers=central_admin)
    enrol(pusher.node, central_client, central_url=CENTRAL_URL, code=new_code.json()["code"])
    assert store_state(pusher.node).acked_seq == 2
    buy_and_sell(client, login, article_id)
    # The running pusher still holds the revoked credential; it reads the new one.
    assert pusher.push_once().acked_seq == 4
    assert central_cursor(central) == 4


# --- upstream ---------------------------------------------------------------------------------


def test_a_purchase_and_a_sale_reach_central_and_are_acknowledged(
    pusher: Pusher,
    central: CentralNode,
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
) -> None:
    buy_and_sell(client, login, article_id)
    assert [r.acked_at for r in outbox(pusher.node)] == [None, None]
    result = pusher.push_once()
    assert (result.status, result.sent, result.acked_seq) == (PushStatus.ACKED, 2, 2)
    assert result.retry_in is None  # nothing more to send: wait for the next commit
    assert all(r.acked_at is not None for r in outbox(pusher.node))
    assert central_cursor(central) == 2
    current = store_state(pusher.node)
    assert (current.acked_seq, current.last_ack_at) == (2, pusher.node.clock.now())
    assert pusher.push_once().status is PushStatus.IDLE
    assert len(outbox(pusher.node)) == 2  # the outbox is the store's history: never deleted


def test_a_backlog_goes_in_contiguous_batches_of_the_configured_size(
    pusher: Pusher,
    central: CentralNode,
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
) -> None:
    for _ in range(3):
        buy_and_sell(client, login, article_id)
    pusher.node.settings.sync_batch_size = 4
    first = pusher.push_once()
    assert (first.status, first.sent, first.acked_seq, first.retry_in) == (
        PushStatus.ACKED,
        4,
        4,
        0.0,
    )
    second = pusher.push_once()
    assert (second.sent, second.acked_seq, second.retry_in) == (2, 6, None)
    assert central_cursor(central) == 6


def test_the_next_batch_read_ahead_during_a_push_still_takes_later_sales(
    pusher: Pusher,
    central: CentralNode,
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
) -> None:
    for _ in range(2):
        buy_and_sell(client, login, article_id)
    pusher.node.settings.sync_batch_size = 3
    assert pusher.push_once().acked_seq == 3  # events 4 and on are read meanwhile
    buy_and_sell(client, login, article_id)  # events 5 and 6, committed after the read-ahead
    assert pusher.push_once().acked_seq == 4
    last = pusher.push_once()
    assert (last.acked_seq, last.retry_in) == (6, None)
    assert central_cursor(central) == 6
    assert [row.acked_at is not None for row in outbox(pusher.node)] == [True] * 6
    pusher.close()


def test_the_push_restarts_from_the_seq_central_expects(
    pusher: Pusher,
    central: CentralNode,
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
) -> None:
    buy_and_sell(client, login, article_id)
    pusher.push_once()
    buy_and_sell(client, login, article_id)
    # The store believes central holds event 3, but central was restored from a backup.
    with state.transaction(pusher.node) as conn:
        state.record_ack(conn, 3, at=pusher.node.clock.now())
    restarted = pusher.push_once()
    assert (restarted.status, restarted.acked_seq, restarted.retry_in) == (
        PushStatus.RESTARTED,
        2,
        0.0,
    )
    assert [r.acked_at is not None for r in outbox(pusher.node)] == [True, True, False, False]
    assert pusher.push_once().acked_seq == 4
    assert central_cursor(central) == 4


def test_central_holding_more_events_than_the_store_wrote_stops_the_push(
    pusher: Pusher,
    central: CentralNode,
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
) -> None:
    buy_and_sell(client, login, article_id)
    pusher.push_once()
    buy_and_sell(client, login, article_id)
    # Central already holds 9 events of store 42: another database pushed with this credential.
    with central.writing() as conn:
        conn.execute(
            update(central_tables.sync_cursors)
            .where(central_tables.sync_cursors.c.store_number == STORE)
            .values(last_applied_seq=9)
        )
    # Events 3 and 4 look like duplicates to central: taking its acknowledgement would lose them.
    assert pusher.push_once().status is PushStatus.HALTED
    assert pusher.push_once().status is PushStatus.HALTED  # nothing is sent any more
    figures = sync_status(pusher.node)
    assert figures.blocked_reason is not None
    assert "central acknowledges event 9 but the store sent events up to 4" in (
        figures.blocked_reason
    )
    assert (figures.acked_seq, figures.queue_events) == (2, 2)
    assert [r.acked_at is not None for r in outbox(pusher.node)] == [True, True, False, False]
    assert central_cursor(central) == 9


def test_a_store_on_the_previous_protocol_sends_batches_without_checksum(
    enrolled: StoreNode,
    central: CentralNode,
    central_client: TestClient,
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
) -> None:
    enrolled.settings.sync_protocol_version = PROTOCOL_VERSION - 1
    sent: list[httpx.Request] = []
    central_client.event_hooks["request"].append(sent.append)
    buy_and_sell(client, login, article_id)
    result = Pusher(enrolled, sync_client(enrolled, central_client)).push_once()
    assert result.status is PushStatus.ACKED
    assert central_cursor(central) == 2
    (request,) = [r for r in sent if r.url.path.endswith("/events")]
    assert request.headers["Recommerce-Protocol"] == str(PROTOCOL_VERSION - 1)
    assert request.headers["Recommerce-Schema"] == "1"
    body = json.loads(request.content)
    assert "checksum" not in body
    assert body["events"][0]["occurred_at"] == "2026-11-20T10:30:00Z"


def test_a_store_too_old_for_central_keeps_selling_and_queueing(
    enrolled: StoreNode,
    central: CentralNode,
    central_client: TestClient,
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
) -> None:
    enrolled.settings.sync_protocol_version = PROTOCOL_VERSION - 2
    pusher = Pusher(enrolled, sync_client(enrolled, central_client))
    buy_and_sell(client, login, article_id)
    refused = pusher.push_once()
    assert refused.status is PushStatus.UPGRADE_REQUIRED
    assert refused.retry_in is not None and refused.retry_in >= 60  # asks again slowly
    buy_and_sell(client, login, article_id)  # the store still buys and sells
    figures = client.get("/api/v1/sync/status", headers=login("gerant")).json()
    assert figures["queue_events"] == 4
    assert "upgrade the store" in figures["blocked_reason"]
    assert central_cursor(central) == 0
    enrolled.settings.sync_protocol_version = PROTOCOL_VERSION  # the store is upgraded
    upgraded = Pusher(enrolled, sync_client(enrolled, central_client)).push_once()
    assert (upgraded.status, upgraded.acked_seq) == (PushStatus.ACKED, 4)
    assert sync_status(enrolled).blocked_reason is None


def test_an_unreachable_central_is_retried_with_backoff_while_the_store_sells(
    enrolled: StoreNode, client: TestClient, login: Headers, article_id: Callable[[str], str]
) -> None:
    buy_and_sell(client, login, article_id)
    with httpx.Client(base_url="http://127.0.0.1:9", timeout=2) as nowhere:
        pusher = Pusher(enrolled, sync_client(enrolled, nowhere))
        delays = [pusher.push_once() for _ in range(3)]
    assert {d.status for d in delays} == {PushStatus.UNAVAILABLE}
    assert pusher.backoff.attempts == 3
    figures = sync_status(enrolled)
    assert figures.queue_events == 2
    assert figures.last_error is not None and "cannot be reached" in figures.last_error
    assert figures.blocked_reason is None


# --- downstream -------------------------------------------------------------------------------


def test_the_feed_applies_an_article_made_at_central_with_its_cursor(
    puller: FeedPuller, central_client: TestClient, central_admin: dict[str, str]
) -> None:
    cursor = store_state(puller.node).feed_seq
    assert cursor is not None
    made = central_article(central_client, central_admin, gtin="8720261940014")
    result = puller.pull_once(wait=0)
    assert (result.status, result.applied, result.feed_seq) == (
        PullStatus.APPLIED,
        1,
        cursor + 1,
    )
    row = store_article(puller.node, made["id"])
    assert (row.gtin, row.reference_new_price_cents) == ("8720261940014", 69900)
    assert "fairphone" in row.search_text
    assert store_state(puller.node).feed_seq == cursor + 1
    nothing = puller.pull_once(wait=0)
    assert (nothing.status, nothing.feed_seq) == (PullStatus.EMPTY, cursor + 1)


def test_a_feed_row_and_its_cursor_are_saved_together_or_not_at_all(
    puller: FeedPuller,
    central_client: TestClient,
    central_admin: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cursor = store_state(puller.node).feed_seq
    made = central_article(central_client, central_admin)

    def power_cut(*_: Any, **__: Any) -> None:
        raise RuntimeError("power cut before the cursor is saved")

    monkeypatch.setattr(state, "save_feed_seq", power_cut)
    with pytest.raises(RuntimeError):
        puller.pull_once(wait=0)
    assert store_article(puller.node, made["id"]) is None
    assert store_state(puller.node).feed_seq == cursor
    monkeypatch.undo()
    assert puller.pull_once(wait=0).applied == 1
    assert store_article(puller.node, made["id"]) is not None


def test_a_feed_type_the_store_does_not_know_is_skipped(
    puller: FeedPuller,
    central: CentralNode,
    central_client: TestClient,
    central_admin: dict[str, str],
) -> None:
    cursor = store_state(puller.node).feed_seq
    assert cursor is not None
    with central.writing() as conn:
        append_to_feeds(conn, "ReservationRequested", {"order_id": "W-1"}, now=central.clock.now())
    put = central_client.put(
        "/api/v1/configuration/return_window_days", json={"value": 14}, headers=central_admin
    )
    assert put.status_code == 200, put.text
    result = puller.pull_once(wait=0)
    assert (result.status, result.applied, result.skipped, result.feed_seq) == (
        PullStatus.APPLIED,
        1,
        1,
        cursor + 2,
    )
    with puller.node.reading() as conn:
        rows = conn.execute(select(t.store_configuration.c.key, t.store_configuration.c.value))
        saved = {key: value for key, value in rows}
    assert saved == {"return_window_days": 14}


def test_a_cursor_central_no_longer_serves_reloads_the_snapshot(
    puller: FeedPuller,
    central: CentralNode,
    central_client: TestClient,
    central_admin: dict[str, str],
) -> None:
    central.settings.feed_retention_events = 1  # central keeps one row per store
    made = [central_article(central_client, central_admin, model=f"{n} 256 Go") for n in (3, 4, 5)]
    result = puller.pull_once(wait=0)
    assert result.status is PullStatus.SNAPSHOT
    assert all(store_article(puller.node, a["id"]) is not None for a in made)
    head = central_client.get(
        f"/api/v1/sync/stores/{STORE}/snapshot",
        headers={
            "Authorization": f"Bearer {store_state(puller.node).credential}",
            "Recommerce-Protocol": "2",
        },
    ).json()["feed_seq"]
    assert store_state(puller.node).feed_seq == result.feed_seq == head
    assert puller.pull_once(wait=0).status is PullStatus.EMPTY

    # A store enrolled while central could not give the snapshot loads it first.
    with state.transaction(puller.node) as conn:
        conn.execute(update(t.sync_state).values(feed_seq=None))
    assert puller.pull_once(wait=0).status is PullStatus.SNAPSHOT
    assert store_state(puller.node).feed_seq == head


# --- status and reconciliation ----------------------------------------------------------------


def test_sync_status_shows_the_queue_the_lag_and_the_last_acknowledgement(
    pusher: Pusher,
    central_client: TestClient,
    clock: FixedClock,
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    buy_and_sell(client, login, article_id)
    clock.advance(timedelta(minutes=5))
    waiting = client.get("/api/v1/sync/status", headers=login("gerant")).json()
    assert (waiting["enrolled"], waiting["queue_events"], waiting["lag_seconds"]) == (True, 2, 300)
    assert waiting["last_ack_at"] is None
    metrics = client.get("/metrics").text
    assert "recommerce_sync_queue_events 2.0" in metrics
    assert "recommerce_sync_lag_seconds 300.0" in metrics
    assert client.get("/api/v1/sync/status", headers=login("caissier")).status_code == 403

    pusher.push_once()
    command_line_store(monkeypatch, pusher.node, central_client)
    shown = CliRunner().invoke(cli_app, ["store", "sync", "status", "--json"])
    assert shown.exit_code == 0, shown.output
    figures = json.loads(shown.output)
    assert (figures["queue_events"], figures["lag_seconds"], figures["acked_seq"]) == (0, 0, 2)
    assert figures["last_ack_at"] == clock.now().isoformat()
    assert figures["feed_seq"] is not None
    assert "recommerce_sync_last_ack_timestamp_seconds" in client.get("/metrics").text


def close_day(client: TestClient, login: Headers) -> None:
    response = client.post(
        "/api/v1/closings",
        json={"period": "day", "label": TODAY.isoformat()},
        headers=login("gerant"),
    )
    assert response.status_code == 201, response.text


def test_a_daily_closing_declares_the_days_totals_outside_the_signed_record(
    node: StoreNode, client: TestClient, login: Headers, article_id: Callable[[str], str]
) -> None:
    buy_and_sell(client, login, article_id)
    close_day(client, login)
    closed = outbox(node)[-1]
    assert closed.type == "PeriodClosed"
    assert closed.payload["day_totals"] == {
        "purchases": {"count": 1, "total_cents": 10000},
        "sales": {"count": 1, "total_cents": closed.payload["total_cents"]},
        "returns": {"count": 0, "total_cents": 0},
    }
    with node.reading() as conn:
        fields = conn.execute(
            select(t.fiscal_journal.c.fields).where(t.fiscal_journal.c.kind == "closing")
        ).scalar_one()
    assert "day_totals" not in fields


def test_reconcile_agrees_after_sync_and_names_what_central_misses(
    pusher: Pusher,
    central_client: TestClient,
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    buy_and_sell(client, login, article_id)
    close_day(client, login)
    pusher.push_once()
    central_api = sync_client(pusher.node, central_client)
    assert reconcile_day(pusher.node, central_api, TODAY).agrees

    buy(client, login, article_id)  # not pushed: central misses a purchase
    report = reconcile_day(pusher.node, central_api, TODAY)
    assert [(d.figure, d.store, d.central) for d in report.differences] == [
        ("purchases.count", 2, 1),
        ("purchases.total_cents", 20000, 10000),
    ]
    assert (report.store_head_seq, report.central_applied_seq) == (4, 3)

    command_line_store(monkeypatch, pusher.node, central_client)
    runner = CliRunner()
    differs = runner.invoke(cli_app, ["store", "sync", "reconcile", "--day", "2026-11-20"])
    assert differs.exit_code == 1, differs.output
    assert "purchases.count" in differs.output
    pusher.push_once()
    agrees = runner.invoke(cli_app, ["store", "sync", "reconcile", "--day", "2026-11-20"])
    assert agrees.exit_code == 0, agrees.output
    assert "agree" in agrees.output


# --- the worker -------------------------------------------------------------------------------


def test_the_store_app_pushes_a_sale_as_soon_as_it_is_committed(
    enrolled: StoreNode,
    central: CentralNode,
    central_client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Only the wake on commit can bring the events to central within the deadline.
    monkeypatch.setattr("recommerce.store.sync.worker.POLL_S", 60.0)
    enrolled.settings.sync_enabled = True
    enrolled.settings.sync_feed_wait_s = 1
    app = create_app(enrolled, central_http=lambda url: central_client)
    with TestClient(app, raise_server_exceptions=False) as store_client:
        buy_and_sell(store_client, login, article_id)
        deadline = time.monotonic() + 15
        while central_cursor(central) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert central_cursor(central) == 2
        while sync_status(enrolled).queue_events and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sync_status(enrolled).queue_events == 0
    assert all(r.acked_at is not None for r in outbox(enrolled))
