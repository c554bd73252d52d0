"""Shared fixtures: a store node on SQLite, and on PostgreSQL when RECOMMERCE_TEST_DATABASE_URL
is set (then an unreachable server fails the run instead of skipping)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from recommerce.central.app import create_app as create_central_app
from recommerce.central.bootstrap import CentralNode
from recommerce.central.bootstrap import bootstrap as bootstrap_central
from recommerce.central.services.users import UserRole, create_user
from recommerce.central.settings import CentralSettings
from recommerce.clock import FixedClock
from recommerce.store.app import create_app
from recommerce.store.bootstrap import StoreNode, bootstrap
from recommerce.store.seed import DEMO_PASSWORD, seed_catalog, seed_demo_staff
from recommerce.store.settings import StoreSettings

PG_URL = os.environ.get("RECOMMERCE_TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgres"] if PG_URL else ["sqlite"]
NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
CENTRAL_ADMIN = "siege"


def pytest_sessionstart(session: pytest.Session) -> None:
    if PG_URL:
        try:
            engine = create_engine(_psycopg(PG_URL))
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
        except Exception as exc:  # CI sets the URL: an unreachable server is a failure
            raise pytest.UsageError(
                f"RECOMMERCE_TEST_DATABASE_URL is set but PostgreSQL is unreachable: {exc}"
            ) from exc


def _psycopg(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


@contextmanager
def _fresh_database(backend: str, tmp_path: Path, name: str) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a PostgreSQL schema dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / f'{name}.db'}"
        return
    assert PG_URL
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_psycopg(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(_psycopg(PG_URL)).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The store node's database, on each backend."""
    with _fresh_database(request.param, tmp_path, "store") as url:
        yield url


@pytest.fixture(params=BACKENDS)
def central_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Central's database, on each backend."""
    with _fresh_database(request.param, tmp_path, "central") as url:
        yield url


@pytest.fixture
def central(central_database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[CentralNode]:
    """Central on a fresh database, with the demo admin account `siege`."""
    settings = CentralSettings(
        environment="test", data_dir=tmp_path / "central", database_url=central_database_url
    )
    node = bootstrap_central(settings, clock=clock)
    with node.writing() as conn:
        create_user(
            conn,
            username=CENTRAL_ADMIN,
            full_name="Siège",
            role=UserRole.ADMIN,
            password=DEMO_PASSWORD,
            at=clock.now(),
        )
    yield node
    node.engine.dispose()


@pytest.fixture
def central_client(central: CentralNode) -> Iterator[TestClient]:
    with TestClient(create_central_app(central), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def central_admin(central_client: TestClient) -> dict[str, str]:
    """Bearer headers of central's admin."""
    response = central_client.post(
        "/api/v1/auth/token", json={"username": CENTRAL_ADMIN, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def node(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path, clock: FixedClock
) -> Iterator[StoreNode]:
    settings = StoreSettings(
        environment="test",
        data_dir=tmp_path,
        database_url=database_url,
        store_number=42,
        store_name="Magasin de Lyon Part-Dieu",
        store_city="Lyon",
        identity_key=Fernet.generate_key().decode(),
        # Opening a till before selling is its own rule (tests marked `till_sessions`); the
        # other tests sell on tills that need no opening.
        till_requires_open_session=request.node.get_closest_marker("till_sessions") is not None,
    )
    store = bootstrap(settings, clock=clock)
    with store.uow() as uow:
        seed_catalog(uow.conn)
        seed_demo_staff(uow.conn, at=clock.now())
        uow.commit()
    yield store
    store.engine.dispose()


@pytest.fixture
def client(node: StoreNode) -> Iterator[TestClient]:
    with TestClient(create_app(node), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def login(client: TestClient) -> Callable[[str], dict[str, str]]:
    """Bearer headers for a demo account: buyer 'acheteur', manager 'gerant', admin 'admin',
    cashier 'caissier'."""
    cache: dict[str, dict[str, str]] = {}

    def headers(username: str) -> dict[str, str]:
        if username not in cache:
            response = client.post(
                "/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD}
            )
            assert response.status_code == 200, response.text
            cache[username] = {"Authorization": f"Bearer {response.json()['access_token']}"}
        return cache[username]

    return headers


@pytest.fixture
def article_id(client: TestClient, login: Callable[[str], dict[str, str]]) -> Callable[[str], str]:
    def find(text_query: str) -> str:
        found = client.get(
            "/api/v1/articles", params={"q": text_query}, headers=login("acheteur")
        ).json()
        assert found, f"no article matches {text_query!r}"
        return str(found[0]["id"])

    return find
