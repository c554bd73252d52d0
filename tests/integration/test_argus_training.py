"""The argus trained at central from the chain's sales, shipped down the stores' feeds, and
quoting at the buying counter (offline included: from the store's own database)."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from store_and_central import (  # noqa: F401  (fixtures)
    Headers,
    buy,
    central_database_url,
    code,
    enrolled,
    puller,
    pusher,
)
from test_marketplace_listings import push_all, sell

from recommerce.central.bootstrap import CentralNode
from recommerce.central.db import argus_tables
from recommerce.central.services.argus import HISTORY_COLUMNS, train
from recommerce.errors import DomainError
from recommerce.store.bootstrap import StoreNode
from recommerce.store.sync.feed import FeedPuller
from recommerce.store.sync.pusher import Pusher


def quote(client: TestClient, login: Headers, article: str, grade: str = "B") -> dict[str, object]:
    response = client.post(
        "/api/v1/quotes", json={"article_id": article, "grade": grade}, headers=login("acheteur")
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_guide_trained_at_central_reaches_the_store_and_quotes_at_the_counter(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    puller: FeedPuller,
    central: CentralNode,
    node: StoreNode,
) -> None:
    iphone = article_id("iphone 12")
    before = quote(client, login, iphone)
    assert before["method"] == "reference-price-rule-v1"
    for _ in range(3):
        sell(client, login, buy(client, login, article_id))  # two bought, one sold each time
    push_all(pusher)

    trained = train(central)
    assert trained["version"] == 1 and trained["sales"] == 3
    puller.pull_once(wait=0)

    after = quote(client, login, iphone)
    assert after["method"] == "argus-statistical-v1"
    assert after["resale_low_cents"] <= after["resale_price_cents"] <= after["resale_high_cents"]
    assert 0 < after["buy_offer_cents"] < after["resale_price_cents"]
    with central.reading() as conn:
        assert conn.execute(select(argus_tables.argus_guides.c.sales)).scalar_one() == 3


def test_a_history_export_trains_the_guide_before_any_sale(
    tmp_path: Path,
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    puller: FeedPuller,
    central: CentralNode,
) -> None:
    iphone = article_id("iphone 12")
    export = tmp_path / "history.csv"
    with export.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=HISTORY_COLUMNS)
        writer.writeheader()
        for n in range(20):
            writer.writerow(
                {
                    "sold_on": f"2026-0{1 + n % 9}-15",
                    "article_id": iphone,
                    "category_code": "phones",
                    "brand": "Apple",
                    "grade": "B",
                    "price_cents": 30000 + 100 * n,
                    "reference_new_price_cents": 80900,
                    "released_on": "2020-10-23",
                }
            )
    assert train(central, history=export)["sales"] == 20
    puller.pull_once(wait=0)
    after = quote(client, login, iphone)
    assert after["method"] == "argus-statistical-v1"
    assert 20000 <= after["resale_price_cents"] <= 40000


def test_training_with_nothing_to_learn_from_is_refused(central: CentralNode) -> None:
    with pytest.raises(DomainError, match="no sale to learn from"):
        train(central)


def test_the_data_team_generates_a_history_and_trains_on_the_command_line(
    tmp_path: Path, central: CentralNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from recommerce.cli import app

    monkeypatch.setenv("RECOMMERCE_CENTRAL_DATA_DIR", str(central.settings.data_dir))
    monkeypatch.setenv("RECOMMERCE_CENTRAL_DATABASE_URL", central.settings.effective_database_url)
    runner = CliRunner()
    export = tmp_path / "history.csv"
    made = runner.invoke(app, ["argus", "generate", "--out", str(export), "--sales", "2000"])
    assert made.exit_code == 0, made.output
    trained = runner.invoke(app, ["argus", "train", "--history", str(export)])
    assert trained.exit_code == 0, trained.output
    assert "argus guide 1" in trained.output and "2000 sales" in trained.output
    missing = runner.invoke(app, ["argus", "train", "--history", str(tmp_path / "none.csv")])
    assert missing.exit_code == 2
    assert "there is no file" in missing.output


def test_the_learned_model_quotes_the_articles_it_knows_and_the_statistics_the_others(
    tmp_path: Path,
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    puller: FeedPuller,
    central: CentralNode,
) -> None:
    from recommerce.argus.history import synthetic_catalogue, synthetic_sales, write_csv

    export = tmp_path / "history.csv"
    catalogue = synthetic_catalogue(3, 300)
    write_csv(
        synthetic_sales(
            catalogue, seed=3, sales=3000, start=date(2024, 1, 1), end=date(2026, 10, 31)
        ),
        export,
    )
    trained = train(central, history=export)
    assert trained["learned"] > 0
    puller.pull_once(wait=0)
    iphone = article_id("iphone 12")  # a demo article: among the history's best sellers
    grades = [quote(client, login, iphone, grade) for grade in ("A", "B", "C", "D")]
    assert {g["method"] for g in grades} == {"argus-learned-v2"}
    prices = [g["resale_price_cents"] for g in grades]
    assert prices == sorted(prices, reverse=True)  # a better grade is never quoted lower
    for g in grades:
        assert g["resale_low_cents"] <= g["resale_price_cents"] <= g["resale_high_cents"]


def test_a_store_starting_over_from_the_snapshot_gets_the_newest_guide(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    puller: FeedPuller,
    central: CentralNode,
) -> None:
    sell(client, login, buy(client, login, article_id))
    push_all(pusher)
    train(central)
    train(central)  # version 2: the snapshot carries the newest only
    loaded = puller.load_snapshot()  # as a store newly enrolled, or after a 410
    assert loaded.status.value == "snapshot"
    assert quote(client, login, article_id("iphone 12"))["method"] == "argus-statistical-v1"
