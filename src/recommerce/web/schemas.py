"""Response bodies both apps share: an article reads the same at the store and at central."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from recommerce.catalog.model import Article


class ArticleOut(BaseModel):
    id: str
    category_code: str
    brand: str
    model: str
    name: str
    gtin: str | None
    reference_new_price_cents: int
    released_on: date | None
    attributes: dict[str, str]

    @classmethod
    def of(cls, a: Article) -> ArticleOut:
        return cls(
            id=a.id,
            category_code=a.category_code,
            brand=a.brand,
            model=a.model,
            name=a.name,
            gtin=a.gtin,
            reference_new_price_cents=a.reference_new_price.cents,
            released_on=a.released_on,
            attributes=a.attributes,
        )
