"""The downstream feed as a store reads it: after a cursor, waiting for news (long poll), and
starting over from the snapshot when its cursor is older than what central keeps."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from helpers import enrolled_store_headers
from sqlalchemy import func, select

from recommerce.central.api import feed as feed_api
from recommerce.central.bootstrap import CentralNode, bootstrap
from recommerce.central.db import catalog_tables as c
from recommerce.central.services.catalog import CategoryInput, put_category, seed_demo_catalogue
from recommerce.central.services.feed import prune
from recommerce.clock import FixedClock
from recommerce.sync.protocol import PROTOCOL_HEADER

GRADES = {"A": "Comme neuf.", "B": "Bon état.", "C": "Usé.", "D": "Pour pièces."}


@pytest.fixture
def store7(central_client: TestClient, central_admin: dict[str, str]) -> dict[str, str]:
    return enrolled_store_headers(central_client, central_admin, 7)


def _category(code: str, name: str = "Catégorie") -> CategoryInput:
    return CategoryInput(code=code, name=name, precious_metal=False, grades=GRADES)


def _write_category(central: CentralNode, code: str, name: str = "Catégorie") -> None:
    with central.writing() as conn:
        put_category(conn, _category(code, name), now=central.clock.now())


def _read(
    client: TestClient, headers: dict[str, str], store: int = 7, **params: Any
) -> tuple[int, Any]:
    response = client.get(f"/api/v1/sync/stores/{store}/feed", params=params, headers=headers)
    return response.status_code, response.json()


def _timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.monotonic()
    result = call()
    return time.monotonic() - started, result


def test_a_store_reads_its_feed_after_its_cursor(
    central_client: TestClient,
    central_admin: dict[str, str],
    central: CentralNode,
    store7: dict[str, str],
) -> None:
    status, body = _read(central_client, store7, after=0)
    assert (status, body) == (200, {"events": [], "head": 0})
    for code in ("phones", "consoles", "tvs"):
        _write_category(central, code)

    status, body = _read(central_client, store7, after=0)
    assert status == 200
    assert body["head"] == 3
    assert [e["seq"] for e in body["events"]] == [1, 2, 3]
    first = body["events"][0]
    assert first["type"] == "CategoryUpserted"
    assert first["schema_version"] == 1
    assert first["created_at"].startswith("2026-11-20T10:30:00")
    assert first["payload"] == {
        "code": "phones",
        "name": "Catégorie",
        "precious_metal": False,
        "grades": GRADES,
    }
    status, body = _read(central_client, store7, after=1, limit=1)
    assert [e["payload"]["code"] for e in body["events"]] == ["consoles"]
    assert _read(central_client, store7, after=3)[1] == {"events": [], "head": 3}


def test_a_long_poll_answers_as_soon_as_a_row_is_committed(
    central_client: TestClient,
    central: CentralNode,
    store7: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No periodic look at the database within the test: only the commit can wake the request.
    monkeypatch.setattr(feed_api, "RECHECK_S", 60.0)

    def write_later() -> None:
        time.sleep(0.3)
        _write_category(central, "phones", "Téléphones")

    writer = threading.Thread(target=write_later)
    writer.start()
    elapsed, (status, body) = _timed(lambda: _read(central_client, store7, after=0, wait=20))
    writer.join()
    assert status == 200
    assert [e["payload"]["name"] for e in body["events"]] == ["Téléphones"]
    assert 0.3 <= elapsed < 10


def test_a_long_poll_sees_rows_written_by_another_process(
    central_client: TestClient, central: CentralNode, store7: dict[str, str]
) -> None:
    # Another process: its own engine on the same database, whose commits notify nobody here.
    other = bootstrap(central.settings, clock=central.clock, migrate=False)

    def write_later() -> None:
        time.sleep(0.2)
        _write_category(other, "phones")

    writer = threading.Thread(target=write_later)
    writer.start()
    try:
        elapsed, (status, body) = _timed(lambda: _read(central_client, store7, after=0, wait=20))
    finally:
        writer.join()
        other.engine.dispose()
    assert status == 200
    assert len(body["events"]) == 1
    assert elapsed < 10  # the periodic look (every second) found it, long before `wait`


def test_a_long_poll_with_nothing_new_answers_empty_once_its_wait_is_over(
    central_client: TestClient, central: CentralNode, store7: dict[str, str]
) -> None:
    central.settings.feed_wait_max_s = 0.5  # the longest central holds a request
    elapsed, (status, body) = _timed(lambda: _read(central_client, store7, after=0, wait=25))
    assert (status, body) == (200, {"events": [], "head": 0})
    assert 0.5 <= elapsed < 5


def test_a_cursor_older_than_the_history_kept_reloads_the_snapshot(
    central_client: TestClient,
    central_admin: dict[str, str],
    central: CentralNode,
    store7: dict[str, str],
    clock: FixedClock,
) -> None:
    with central.writing() as conn:
        seed_demo_catalogue(conn, now=clock.now())  # 11 categories, then 38 articles: seq 49
    assert central_client.put(
        "/api/v1/configuration/receipt.footer",
        json={"value": "Merci de votre visite"},
        headers=central_admin,
    ).json()["changed"]
    with central.writing() as conn:
        assert prune(conn, 10) == 40
    status, problem = _read(central_client, store7, after=5)
    assert status == 410
    assert problem["code"] == "feed_cursor_too_old"
    assert (problem["oldest_seq"], problem["head_seq"]) == (41, 50)
    assert _read(central_client, store7, after=40)[0] == 200  # the oldest cursor still served

    response = central_client.get("/api/v1/sync/stores/7/snapshot", headers=store7)
    assert response.status_code == 200, response.text
    snapshot = response.json()
    assert snapshot["feed_seq"] == 50
    assert len(snapshot["categories"]) == 11
    phones = next(k for k in snapshot["categories"] if k["code"] == "phones")
    assert set(phones["grades"]) == {"A", "B", "C", "D"}
    assert len(snapshot["articles"]) == 38
    iphone = next(a for a in snapshot["articles"] if a["model"] == "iPhone 12 64 Go")
    assert iphone["reference_new_price_cents"] == 90900
    assert snapshot["configuration"] == {"receipt.footer": "Merci de votre visite"}
    assert _read(central_client, store7, after=snapshot["feed_seq"])[1] == {
        "events": [],
        "head": 50,
    }


def test_a_cursor_ahead_of_the_feed_reloads_the_snapshot_too(
    central_client: TestClient, store7: dict[str, str]
) -> None:
    # E.g. central restored from a backup older than what the store has applied.
    status, problem = _read(central_client, store7, after=12)
    assert (status, problem["code"], problem["head_seq"]) == (410, "feed_cursor_too_old", 0)


def test_a_feed_longer_than_its_retention_is_pruned_as_it_grows(
    central_client: TestClient,
    central_admin: dict[str, str],
    central: CentralNode,
    store7: dict[str, str],
) -> None:
    central.settings.feed_retention_events = 10
    for n in range(12):
        central_client.put(
            f"/api/v1/catalog/categories/cat_{n:02d}",
            json={"name": f"Catégorie {n}", "grades": GRADES},
            headers=central_admin,
        )
    with central.reading() as conn:
        head = conn.execute(select(c.feed_heads).where(c.feed_heads.c.store_number == 7)).one()
        kept = conn.execute(select(func.count()).select_from(c.feed)).scalar_one()
    # 11 rows are tolerated (10 % over); the 12th prunes back to the newest 10.
    assert (head.head_seq, head.oldest_seq, kept) == (12, 3, 10)
    assert _read(central_client, store7, after=1)[0] == 410
    assert [e["seq"] for e in _read(central_client, store7, after=2)[1]["events"]] == list(
        range(3, 13)
    )


def test_a_store_reads_only_its_own_feed_and_snapshot(
    central_client: TestClient,
    central_admin: dict[str, str],
    central: CentralNode,
    store7: dict[str, str],
) -> None:
    store8 = enrolled_store_headers(central_client, central_admin, 8)
    _write_category(central, "phones")
    status, problem = _read(central_client, store7, store=8, after=0)
    assert (status, problem["code"]) == (403, "forbidden")
    snapshot = central_client.get("/api/v1/sync/stores/8/snapshot", headers=store7)
    assert snapshot.status_code == 403
    assert _read(central_client, store8, store=8, after=0)[1]["head"] == 1
    unknown = {**store7, "Authorization": "Bearer rcs_007_forged"}
    assert _read(central_client, unknown, after=0)[0] == 401
    assert _read(central_client, central_admin, after=0)[0] == 401  # a user is not a store


def test_a_feed_request_must_say_its_protocol(
    central_client: TestClient, store7: dict[str, str]
) -> None:
    without = {k: v for k, v in store7.items() if k != PROTOCOL_HEADER}
    status, problem = _read(central_client, without, after=0)
    assert (status, problem["code"]) == (400, "protocol_unknown")
    old = {**store7, PROTOCOL_HEADER: "0"}
    status, problem = _read(central_client, old, after=0)
    assert (status, problem["code"]) == (426, "protocol_too_old")
    response = central_client.get("/api/v1/sync/stores/7/snapshot", headers=without)
    assert response.status_code == 400
    status, problem = _read(central_client, store7, after=-1)
    assert (status, problem["field"]) == (422, "after")
