"""The browser tests' world: central served over real HTTP on this machine (uvicorn in a thread of
the test process), a store node driven in this process that syncs with it over that same HTTP,
and Debian's Chromium driven by Playwright.

Without Playwright or Chromium the browser tests are skipped, saying why; in CI
(`CI=true`), which installs both, their absence fails the tests instead."""

from __future__ import annotations

import io
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from PIL import Image
from sqlalchemy.engine import make_url

from recommerce.central.app import create_app as create_central_app
from recommerce.central.bootstrap import CentralNode
from recommerce.central.services.catalog import seed_demo_catalogue
from recommerce.store.app import create_app as create_store_app
from recommerce.store.bootstrap import StoreNode
from recommerce.store.seed import DEMO_PASSWORD
from recommerce.store.sync import state
from recommerce.store.sync.client import CentralClient
from recommerce.store.sync.enrolment import enrol
from recommerce.store.sync.feed import FeedPuller, PullStatus
from recommerce.store.sync.pusher import Pusher, PushStatus

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

# The purchase bodies the integration tests send (a seller with an identity document).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from helpers import purchase_body

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artefacts" / "screenshots"
CENTRAL_ADMIN = "siege"  # made by the root conftest's `central` fixture
STORE = 42  # the root conftest's `node` fixture's store number
DESCRIPTION = "Écran sans rayure, batterie à 89 %, livré avec son câble."


def _unavailable(reason: str) -> NoReturn:
    """Skip a browser test that cannot run here; in CI, which installs the browser, fail it."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: CI must run the browser tests")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright (no browser is ever downloaded). One
    per test module: Playwright's event loop must not outlive the browser tests, whatever runs
    after them in the same process."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (pip install 'playwright>=1.44')")
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium: Browser) -> Iterator[Page]:
    """A fresh French-speaking browser window with JavaScript turned off: the storefront must
    work without it."""
    context = chromium.new_context(
        locale="fr-FR", viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def screenshot() -> Callable[[Page, str], None]:
    """Save a whole page as `test-artefacts/screenshots/<name>.png`."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page: Page, name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return save


# --- the store and central, on SQLite (the browser checks pages, not backends) -----------------


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
def central_database_url(database_url: str, tmp_path: Path) -> str:
    assert make_url(database_url).get_backend_name() == "sqlite"
    return f"sqlite:///{tmp_path / 'central.db'}"


@dataclass(frozen=True)
class LiveCentral:
    """Central's app served over HTTP at `url`, and a client of it."""

    url: str
    app: FastAPI
    http: httpx.Client


@contextmanager
def serve(app: FastAPI, name: str) -> Iterator[str]:
    """An app under uvicorn on 127.0.0.1 and a free port, in a thread of this process: its URL.
    Its lifespan runs as in production (central's indexer and order processor, say)."""
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listening.getsockname()[1]}"
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listening]}, name=f"{name}-http", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"{name}'s HTTP server did not start")
        time.sleep(0.01)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        listening.close()


@pytest.fixture
def live_central(central: CentralNode) -> Iterator[LiveCentral]:
    """Central's app served over HTTP, in a thread of this process."""
    app = create_central_app(central)
    with serve(app, "central") as url, httpx.Client(base_url=url, timeout=10) as http:
        yield LiveCentral(url, app, http)


@pytest.fixture
def live_store(node: StoreNode) -> Iterator[str]:
    """Store 42's app (its screens) served over HTTP, in a thread of this process: its URL. Its
    sync worker does not run (tests that need the sync drive it with `store_sync`)."""
    node.settings.sync_enabled = False
    with serve(create_store_app(node), "store") as url:
        yield url


@dataclass(frozen=True)
class StoreSync:
    """Store 42's side of the sync, driven by the test over central's real HTTP address."""

    pusher: Pusher
    puller: FeedPuller

    def push_all(self) -> None:
        while (
            result := self.pusher.push_once()
        ).status is PushStatus.ACKED and not result.retry_in:
            pass
        assert result.status in (PushStatus.ACKED, PushStatus.IDLE), result

    def answer_the_feed(self) -> None:
        """The store reads its feed (reservation requests) and sends its answers up."""
        self.puller.pull_once(wait=0)
        self.push_all()


@pytest.fixture
def store_sync(node: StoreNode, live_central: LiveCentral) -> StoreSync:
    """Store 42 registered at central (which has the demo catalogue), enrolled through central's
    HTTP address; no sync worker runs: the test drives the push and the feed."""
    central: CentralNode = live_central.app.state.central
    with central.writing() as conn:
        seed_demo_catalogue(conn, now=central.clock.now())
    http = live_central.http
    token = http.post(
        "/api/v1/auth/token", json={"username": CENTRAL_ADMIN, "password": DEMO_PASSWORD}
    )
    assert token.status_code == 200, token.text
    admin = {"Authorization": f"Bearer {token.json()['access_token']}"}
    registered = http.post(
        "/api/v1/stores",
        json={"number": STORE, "name": "Magasin de Lyon Part-Dieu", "city": "Lyon"},
        headers=admin,
    )
    assert registered.status_code == 201, registered.text
    code = http.post(f"/api/v1/stores/{STORE}/enrolment-codes", headers=admin)
    assert code.status_code == 201, code.text
    node.settings.sync_enabled = False
    loaded = enrol(node, http, central_url=live_central.url, code=code.json()["code"])
    assert loaded.status is PullStatus.SNAPSHOT
    with node.reading() as conn:
        current = state.load_state(conn, node.vault)
    assert current is not None

    def client() -> CentralClient:
        return CentralClient(
            httpx.Client(base_url=live_central.url, timeout=10),
            store_number=STORE,
            credential=current.credential,
            protocol=node.settings.sync_protocol_version,
        )

    return StoreSync(Pusher(node, client()), FeedPuller(node, client()))


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1200, 900), (30, 90, 160)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def published_item(
    client: httpx.Client,
    login: Callable[[str], dict[str, str]],
    article_id: Callable[[str], str],
    store_sync: StoreSync,
    live_central: LiveCentral,
) -> Callable[[], str]:
    """Have store 42 buy a phone, photograph and publish it, and central list it: its item id."""

    def publish() -> str:
        line = {
            "article_id": article_id("iphone 12"),
            "grade": "B",
            "agreed_price_cents": 5000,
            "asking_price_cents": 34900,
        }
        bought = client.post(
            "/api/v1/purchases", json=purchase_body([line]), headers=login("acheteur")
        )
        assert bought.status_code == 201, bought.text
        label = bought.json()["items"][0]["label_code"]
        photo = client.post(
            f"/api/v1/items/{label}/photos",
            files={"photo": ("photo.jpg", jpeg(), "image/jpeg")},
            headers=login("gerant"),
        )
        assert photo.status_code == 201, photo.text
        published = client.put(
            f"/api/v1/items/{label}/online",
            json={"published": True, "description": DESCRIPTION},
            headers=login("gerant"),
        )
        assert published.status_code == 200, published.text
        store_sync.push_all()
        assert live_central.app.state.indexer.wait_idle()
        return str(published.json()["item"]["id"])

    return publish
