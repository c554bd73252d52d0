"""An article as a row: the store's `articles` table and central's have the same columns."""

from __future__ import annotations

from typing import Any

from recommerce.catalog.model import Article
from recommerce.catalog.search import search_text


def article_row(article: Article) -> dict[str, Any]:
    return {
        "id": article.id,
        "category_code": article.category_code,
        "brand": article.brand,
        "model": article.model,
        "name": article.name,
        "gtin": article.gtin,
        "reference_new_price_cents": article.reference_new_price.cents,
        "released_on": article.released_on,
        "attributes": dict(article.attributes),
        "search_text": search_text(article.name, article.category_code),
    }
