"""Central's back office: head-office staff log in with a cookie, strangers are sent to the
login page; sync health, the catalogue, the argus, online orders and conflicts read central's
own data; every screen in French and English, every field with its label."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from helpers import enrolled_store_headers

from recommerce.argus.guide import guide_from_payload
from recommerce.catalog.model import Grade
from recommerce.central.bootstrap import CentralNode
from recommerce.central.db import argus_tables as a
from recommerce.central.services.argus import train
from recommerce.central.services.catalog import get_article, seed_demo_catalogue
from recommerce.central.services.users import UserRole, create_user
from recommerce.clock import FixedClock
from recommerce.store.seed import DEMO_PASSWORD
from recommerce.sync.protocol import batch_checksum
from recommerce.web.i18n import money

PARIS = ZoneInfo("Europe/Paris")
SCREENS = (
    "/backoffice/dashboard",
    "/backoffice/sync",
    "/backoffice/catalogue",
    "/backoffice/catalogue/categories",
    "/backoffice/argus",
    "/backoffice/orders",
    "/backoffice/conflicts",
)


class Page(HTMLParser):
    """What a test reads of a page: the text of each element with an id, the form fields, the
    labels, and the language."""

    VOID: ClassVar[set[str]] = {
        "input",
        "br",
        "img",
        "meta",
        "link",
        "hr",
        "col",
        "source",
        "wbr",
        "path",
        "rect",
    }

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: dict[str, list[str]] = {}
        self.fields: list[dict[str, str | None]] = []
        self.labelled: set[str] = set()
        self.lang: str | None = None
        self._open: list[tuple[str, str | None]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.lang = attributes.get("lang")
        if tag == "label" and attributes.get("for"):
            self.labelled.add(str(attributes["for"]))
        if tag in ("input", "select", "textarea") and attributes.get("type") != "hidden":
            self.fields.append(attributes)
        if tag in self.VOID:
            return
        element_id = attributes.get("id")
        if element_id:
            self.ids[element_id] = []
        self._open.append((tag, element_id))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        for n in range(len(self._open) - 1, -1, -1):
            if self._open[n][0] == tag:
                del self._open[n:]
                return

    def handle_data(self, data: str) -> None:
        for _tag, element_id in self._open:
            if element_id:
                self.ids[element_id].append(data)

    def text(self, element_id: str) -> str:
        assert element_id in self.ids, f"no element #{element_id}"
        return " ".join(" ".join(self.ids[element_id]).split())

    def unlabelled(self) -> list[dict[str, str | None]]:
        return [
            f
            for f in self.fields
            if not f.get("aria-label") and (not f.get("id") or f["id"] not in self.labelled)
        ]


def euros(cents: int) -> str:
    """An amount as `Page.text` reads it (spaces made plain)."""
    return " ".join(money(cents).split())


def log_in(client: TestClient, username: str = "siege", password: str = DEMO_PASSWORD) -> Any:
    return client.post(
        "/backoffice/login",
        data={"username": username, "password": password, "next": "/backoffice/sync"},
        follow_redirects=False,
    )


@pytest.fixture
def office(central_client: TestClient) -> TestClient:
    """The back office, logged in as central's admin."""
    response = log_in(central_client)
    assert response.status_code == 303, response.text
    return central_client


def screen(client: TestClient, path: str, **params: str) -> Page:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return Page(response.text)


# --- who may come in ---------------------------------------------------------------------------


def test_a_stranger_is_sent_to_the_login_page_and_back_after_logging_in(
    central_client: TestClient,
) -> None:
    for path in SCREENS:
        response = central_client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/backoffice/login?next={path}"
    lapsed = central_client.get("/backoffice/dashboard", headers={"HX-Request": "true"})
    assert lapsed.status_code == 401
    assert lapsed.headers["HX-Redirect"] == "/backoffice/login?next=/backoffice/dashboard"
    form = screen(central_client, "/backoffice/login", next="/backoffice/sync")
    assert {f.get("name") for f in form.fields} == {"username", "password"}

    answer = log_in(central_client)
    assert answer.status_code == 303 and answer.headers["location"] == "/backoffice/sync"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/backoffice" in cookie
    assert central_client.get("/backoffice/sync").status_code == 200


def test_a_wrong_password_is_refused_on_the_login_page(central_client: TestClient) -> None:
    refused = log_in(central_client, password="not the password")
    assert refused.status_code == 401
    assert "recommerce_backoffice" not in refused.headers.get("set-cookie", "")
    assert 'role="alert"' in refused.text
    assert central_client.get("/backoffice/sync", follow_redirects=False).status_code == 303


def test_a_login_never_sends_anyone_off_the_back_office(central_client: TestClient) -> None:
    answer = central_client.post(
        "/backoffice/login",
        data={"username": "siege", "password": DEMO_PASSWORD, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/backoffice/dashboard"


def test_logging_out_ends_the_session(office: TestClient) -> None:
    session = office.cookies.get("recommerce_backoffice")
    assert session
    response = office.post("/backoffice/logout", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/backoffice/login"
    assert office.get("/backoffice/sync", follow_redirects=False).status_code == 303
    # A copy of the cookie taken before logging out opens nothing either.
    office.cookies.set("recommerce_backoffice", session, path="/backoffice")
    assert office.get("/backoffice/sync", follow_redirects=False).status_code == 303
    bearer = {"Authorization": f"Bearer {session}"}
    assert office.get("/api/v1/stores", headers=bearer).status_code == 401


def test_a_backoffice_user_reads_every_screen(
    central: CentralNode, central_client: TestClient
) -> None:
    with central.writing() as conn:
        create_user(
            conn,
            username="controle",
            full_name="Contrôle de gestion",
            role=UserRole.BACKOFFICE,
            password=DEMO_PASSWORD,
            at=central.clock.now(),
        )
    assert log_in(central_client, "controle").status_code == 303
    for path in SCREENS:
        assert central_client.get(path).status_code == 200, path


# --- languages and labels ----------------------------------------------------------------------


def test_every_screen_speaks_french_and_english_and_labels_its_fields(
    central: CentralNode, office: TestClient
) -> None:
    with central.writing() as conn:
        seed_demo_catalogue(conn, now=central.clock.now())
    for path in SCREENS:
        french = screen(office, path, lang="fr")
        assert french.lang == "fr"
        assert french.unlabelled() == [], f"{path}: fields without a label"
        english = screen(office, path, lang="en")
        assert english.lang == "en"
        assert english.unlabelled() == [], f"{path}: fields without a label"
    assert "Tableau de bord" in office.get("/backoffice/dashboard", params={"lang": "fr"}).text
    english = office.get("/backoffice/dashboard", params={"lang": "en"}).text
    assert "Dashboard" in english and "Tableau de bord" not in english
    assert "Sell-through" in english
    # the choice is remembered
    assert "Sync health" in office.get("/backoffice/sync").text


# --- sync health -------------------------------------------------------------------------------


def test_sync_health_shows_a_stores_last_contact_and_its_quarantine(
    central: CentralNode,
    central_client: TestClient,
    central_admin: dict[str, str],
    office: TestClient,
) -> None:
    credential = enrolled_store_headers(central_client, central_admin, 7)
    enrolled_store_headers(central_client, central_admin, 8)  # enrolled, never heard from
    bad = {
        "seq": 1,
        "event_id": str(uuid.uuid4()),
        "type": "TillExploded",
        "schema_version": 1,
        "occurred_at": "2026-11-20T10:29:00Z",
        "payload": {"till": "T1"},
    }
    pushed = central_client.post(
        "/api/v1/sync/stores/7/events",
        json={"first_seq": 1, "head_seq": 1, "events": [bad], "checksum": batch_checksum([bad])},
        headers=credential,
    )
    assert pushed.status_code == 200, pushed.text
    assert pushed.json()["quarantined"] == 1

    overview = screen(office, "/backoffice/sync", lang="en")
    seen = central.clock.now().astimezone(PARIS)
    row = overview.text("sync-store-7")
    assert f"{seen:%-I}:{seen:%M}" in row  # the last contact, at Paris time (11:30 AM)
    assert "Watch" in row and "Events in quarantine." in row
    assert row.endswith("1")  # the quarantine count
    assert "Down" in overview.text("sync-store-8") and "never" in overview.text("sync-store-8")

    store = screen(office, "/backoffice/sync/7", lang="en")
    assert store.text("quarantine-count") == "1"
    listed = store.text("quarantine-events")
    assert "TillExploded" in listed and "unknown event type 'TillExploded'" in listed
    assert office.get("/backoffice/sync/999").status_code == 404
    assert office.get("/backoffice/sync/99999999999999999999").status_code == 422

    download = office.get("/backoffice/sync/7", params={"format": "csv", "lang": "en"})
    assert download.status_code == 200
    lines = download.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Seq;Event type") and lines[1].startswith("1;TillExploded;")


# --- catalogue and argus -----------------------------------------------------------------------


def test_the_catalogue_is_searched_by_words_and_shows_grade_definitions(
    central: CentralNode, office: TestClient
) -> None:
    with central.writing() as conn:
        seed_demo_catalogue(conn, now=central.clock.now())
    found = screen(office, "/backoffice/catalogue", q="iphone 12", lang="en")
    listed = found.text("articles")
    assert "iPhone 12" in listed and "Samsung" not in listed
    link = re.search(
        r'href="(/backoffice/catalogue/articles/[^"]+)"',
        office.get("/backoffice/catalogue", params={"q": "iphone 12"}).text,
    )
    assert link is not None
    article = office.get(link.group(1))
    assert article.status_code == 200 and "iPhone 12" in article.text
    assert office.get("/backoffice/catalogue/articles/nope").status_code == 404

    categories = screen(office, "/backoffice/catalogue/categories", lang="en")
    phones = categories.text("category-phones")
    assert "Grade" not in phones and len(phones) > 40  # the four written definitions

    download = office.get("/backoffice/catalogue", params={"q": "iphone", "format": "csv"})
    rows = download.content.decode("utf-8-sig").splitlines()
    assert len(rows) > 1 and all("iPhone" in row for row in rows[1:])


def test_the_argus_page_shows_the_guide_in_use_and_an_articles_price_by_grade(
    central: CentralNode, office: TestClient, clock: FixedClock
) -> None:
    with central.writing() as conn:
        seed_demo_catalogue(conn, now=central.clock.now())
    before = screen(office, "/backoffice/argus", lang="en")
    assert "argus-none" in before.ids
    link = re.search(
        r'href="(/backoffice/argus/articles/[^"]+)"',
        office.get("/backoffice/argus", params={"q": "iphone 12"}).text,
    )
    assert link is not None
    fallback = screen(office, link.group(1), lang="en")
    assert "reference-price-rule-v1" in fallback.text("grade-B")

    history = central.settings.data_dir / "history.csv"
    article_id = link.group(1).rsplit("/", 1)[1]
    lines = [
        "sold_on,article_id,category_code,brand,grade,price_cents,reference_new_price_cents,released_on"
    ]
    for n in range(12):
        day = (clock.now() - timedelta(days=10 + n)).date().isoformat()
        lines.append(f"{day},{article_id},phones,Apple,B,{30000 + 100 * n},80900,2020-10-23")
    history.write_text("\n".join(lines) + "\n")
    trained = train(central, history=history)

    after = screen(office, "/backoffice/argus", lang="en")
    assert after.text("argus-version") == str(trained["version"])
    assert after.text("argus-sales") == "12"
    assert "Phones" in after.text("argus-learned") or "phones" in after.text("argus-learned")
    guide = screen(office, link.group(1), lang="en")
    grade_b = guide.text("grade-B")
    assert "argus-statistical-v1" in grade_b
    # the figures a store quotes with at its counter, for the same article and grade
    with central.reading() as conn:
        payload = conn.execute(a.argus_guides.select()).one().payload
        article = get_article(conn, article_id)
    quote = guide_from_payload(payload).quote(
        article, Grade.B, on=clock.now().astimezone(PARIS).date()
    )
    assert quote is not None
    assert euros(quote.buy_offer.cents) in grade_b and euros(quote.resale_price.cents) in grade_b


# --- orders and conflicts, empty ---------------------------------------------------------------


def test_orders_and_conflicts_say_when_there_are_none(office: TestClient) -> None:
    assert "No order for these filters." in office.get("/backoffice/orders?lang=en").text
    assert "No conflict." in office.get("/backoffice/conflicts?lang=en").text
    assert office.get("/backoffice/orders/W-NOPE").status_code == 404
