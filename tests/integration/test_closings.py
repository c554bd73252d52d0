"""Daily, monthly and yearly closings (rule D.19): chained, signed records with the period's
totals and the perpetual grand total; the yearly archive checks without the software."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers import purchase_body
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from recommerce.fiscal.archive import verify_archive
from recommerce.store.db import tables as t
from recommerce.store.seed import DEMO_PASSWORD
from recommerce.store.services.closings import archive_year
from recommerce.store.services.fiscal import verify_store_journal


def fresh(client, username):
    token = client.post(
        "/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD}
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def till(client, article_id):
    """Buy items then sell them, one ticket per call; tokens renewed as the clock moves."""
    phone = article_id("iphone 12")

    def sell(*asking_euros: int) -> dict:
        lines = [
            {
                "article_id": phone,
                "grade": "B",
                "agreed_price_cents": 1000,
                "asking_price_cents": euros * 100,
            }
            for euros in asking_euros
        ]
        bought = client.post(
            "/api/v1/purchases", json=purchase_body(lines), headers=fresh(client, "acheteur")
        )
        assert bought.status_code == 201, bought.text
        labels = [i["label_code"] for i in bought.json()["items"]]
        sold = client.post(
            "/api/v1/sales",
            json={
                "till": "T1",
                "lines": [{"label_code": x} for x in labels],
                "tenders": [{"kind": "cash", "amount_cents": sum(asking_euros) * 100}],
            },
            headers=fresh(client, "caissier"),
        )
        assert sold.status_code == 201, sold.text
        return sold.json() | {"labels": labels}

    return sell


def close(client, period, label):
    return client.post(
        "/api/v1/closings", json={"period": period, "label": label}, headers=fresh(client, "gerant")
    )


def test_daily_closing_totals_the_day_and_starts_the_grand_total(client, till):
    till(30, 20)
    till(50)
    response = close(client, "day", "2026-11-20")
    assert response.status_code == 201, response.text
    fields = response.json()["fields"]
    assert fields["sales_count"] == 2
    assert fields["total_cents"] == 10000
    assert fields["grand_total_cents"] == 10000
    assert response.json()["hash"]


def test_no_ticket_once_the_day_is_closed(client, till):
    till(30)
    assert close(client, "day", "2026-11-20").status_code == 201
    with pytest.raises(AssertionError, match="day_closed"):
        till(40)


def test_grand_total_is_perpetual_across_days_and_returns(client, till, clock):
    first = till(30, 20)
    client.post(
        "/api/v1/returns",
        json={
            "till": "T1",
            "sale_number": first["number"],
            "lines": [{"label_code": first["labels"][0]}],
        },
        headers=fresh(client, "caissier"),
    )
    assert close(client, "day", "2026-11-20").json()["fields"]["grand_total_cents"] == 2000
    clock.advance(timedelta(days=1))
    till(70)
    day2 = close(client, "day", "2026-11-21").json()["fields"]
    assert day2["total_cents"] == 7000
    assert day2["grand_total_cents"] == 9000


def test_a_day_cannot_be_closed_twice_nor_out_of_order(client, till, clock):
    till(10)
    clock.advance(timedelta(days=1))
    assert close(client, "day", "2026-11-21").status_code == 201
    assert close(client, "day", "2026-11-21").status_code == 409
    assert close(client, "day", "2026-11-20").status_code == 409


def test_a_month_closes_once_over_and_once_its_days_are_closed(client, till, clock):
    till(10)
    assert close(client, "month", "2026-11").status_code == 422  # not over yet
    clock.advance(timedelta(days=12))  # 2 December
    refused = close(client, "month", "2026-11")
    assert refused.status_code == 422
    assert "2026-11-20" in refused.json()["detail"]
    assert close(client, "day", "2026-11-20").status_code == 201
    month = close(client, "month", "2026-11")
    assert month.status_code == 201, month.text
    assert month.json()["fields"]["total_cents"] == 1000
    assert month.json()["fields"]["grand_total_cents"] == 1000


def test_yearly_archive_verifies_without_the_software(client, till, clock, node, tmp_path):
    till(10, 25)
    close(client, "day", "2026-11-20")
    clock.advance(timedelta(days=42))  # 1 January 2027
    assert close(client, "month", "2026-11").status_code == 201
    assert close(client, "month", "2026-12").status_code == 201
    year = close(client, "year", "2026")
    assert year.status_code == 201, year.text
    assert year.json()["fields"]["grand_total_cents"] == 3500
    paths = archive_year(node, 2026, tmp_path / "archive")
    assert {p.suffix for p in paths} >= {".json", ".csv", ".pem", ".sig"}
    result = verify_archive(tmp_path / "archive", public_key=node.fiscal_key.public_pem())
    assert result.ok, result.message
    assert verify_store_journal(node).ok


def test_only_a_manager_closes(client, till):
    till(10)
    response = client.post(
        "/api/v1/closings",
        json={"period": "day", "label": "2026-11-20"},
        headers=fresh(client, "caissier"),
    )
    assert response.status_code == 403


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    days=st.lists(
        st.lists(st.tuples(st.integers(1, 300), st.booleans()), min_size=0, max_size=3),
        min_size=1,
        max_size=3,
    )
)
def test_perpetual_grand_total_equals_the_sum_of_all_tickets(client, till, clock, node, days):
    for day in days:
        for euros, returned in day:
            sale = till(euros)
            if returned:
                response = client.post(
                    "/api/v1/returns",
                    json={
                        "till": "T1",
                        "sale_number": sale["number"],
                        "lines": [{"label_code": sale["labels"][0]}],
                    },
                    headers=fresh(client, "caissier"),
                )
                assert response.status_code == 201, response.text
        label = clock.now().astimezone(node.settings.zone).date().isoformat()
        closing = close(client, "day", label)
        assert closing.status_code == 201, closing.text
        with node.engine.connect() as conn:
            tickets_total = conn.execute(select(func.sum(t.tickets.c.total_cents))).scalar()
        assert closing.json()["grand_total_cents"] == (tickets_total or 0)
        clock.advance(timedelta(days=1))
    assert verify_store_journal(node).ok
