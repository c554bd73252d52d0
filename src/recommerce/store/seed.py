"""A starting catalogue (categories, grade guide, articles) and the demo's staff accounts.

Central owns the catalogue; until a store is enrolled it starts from the demo catalogue of
`recommerce.catalog.seed_data`, the one central loads too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, insert, select

from recommerce.catalog.seed_data import demo_articles, demo_categories
from recommerce.db.catalog_rows import article_row
from recommerce.staff.model import Role
from recommerce.store.db import tables as t
from recommerce.store.services.staff import create_staff

DEMO_STAFF: list[tuple[str, str, Role]] = [
    ("admin", "Alice Administratrice", Role.ADMIN),
    ("gerant", "Gérard Gérant", Role.MANAGER),
    ("acheteur", "Amandine Acheteuse", Role.BUYER),
    ("caissier", "Camille Caissier", Role.CASHIER),
]
DEMO_PASSWORD = "demo-recommerce"


def seed_catalog(conn: Connection) -> int:
    """Load the starting catalogue into an empty store; returns how many articles it added."""
    if conn.execute(select(func.count()).select_from(t.articles)).scalar_one():
        return 0
    for category in demo_categories():
        conn.execute(
            insert(t.categories).values(
                code=category.code, name=category.name, precious_metal=category.precious_metal
            )
        )
        conn.execute(
            insert(t.grade_definitions),
            [
                {"category_code": category.code, "grade": g.value, "definition": d}
                for g, d in category.grade_definitions.items()
            ],
        )
    articles = demo_articles()
    if articles:
        conn.execute(insert(t.articles), [article_row(article) for article in articles])
    return len(articles)


def seed_demo_staff(conn: Connection, *, at: datetime) -> list[str]:
    """The demo's accounts (one per role), all with DEMO_PASSWORD; skips existing ones."""
    existing = set(conn.execute(select(t.staff.c.username)).scalars())
    created = []
    for username, full_name, role in DEMO_STAFF:
        if username not in existing:
            create_staff(
                conn,
                username=username,
                full_name=full_name,
                role=role,
                password=DEMO_PASSWORD,
                at=at,
                created_by=None,
            )
            created.append(username)
    return created
