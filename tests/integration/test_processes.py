"""Store nodes and central as real processes, as the sync fault tests and the chain simulator
run them: a node killed with SIGKILL comes back on the same port with what it had committed."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from recommerce.central.settings import CentralSettings
from recommerce.sim.processes import (
    central_admin_headers,
    central_process,
    init_central,
    init_store,
    register_and_enrol,
    register_store,
    store_process,
)
from recommerce.sim.proxy import FaultProxy
from recommerce.store.bootstrap import bootstrap
from recommerce.store.seed import DEMO_PASSWORD
from recommerce.store.settings import StoreSettings
from recommerce.store.sync.state import load_state


def _store_settings(data_dir: Path, database_url: str) -> StoreSettings:
    return StoreSettings(
        environment="test",
        data_dir=data_dir,
        database_url=database_url,
        store_number=7,
        store_name="Magasin de Lyon Part-Dieu",
        store_city="Lyon",
        identity_key=SecretStr(Fernet.generate_key().decode()),
    )


def _central_settings(data_dir: Path, database_url: str) -> CentralSettings:
    return CentralSettings(environment="test", data_dir=data_dir, database_url=database_url)


def _log_in(client: httpx.Client, username: str, password: str = DEMO_PASSWORD) -> httpx.Response:
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def test_a_killed_store_node_restarts_on_its_port_with_what_it_committed(tmp_path: Path) -> None:
    # SQLite, as in a store (central's test below runs on each backend: the same code passes
    # either database's URL to the process).
    settings = _store_settings(tmp_path / "store", f"sqlite:///{tmp_path / 'store.db'}")
    init_store(settings)
    with store_process(settings) as store:
        first_pid, port = store.pid, store.port
        with httpx.Client(base_url=store.url, trust_env=False, timeout=10) as client:
            # Logging in commits a token row; the restarted process knows it only from the
            # database (its token cache starts empty).
            token = _log_in(client, "caissier").json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            assert client.get("/api/v1/auth/me", headers=headers).status_code == 200

            store.kill()
            assert not store.running
            assert store.returncode == -9
            with pytest.raises(httpx.TransportError):
                client.get("/healthz")

            store.restart()
            assert (store.port, store.url) == (port, f"http://127.0.0.1:{port}")
            assert store.pid != first_pid
            assert client.get("/healthz").json()["store_number"] == 7
            me = client.get("/api/v1/auth/me", headers=headers)
            assert me.status_code == 200, me.text
            assert me.json()["username"] == "caissier"
    assert not store.running
    log = store.log_path.read_text()
    assert store.log_path.parent == (tmp_path / "store").resolve()
    assert "start 1 on port" in log and "start 2 on port" in log


def test_a_killed_central_restarts_on_its_port_with_what_it_committed(
    tmp_path: Path, central_database_url: str
) -> None:
    settings = _central_settings(tmp_path / "central", central_database_url)
    init_central(settings)
    init_central(settings)  # twice is harmless, as `central init` run again
    with central_process(settings) as central:
        first_pid = central.pid
        headers = central_admin_headers(central.url)
        code = register_store(central.url, headers, number=12, name="Magasin 012", city="Nantes")
        assert code

        central.kill()
        assert central.returncode == -9
        central.restart()

        assert central.pid != first_pid
        with httpx.Client(base_url=central.url, trust_env=False, timeout=10) as client:
            stores = client.get("/api/v1/stores", headers=headers)  # its token survived too
            assert client.get("/healthz").json() == {"status": "ok", "service": "central"}
        assert stores.status_code == 200, stores.text
        assert [(s["number"], s["city"]) for s in stores.json()] == [(12, "Nantes")]


def test_a_node_that_cannot_start_says_why(tmp_path: Path) -> None:
    settings = _central_settings(tmp_path / "central", "postgresql+psycopg://nobody@127.0.0.1:1/x")
    process = central_process(settings)
    process.startup_timeout = 30
    with pytest.raises(RuntimeError, match="central stopped") as failure:
        process.start()
    assert "connection" in str(failure.value).lower()
    assert not process.running


def test_a_store_enrolled_through_a_proxy_keeps_the_proxy_as_its_central(
    tmp_path: Path, central_database_url: str
) -> None:
    central_settings = _central_settings(tmp_path / "central", central_database_url)
    init_central(central_settings)
    store_settings = _store_settings(tmp_path / "store", f"sqlite:///{tmp_path / 'store.db'}")
    init_store(store_settings)
    with (
        central_process(central_settings) as central,
        FaultProxy.in_front_of(central.url) as proxy,
    ):
        register_and_enrol(central.url, store_settings, store_central_url=proxy.url)
        with httpx.Client(base_url=central.url, trust_env=False, timeout=10) as client:
            stores = client.get("/api/v1/stores", headers=central_admin_headers(central.url))
        through_proxy = proxy.stats()
    assert through_proxy.connections >= 1 and through_proxy.bytes_to_client > 0
    assert stores.json()[0]["number"] == 7
    assert stores.json()[0]["enrolled_at"] is not None
    node = bootstrap(store_settings)
    try:
        with node.reading() as conn:
            state = load_state(conn, node.vault)
    finally:
        node.engine.dispose()
    assert state is not None
    assert state.central_url == proxy.url
    assert state.credential.startswith("rcs_007_")
