"""Central's catalogue master: head office keeps categories and articles, and every change
reaches every store's feed in the same transaction."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from recommerce.central.bootstrap import CentralNode
from recommerce.central.db import catalog_tables as c
from recommerce.central.services.catalog import seed_demo_catalogue
from recommerce.central.services.users import UserRole, create_user
from recommerce.cli import app as cli_app
from recommerce.clock import FixedClock

GRADES = {
    "A": "Comme neuf, testé.",
    "B": "Traces d'usage légères.",
    "C": "Usure visible.",
    "D": "Pour pièces.",
}

CSV_HEADER = "category_code,brand,model,reference_new_price_cents,gtin,released_on,attr:colour\n"


def _register(client: TestClient, admin: dict[str, str], *numbers: int) -> None:
    for number in numbers:
        response = client.post(
            "/api/v1/stores",
            json={"number": number, "name": f"Magasin {number}", "city": "Lyon"},
            headers=admin,
        )
        assert response.status_code == 201, response.text


def _put_category(
    client: TestClient, admin: dict[str, str], code: str = "phones", **body: Any
) -> Any:
    payload = {"name": "Téléphones", "precious_metal": False, "grades": GRADES, **body}
    return client.put(f"/api/v1/catalog/categories/{code}", json=payload, headers=admin)


def _article(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "category_code": "phones",
        "brand": "Apple",
        "model": "iPhone 12 64 Go",
        "gtin": "0194253409175",
        "reference_new_price_cents": 90900,
        "released_on": "2020-10-23",
    }
    body.update(overrides)
    return body


def _feed(central: CentralNode, store: int) -> list[Any]:
    with central.reading() as conn:
        return list(
            conn.execute(
                select(c.feed).where(c.feed.c.store_number == store).order_by(c.feed.c.seq)
            )
        )


def _counts(central: CentralNode) -> dict[str, int]:
    with central.reading() as conn:
        return {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (c.categories, c.articles, c.feed)
        }


def _backoffice(central: CentralNode, client: TestClient, clock: FixedClock) -> dict[str, str]:
    with central.writing() as conn:
        create_user(
            conn,
            username="compta",
            full_name="Compta",
            role=UserRole.BACKOFFICE,
            password="compta-password",
            at=clock.now(),
        )
    token = client.post(
        "/api/v1/auth/token", json={"username": "compta", "password": "compta-password"}
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def test_a_new_article_appears_in_every_stores_feed_with_gapless_seqs(
    central_client: TestClient, central_admin: dict[str, str], central: CentralNode
) -> None:
    _register(central_client, central_admin, 7, 8)
    assert _put_category(central_client, central_admin).status_code == 201
    first = central_client.post("/api/v1/catalog/articles", json=_article(), headers=central_admin)
    assert first.status_code == 201, first.text
    second = central_client.post(
        "/api/v1/catalog/articles",
        json=_article(model="iPhone 13 128 Go", gtin=None, reference_new_price_cents=90900),
        headers=central_admin,
    )
    assert second.status_code == 201, second.text
    assert first.json()["name"] == "Apple iPhone 12 64 Go"

    for store in (7, 8):
        rows = _feed(central, store)
        assert [r.seq for r in rows] == [1, 2, 3]
        assert [r.type for r in rows] == ["CategoryUpserted", "ArticleUpserted", "ArticleUpserted"]
        assert rows[0].payload["grades"] == GRADES
        assert rows[1].payload == {
            "id": first.json()["id"],
            "category_code": "phones",
            "brand": "Apple",
            "model": "iPhone 12 64 Go",
            "name": "Apple iPhone 12 64 Go",
            "gtin": "0194253409175",
            "reference_new_price_cents": 90900,
            "released_on": "2020-10-23",
            "attributes": {},
        }
        assert rows[2].payload["id"] == second.json()["id"]
    with central.reading() as conn:
        heads = {r.store_number: r.head_seq for r in conn.execute(select(c.feed_heads))}
    assert heads == {7: 3, 8: 3}


def test_a_category_needs_a_definition_of_each_grade_and_a_refusal_changes_nothing(
    central_client: TestClient, central_admin: dict[str, str], central: CentralNode
) -> None:
    _register(central_client, central_admin, 7)
    before = _counts(central)
    response = _put_category(central_client, central_admin, grades={"A": "Comme neuf."})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == "grades"
    assert "missing B, C, D" in response.json()["detail"]
    bad_code = _put_category(central_client, central_admin, code="Téléphones")
    assert (bad_code.status_code, bad_code.json()["field"]) == (422, "code")
    assert _counts(central) == before


def test_putting_a_category_again_replaces_its_grade_guide_and_an_identical_put_tells_nobody(
    central_client: TestClient, central_admin: dict[str, str], central: CentralNode
) -> None:
    _register(central_client, central_admin, 7)
    assert _put_category(central_client, central_admin).status_code == 201
    changed = _put_category(
        central_client, central_admin, name="Smartphones", grades={**GRADES, "D": "HS."}
    )
    assert changed.status_code == 200
    assert changed.json()["name"] == "Smartphones"
    assert changed.json()["grades"][3] == {"grade": "D", "label": "for parts", "definition": "HS."}
    again = _put_category(
        central_client, central_admin, name="Smartphones", grades={**GRADES, "D": "HS."}
    )
    assert again.status_code == 200
    assert [r.payload["name"] for r in _feed(central, 7)] == ["Téléphones", "Smartphones"]
    listed = central_client.get("/api/v1/catalog/categories", headers=central_admin).json()
    assert [k["code"] for k in listed] == ["phones"]
    missing = central_client.get("/api/v1/catalog/categories/tvs", headers=central_admin)
    assert missing.status_code == 404


INVALID_ARTICLES: list[tuple[dict[str, Any], str, str]] = [
    ({"gtin": "0194253409176"}, "gtin", "invalid_gtin"),  # wrong check digit
    ({"gtin": "2000000000008"}, "gtin", "invalid_gtin"),  # an in-store label, not an article
    ({"reference_new_price_cents": -1}, "reference_new_price_cents", "invalid_input"),
    ({"reference_new_price_cents": 9.5}, "reference_new_price_cents", "invalid_input"),
    ({"category_code": "boats"}, "category_code", "invalid_input"),
    ({"brand": "   "}, "brand", "invalid_input"),
    ({"colour": "noir"}, "colour", "invalid_input"),  # unknown field
]


def test_an_invalid_article_is_refused_with_the_field_at_fault_and_changes_nothing(
    central_client: TestClient, central_admin: dict[str, str], central: CentralNode
) -> None:
    _register(central_client, central_admin, 7)
    _put_category(central_client, central_admin)
    before = _counts(central)
    for change, field, code in INVALID_ARTICLES:
        response = central_client.post(
            "/api/v1/catalog/articles", json=_article(**change), headers=central_admin
        )
        assert response.status_code == 422, (change, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert (response.json()["field"], response.json()["code"]) == (field, code), change
    assert _counts(central) == before


def test_a_gtin_belongs_to_one_article(
    central_client: TestClient, central_admin: dict[str, str], central: CentralNode
) -> None:
    _put_category(central_client, central_admin)
    assert (
        central_client.post(
            "/api/v1/catalog/articles", json=_article(), headers=central_admin
        ).status_code
        == 201
    )
    # The same code scanned as a 12-digit UPC is the same GTIN.
    again = central_client.post(
        "/api/v1/catalog/articles",
        json=_article(model="iPhone 12 (bis)", gtin="194253409175"),
        headers=central_admin,
    )
    assert (again.status_code, again.json()["field"]) == (409, "gtin")
    assert _counts(central)["articles"] == 1


def test_updating_an_article_replaces_it_and_an_identical_update_tells_nobody(
    central_client: TestClient, central_admin: dict[str, str], central: CentralNode
) -> None:
    _register(central_client, central_admin, 7)
    _put_category(central_client, central_admin)
    article_id = central_client.post(
        "/api/v1/catalog/articles", json=_article(), headers=central_admin
    ).json()["id"]
    body = _article(reference_new_price_cents=79900, attributes={"colour": "noir"})
    updated = central_client.put(
        f"/api/v1/catalog/articles/{article_id}", json=body, headers=central_admin
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["reference_new_price_cents"] == 79900
    assert (
        central_client.put(
            f"/api/v1/catalog/articles/{article_id}", json=body, headers=central_admin
        ).status_code
        == 200
    )
    prices = [r.payload.get("reference_new_price_cents") for r in _feed(central, 7)]
    assert prices == [None, 90900, 79900]  # the category, the creation, one change
    fetched = central_client.get(f"/api/v1/catalog/articles/{article_id}", headers=central_admin)
    assert fetched.json()["attributes"] == {"colour": "noir"}
    unknown = central_client.put(
        "/api/v1/catalog/articles/no-such-article", json=body, headers=central_admin
    )
    assert (unknown.status_code, unknown.json()["field"]) == (404, "article_id")


def test_any_head_office_user_reads_the_catalogue_but_only_an_admin_changes_it(
    central_client: TestClient,
    central_admin: dict[str, str],
    central: CentralNode,
    clock: FixedClock,
) -> None:
    _put_category(central_client, central_admin)
    backoffice = _backoffice(central, central_client, clock)
    assert central_client.get("/api/v1/catalog/categories", headers=backoffice).status_code == 200
    assert central_client.get("/api/v1/catalog/articles", headers=backoffice).status_code == 200
    refused = central_client.post("/api/v1/catalog/articles", json=_article(), headers=backoffice)
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert _put_category(central_client, backoffice).status_code == 403
    assert central_client.get("/api/v1/catalog/articles").status_code == 401
    assert _counts(central)["articles"] == 0


def test_the_catalogue_is_searched_without_accents_and_paged(
    central_client: TestClient,
    central_admin: dict[str, str],
    central: CentralNode,
    clock: FixedClock,
) -> None:
    with central.writing() as conn:
        assert seed_demo_catalogue(conn, now=clock.now()) == 38
        assert seed_demo_catalogue(conn, now=clock.now()) == 0  # loading it again adds nothing

    def search(**params: Any) -> Any:
        response = central_client.get(
            "/api/v1/catalog/articles", params=params, headers=central_admin
        )
        assert response.status_code == 200, response.text
        return response.json()

    everything = search(limit=500)
    assert everything["total"] == 38 == len(everything["articles"])
    iphones = search(q="IPHONE", limit=2)
    assert iphones["total"] == 3
    assert [a["name"] for a in iphones["articles"]] == [
        "Apple iPhone 12 64 Go",
        "Apple iPhone 13 128 Go",
    ]
    assert [a["name"] for a in search(q="iphone", limit=2, offset=2)["articles"]] == [
        "Apple iPhone 14 128 Go"
    ]
    assert search(q="ragnarok")["articles"][0]["name"] == "Sony God of War Ragnarök (PS5)"
    assert search(category="jewellery")["total"] == 3
    assert search(q="apple", category="laptops")["total"] == 1
    assert search(q="100%")["total"] == 0
    too_far = central_client.get(
        "/api/v1/catalog/articles", params={"limit": 0}, headers=central_admin
    )
    assert (too_far.status_code, too_far.json()["field"]) == (422, "limit")


def test_a_chain_wide_setting_reaches_every_store_once(
    central_client: TestClient, central_admin: dict[str, str], central: CentralNode
) -> None:
    _register(central_client, central_admin, 7)
    url = "/api/v1/configuration/return_window_days"
    first = central_client.put(url, json={"value": 14}, headers=central_admin)
    assert first.json() == {"key": "return_window_days", "value": 14, "changed": True}
    assert (
        central_client.put(url, json={"value": 14}, headers=central_admin).json()["changed"]
        is False
    )
    assert central_client.put(url, json={"value": 30}, headers=central_admin).json()["changed"]
    rows = _feed(central, 7)
    assert [(r.type, r.payload) for r in rows] == [
        ("ConfigurationChanged", {"key": "return_window_days", "value": 14}),
        ("ConfigurationChanged", {"key": "return_window_days", "value": 30}),
    ]
    assert central_client.get("/api/v1/configuration", headers=central_admin).json() == {
        "return_window_days": 30
    }
    bad = central_client.put(
        "/api/v1/configuration/Retour%20!", json={"value": 1}, headers=central_admin
    )
    assert (bad.status_code, bad.json()["field"]) == (422, "key")
    assert len(_feed(central, 7)) == 2


# --- CSV import -------------------------------------------------------------------------------


def test_a_csv_import_creates_and_updates_articles_and_tells_every_store(
    central_client: TestClient, central_admin: dict[str, str], central: CentralNode
) -> None:
    _register(central_client, central_admin, 7, 8)
    _put_category(central_client, central_admin)
    existing = central_client.post(
        "/api/v1/catalog/articles", json=_article(), headers=central_admin
    ).json()
    csv = (
        "\ufeff"  # the byte-order mark a spreadsheet writes
        + CSV_HEADER
        + "phones,Apple,iPhone 12 64 Go,79900,0194253409175,2020-10-23,\n"  # by its GTIN
        + 'phones,Google,"Pixel 7, 128 Go",64900,0840353005129,2022-10-13,noir\n'
        + "\n"
        + "phones,Xiaomi,Redmi Note 12,29900,,,bleu\n"
    )
    response = central_client.post(
        "/api/v1/catalog/articles/import",
        content=csv.encode(),
        headers={**central_admin, "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"created": 2, "updated": 1, "unchanged": 0}
    iphone = central_client.get(
        f"/api/v1/catalog/articles/{existing['id']}", headers=central_admin
    ).json()
    assert iphone["reference_new_price_cents"] == 79900
    pixel = central_client.get(
        "/api/v1/catalog/articles", params={"q": "pixel"}, headers=central_admin
    ).json()["articles"][0]
    assert (pixel["model"], pixel["attributes"]) == ("Pixel 7, 128 Go", {"colour": "noir"})
    for store in (7, 8):
        assert [r.seq for r in _feed(central, store)] == [1, 2, 3, 4, 5]

    # The same file again (separated by semicolons this time) changes nothing and tells nobody.
    again = central_client.post(
        "/api/v1/catalog/articles/import",
        files={
            "file": (
                "catalogue.csv",
                csv.replace(",", ";").replace('"Pixel 7; 128 Go"', '"Pixel 7, 128 Go"').encode(),
                "text/csv",
            )
        },
        headers=central_admin,
    )
    assert again.status_code == 200, again.text
    assert again.json() == {"created": 0, "updated": 0, "unchanged": 3}
    assert len(_feed(central, 7)) == 5


def test_a_csv_with_bad_lines_imports_nothing_and_names_each_line_at_fault(
    central_client: TestClient, central_admin: dict[str, str], central: CentralNode
) -> None:
    _register(central_client, central_admin, 7)
    _put_category(central_client, central_admin)
    before = _counts(central)
    csv = (
        CSV_HEADER
        + "phones,Google,Pixel 7 128 Go,64900,0840353005129,2022-10-13,\n"  # line 2: fine
        + "phones,Apple,iPhone 14,101900,0194253416402,2022-09-16,\n"  # line 3: check digit
        + "phones,Samsung,Galaxy S21,85900,,21/01/2021,\n"  # line 4: date
        + "boats,Bénéteau,Oceanis,-1,,,\n"  # line 5: price
        + "phones,Nokia,3310,4900,,,\n"  # line 6: fine
        + "phones,Google,Pixel 7 bis,64900,0840353005129,,\n"  # line 7: GTIN of line 2
        + "phones,Nokia,3310\n"  # line 8: fields missing
    )
    response = central_client.post(
        "/api/v1/catalog/articles/import",
        content=csv,
        headers={**central_admin, "Content-Type": "text/csv; charset=utf-8"},
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["field"] == "file"
    assert problem["detail"].startswith("nothing was imported: line 3: ")
    assert [(e["line"], e["field"]) for e in problem["errors"]] == [
        (3, "gtin"),
        (4, "released_on"),
        (5, "reference_new_price_cents"),
        (7, "gtin"),
        (8, None),
    ]
    assert "also on line 2" in problem["errors"][3]["message"]
    assert _counts(central) == before


def test_a_csv_must_name_its_columns(
    central_client: TestClient, central_admin: dict[str, str]
) -> None:
    response = central_client.post(
        "/api/v1/catalog/articles/import",
        content="brand,model,price\nApple,iPhone,100\n",
        headers={**central_admin, "Content-Type": "text/csv"},
    )
    assert response.status_code == 422
    errors = {(e["line"], e["field"]) for e in response.json()["errors"]}
    assert errors == {
        (1, "price"),
        (1, "category_code"),
        (1, "reference_new_price_cents"),
    }
    wrong_type = central_client.post(
        "/api/v1/catalog/articles/import",
        content=b'{"brand": "Apple"}',
        headers={**central_admin, "Content-Type": "application/json"},
    )
    assert wrong_type.status_code == 415
    not_utf8 = central_client.post(
        "/api/v1/catalog/articles/import",
        content=(CSV_HEADER + "phones,Société,Modèle,100,,,\n").encode("latin-1"),
        headers={**central_admin, "Content-Type": "text/csv"},
    )
    assert (not_utf8.status_code, not_utf8.json()["field"]) == (422, "file")


# --- the command line -------------------------------------------------------------------------


def test_the_command_line_loads_the_demo_catalogue_once_imports_a_csv_and_prunes_feeds(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECOMMERCE_CENTRAL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("RECOMMERCE_CENTRAL_DATABASE_URL", raising=False)
    runner = CliRunner()
    first = runner.invoke(cli_app, ["central", "init", "--demo-user"])
    assert first.exit_code == 0, first.output
    assert "catalogue: 38 demo articles added" in first.output
    again = runner.invoke(cli_app, ["central", "init", "--demo-user"])
    assert "catalogue: 0 demo articles added" in again.output

    bad = tmp_path / "bad.csv"
    bad.write_text(CSV_HEADER + "phones,Nokia,3310,abc,,,\n")
    refused = runner.invoke(cli_app, ["central", "catalog-import", str(bad)])
    assert refused.exit_code == 2
    assert "line 2" in refused.output and "reference_new_price_cents" in refused.output
    added = runner.invoke(
        cli_app, ["central", "store-add", "--number", "7", "--name", "Lyon", "--city", "Lyon"]
    )
    assert added.exit_code == 0, added.output
    good = tmp_path / "good.csv"
    good.write_text(CSV_HEADER + "phones,Nokia,3310,4900,,,\n")
    imported = runner.invoke(cli_app, ["central", "catalog-import", str(good)])
    assert imported.exit_code == 0, imported.output
    assert "1 created, 0 updated, 0 unchanged" in imported.output
    pruned = runner.invoke(cli_app, ["central", "prune-feed", "--keep", "0"])
    assert pruned.exit_code == 0, pruned.output
    assert "feed: 1 rows deleted" in pruned.output  # store 7's row of the imported article
    refused = runner.invoke(cli_app, ["central", "prune-feed", "--keep", "-1"])
    assert refused.exit_code == 2
