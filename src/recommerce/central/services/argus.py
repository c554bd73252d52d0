"""Training the argus at central and shipping it to the stores (`recommerce argus train`).

The guide learns from every sale central holds (each sold item with its article, grade and
the price its ticket took), and from an export of the chain's older history when one is
given (a CSV: the sales before this system). Each guide trained is kept by version and sent
down every store's feed in the same transaction, so a store quotes with it at the counter,
offline included, from its next feed read.
"""

from __future__ import annotations

import csv
import itertools
import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, insert, select

from recommerce.argus.guide import METHOD, PastSale, StatisticalGuide, guide_payload
from recommerce.argus.learned import add_learned
from recommerce.catalog.model import Grade
from recommerce.central.bootstrap import CentralNode
from recommerce.central.db import argus_tables as a
from recommerce.central.db import catalog_tables as c
from recommerce.central.db import sync_tables as s
from recommerce.central.services import feed
from recommerce.errors import DomainError
from recommerce.inventory.model import ItemStatus
from recommerce.sync.feed_events import ARGUS_GUIDE_PUBLISHED

log = logging.getLogger("recommerce.central.argus")

# The columns a history export needs (more are allowed and ignored).
HISTORY_COLUMNS = (
    "sold_on",
    "article_id",
    "category_code",
    "brand",
    "grade",
    "price_cents",
    "reference_new_price_cents",
    "released_on",
)


def central_sales(conn: Connection, *, chunk: int = 10_000) -> Iterator[PastSale]:
    """Every item central knows as sold, at the price its ticket took (discount included)."""
    after = ""
    while True:
        rows = conn.execute(
            select(
                s.items.c.item_id,
                s.items.c.label_code,
                s.items.c.grade,
                s.tickets.c.occurred_at,
                s.tickets.c.lines,
                c.articles.c.id.label("article_id"),
                c.articles.c.category_code,
                c.articles.c.brand,
                c.articles.c.reference_new_price_cents,
                c.articles.c.released_on,
            )
            .join(s.tickets, s.tickets.c.id == s.items.c.sold_ticket_id)
            .join(c.articles, c.articles.c.id == s.items.c.article_id)
            .where(s.items.c.status == ItemStatus.SOLD.value, s.items.c.item_id > after)
            .order_by(s.items.c.item_id)
            .limit(chunk)
        ).all()
        if not rows:
            return
        for row in rows:
            price = next(
                (line["price_cents"] for line in row.lines if line["label_code"] == row.label_code),
                None,
            )
            if price is None:
                continue
            yield PastSale(
                article_id=row.article_id,
                category_code=row.category_code,
                brand=row.brand,
                grade=Grade(row.grade),
                sold_on=row.occurred_at.date(),
                price_cents=int(price),
                reference_new_price_cents=row.reference_new_price_cents,
                released_on=row.released_on,
            )
        after = rows[-1].item_id


def history_sales(path: Path) -> Iterator[PastSale]:
    """The sales of a history export (CSV with a header naming HISTORY_COLUMNS)."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [name for name in HISTORY_COLUMNS if name not in (reader.fieldnames or [])]
        if missing:
            raise DomainError(f"{path} lacks the columns {', '.join(missing)}", field="history")
        for n, row in enumerate(reader, start=2):
            try:
                yield PastSale(
                    article_id=row["article_id"],
                    category_code=row["category_code"],
                    brand=row["brand"],
                    grade=Grade(row["grade"]),
                    sold_on=date.fromisoformat(row["sold_on"]),
                    price_cents=int(row["price_cents"]),
                    reference_new_price_cents=int(row["reference_new_price_cents"]),
                    released_on=date.fromisoformat(row["released_on"])
                    if row["released_on"]
                    else None,
                )
            except ValueError as exc:
                raise DomainError(f"{path} line {n}: {exc}", field="history") from exc


def train(node: CentralNode, *, history: Path | None = None) -> dict[str, Any]:
    """Learn a guide from central's sales (and the history export), keep it as the next
    version and send it to every store; what was trained."""
    now = node.clock.now()
    counted = 0

    def counting(sales: Iterator[PastSale]) -> Iterator[PastSale]:
        nonlocal counted
        for sale in sales:
            counted += 1
            yield sale

    with node.reading() as conn:
        sources: Iterator[PastSale] = central_sales(conn)
        if history is not None:
            sources = itertools.chain(history_sales(history), sources)
        sales = list(counting(sources))
    if counted == 0:
        raise DomainError("no sale to learn from: sell, or give a history export (--history)")
    guide = StatisticalGuide.learn(sales, today=now.date())
    learned = add_learned(guide, sales, today=now.date())
    del sales
    payload = guide_payload(guide)
    source = "central's sales" + (f" and {history.name}" if history is not None else "")
    with node.writing() as conn:
        version = (
            int(
                conn.execute(
                    select(func.coalesce(func.max(a.argus_guides.c.version), 0))
                ).scalar_one()
            )
            + 1
        )
        conn.execute(
            insert(a.argus_guides).values(
                version=version,
                method=METHOD,
                trained_at=now,
                sales=counted,
                source=source,
                payload=payload,
            )
        )
        feed.append_to_feeds(
            conn,
            ARGUS_GUIDE_PUBLISHED,
            {"version": version, "method": METHOD, "trained_at": now.isoformat(), "guide": payload},
            now=now,
            retention=node.settings.feed_retention_events,
        )
    log.info("argus guide %s trained on %s sales (%s)", version, counted, source)
    return {
        "version": version,
        "method": METHOD,
        "sales": counted,
        "source": source,
        "articles": len(guide.articles),
        "learned": learned,
    }
