"""A store node enrolled at a central app, both in this process: the fixtures of the tests
that exercise the two together (sync, marketplace)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from helpers import purchase_body
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from recommerce.central.bootstrap import CentralNode
from recommerce.central.services.catalog import seed_demo_catalogue
from recommerce.store.bootstrap import StoreNode
from recommerce.store.sync import state
from recommerce.store.sync.client import CentralClient
from recommerce.store.sync.enrolment import enrol
from recommerce.store.sync.feed import FeedPuller, PullStatus
from recommerce.store.sync.pusher import Pusher

STORE = 42  # the `node` fixture's store number
CENTRAL_URL = "http://testserver"
TODAY = date(2026, 11, 20)  # the fixed clock's day in Paris
Headers = Callable[[str], dict[str, str]]


@pytest.fixture
def central_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """Central on the store's own backend: one pairing per backend rather than every pair."""
    if make_url(database_url).get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'central.db'}"
        return
    schema = f"c_{uuid.uuid4().hex[:12]}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def code(central: CentralNode, central_client: TestClient, central_admin: dict[str, str]) -> str:
    """Store 42 registered at central, which has the demo catalogue; its one-time code."""
    with central.writing() as conn:
        seed_demo_catalogue(conn, now=central.clock.now())
    response = central_client.post(
        "/api/v1/stores",
        json={"number": STORE, "name": "Magasin de Lyon Part-Dieu", "city": "Lyon"},
        headers=central_admin,
    )
    assert response.status_code == 201, response.text
    response = central_client.post(f"/api/v1/stores/{STORE}/enrolment-codes", headers=central_admin)
    assert response.status_code == 201, response.text
    return str(response.json()["code"])


@pytest.fixture
def enrolled(node: StoreNode, central_client: TestClient, code: str) -> StoreNode:
    """Store 42 enrolled. Its app runs no worker here: tests drive the push and the feed."""
    node.settings.sync_enabled = False
    loaded = enrol(node, central_client, central_url=CENTRAL_URL, code=code)
    assert loaded.status is PullStatus.SNAPSHOT
    return node


def sync_client(node: StoreNode, http: httpx.Client) -> CentralClient:
    with node.reading() as conn:
        current = state.load_state(conn, node.vault)
    assert current is not None
    return CentralClient(
        http,
        store_number=STORE,
        credential=current.credential,
        protocol=node.settings.sync_protocol_version,
    )


@pytest.fixture
def pusher(enrolled: StoreNode, central_client: TestClient) -> Pusher:
    return Pusher(enrolled, sync_client(enrolled, central_client))


@pytest.fixture
def puller(enrolled: StoreNode, central_client: TestClient) -> FeedPuller:
    return FeedPuller(enrolled, sync_client(enrolled, central_client))


def buy(client: TestClient, login: Headers, article_id: Callable[[str], str]) -> str:
    """Two phones bought from the public for 100 EUR (one event); the first one's label."""
    lines = [
        {"article_id": article_id("iphone 12"), "grade": "B", "agreed_price_cents": 5000}
        for _ in range(2)
    ]
    bought = client.post("/api/v1/purchases", json=purchase_body(lines), headers=login("acheteur"))
    assert bought.status_code == 201, bought.text
    return str(bought.json()["items"][0]["label_code"])
