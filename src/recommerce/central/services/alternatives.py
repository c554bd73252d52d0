"""The same article in the same grade at the nearest stores: what a customer whose order could
not be served is offered instead (architecture.md section 3)."""

from __future__ import annotations

from math import asin, cos, radians, sin, sqrt
from typing import Any

from sqlalchemy import Connection, select

from recommerce.central.db import marketplace_tables as m
from recommerce.central.db import tables as t
from recommerce.central.services.listings import listing_query

EARTH_RADIUS_KM = 6371.0
CANDIDATES = 200  # listings of one article and grade looked at; the nearest are kept


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) points (haversine)."""
    lat1, lon1, lat2, lon2 = map(radians, (*a, *b))
    h = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(sqrt(h))


def alternatives_for(
    conn: Connection, article_id: str, grade: str, *, near: int, excluding: str, limit: int = 3
) -> list[Any]:
    """Listings on sale of this article and grade, nearest to store `near` first (stores
    without a known location last, then by price)."""
    origin = conn.execute(
        select(t.stores.c.latitude, t.stores.c.longitude).where(t.stores.c.number == near)
    ).first()
    rows = conn.execute(
        listing_query()
        .where(
            m.listings.c.article_id == article_id,
            m.listings.c.grade == grade,
            m.listings.c.item_id != excluding,
        )
        .order_by(m.listings.c.price_cents)
        .limit(CANDIDATES)
    ).all()

    def key(row: Any) -> tuple[float, int]:
        if origin is None or origin.latitude is None or row.latitude is None:
            return (float("inf"), row.price_cents)
        here = (origin.latitude, origin.longitude)
        return (distance_km(here, (row.latitude, row.longitude)), row.price_cents)

    return sorted(rows, key=key)[:limit]
