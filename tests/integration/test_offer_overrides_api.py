"""Paying above the argus' buy offer over HTTP: refused as problem+json beyond the role's bound
or without a reason; within it, recorded with the purchase and listed for the manager."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers import purchase_body, table_counts
from sqlalchemy import func, select

from recommerce.store.db import tables as t

PURCHASES = "/api/v1/purchases"
OVERRIDES = "/api/v1/offer-overrides"


@pytest.fixture
def phone(article_id):
    return article_id("iphone 12")


@pytest.fixture
def offer(client, login, phone) -> int:
    """What the argus offers today for the phone in grade B, in cents."""
    response = client.post(
        "/api/v1/quotes", json={"article_id": phone, "grade": "B"}, headers=login("acheteur")
    )
    assert response.status_code == 200, response.text
    assert response.json()["method"] == "reference-price-rule-v1"
    return int(response.json()["buy_offer_cents"])


def phone_at(phone: str, cents: int, reason: str | None = None) -> dict[str, object]:
    line: dict[str, object] = {"article_id": phone, "grade": "B", "agreed_price_cents": cents}
    if reason is not None:
        line["override_reason"] = reason
    return line


def overrides_written(node) -> int:
    with node.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.offer_overrides)).scalar_one())


def test_a_buyer_paying_beyond_the_bound_gets_a_problem_naming_offer_bound_and_role(
    client, login, node, phone, offer
):
    ceiling = offer * 110 // 100
    response = client.post(
        PURCHASES,
        json=purchase_body([phone_at(phone, ceiling + 1, "le client insiste")]),
        headers=login("acheteur"),
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:recommerce:problem:offer_override_above_bound"
    assert problem["code"] == "offer_override_above_bound"
    assert problem["field"] == "lines[0].agreed_price"
    assert (problem["offer_cents"], problem["ceiling_cents"]) == (offer, ceiling)
    assert (problem["role"], problem["percent_above_offer"]) == ("buyer", 10)
    assert "line 1" in problem["detail"] and "buyer" in problem["detail"]
    assert set(table_counts(node).values()) == {0}
    assert overrides_written(node) == 0


def test_a_buyer_paying_above_the_offer_without_a_reason_gets_a_problem(
    client, login, node, phone, offer
):
    response = client.post(
        PURCHASES, json=purchase_body([phone_at(phone, offer + 50)]), headers=login("acheteur")
    )
    assert response.status_code == 422
    assert response.json()["code"] == "offer_override_reason_missing"
    assert response.json()["field"] == "lines[0].override_reason"
    assert set(table_counts(node).values()) == {0}


def test_an_override_within_the_bound_is_recorded_and_listed_for_the_manager(
    client, login, node, phone, offer
):
    ceiling = offer * 110 // 100
    bought = client.post(
        PURCHASES,
        json=purchase_body(
            [phone_at(phone, offer), phone_at(phone, ceiling, "  boîte et facture d'origine ")]
        ),
        headers=login("acheteur"),
    )
    assert bought.status_code == 201, bought.text
    purchase = bought.json()
    listed = client.get(OVERRIDES, headers=login("gerant"))
    assert listed.status_code == 200, listed.text
    [override] = listed.json()  # the line at the offer is negotiation, not an override
    assert override["purchase_id"] == purchase["id"]
    assert override["label_code"] == purchase["items"][1]["label_code"]
    assert override["article_id"] == phone
    assert override["article_name"] == "Apple iPhone 12 64 Go"
    assert override["grade"] == "B"
    assert (override["offer_cents"], override["agreed_price_cents"]) == (offer, ceiling)
    assert override["above_offer_cents"] == ceiling - offer
    assert override["method"] == "reference-price-rule-v1"
    assert (override["staff_username"], override["role"]) == ("acheteur", "buyer")
    assert override["staff_id"] == purchase["staff_id"]
    assert override["reason"] == "boîte et facture d'origine"
    assert override["at"].startswith("2026-11-20T10:30")
    with node.engine.connect() as conn:
        payload = conn.execute(select(t.outbox.c.payload)).scalar_one()
    assert [o["label_code"] for o in payload["offer_overrides"]] == [override["label_code"]]


def test_a_manager_may_pay_further_above_the_offer_than_a_buyer(client, login, node, phone, offer):
    beyond_a_buyer = phone_at(phone, offer * 130 // 100, "série limitée, scellé")
    refused = client.post(
        PURCHASES, json=purchase_body([beyond_a_buyer]), headers=login("acheteur")
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "offer_override_above_bound"
    bought = client.post(PURCHASES, json=purchase_body([beyond_a_buyer]), headers=login("gerant"))
    assert bought.status_code == 201, bought.text
    [override] = client.get(OVERRIDES, headers=login("gerant")).json()
    assert (override["staff_username"], override["role"]) == ("gerant", "manager")


def test_the_list_is_by_the_stores_local_days(client, login, phone, offer, clock):
    # 23:30 UTC on 20 November is 00:30 on 21 November in Paris.
    clock.advance(timedelta(hours=13))
    headers = login("gerant")
    bought = client.post(
        PURCHASES, json=purchase_body([phone_at(phone, offer + 100, "facture")]), headers=headers
    )
    assert bought.status_code == 201, bought.text

    def listed(**params: str) -> int:
        response = client.get(OVERRIDES, params=params, headers=headers)
        assert response.status_code == 200, response.text
        return len(response.json())

    assert listed(date_from="2026-11-21", date_to="2026-11-21") == 1
    assert listed(date_to="2026-11-20") == 0
    assert listed(date_from="2026-11-22") == 0
    refused = client.get(
        OVERRIDES, params={"date_from": "2026-11-22", "date_to": "2026-11-21"}, headers=headers
    )
    assert refused.status_code == 422
    assert refused.json()["field"] == "date_from"


@pytest.mark.parametrize(("username", "status"), [("acheteur", 403), ("caissier", 403)])
def test_only_a_manager_reads_the_overrides(client, login, username, status):
    response = client.get(OVERRIDES, headers=login(username))
    assert response.status_code == status
    assert response.json()["code"] == "forbidden"
    assert client.get(OVERRIDES, headers=login("admin")).status_code == 200
