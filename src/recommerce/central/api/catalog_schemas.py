"""Bodies of the catalogue master's API and of the stores' feed. Amounts are integer cents."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from recommerce.catalog.model import Category, Grade
from recommerce.central.services.catalog import ArticleInput, ArticlePage, CategoryInput
from recommerce.web.schemas import ArticleOut

Line = Annotated[str, StringConstraints(max_length=300)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CategoryIn(Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    precious_metal: bool = Field(
        default=False, description="Gold or silver: its own register, no cash, a 48 h hold"
    )
    grades: dict[str, Annotated[str, StringConstraints(max_length=2000)]] = Field(
        description='The written definition of each grade: {"A": "…", "B": "…", "C": "…", "D": "…"}'
    )

    def to_input(self, code: str) -> CategoryInput:
        return CategoryInput(
            code=code, name=self.name, precious_metal=self.precious_metal, grades=self.grades
        )


class GradeOut(BaseModel):
    grade: Grade
    label: str
    definition: str


class CategoryOut(BaseModel):
    code: str
    name: str
    precious_metal: bool
    grades: list[GradeOut]

    @classmethod
    def of(cls, category: Category) -> CategoryOut:
        return cls(
            code=category.code,
            name=category.name,
            precious_metal=category.precious_metal,
            grades=[
                GradeOut(grade=g, label=g.label, definition=category.grade_definition(g))
                for g in Grade
            ],
        )


class ArticleIn(Strict):
    category_code: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    brand: Line
    model: Line
    name: Line | None = Field(default=None, description='Default: "brand model"')
    gtin: Annotated[str, StringConstraints(max_length=20)] | None = None
    reference_new_price_cents: int = Field(ge=0, le=100_000_000)
    released_on: date | None = None
    attributes: dict[
        Annotated[str, StringConstraints(max_length=64)],
        Annotated[str, StringConstraints(max_length=200)],
    ] = Field(default_factory=dict)

    def to_input(self) -> ArticleInput:
        return ArticleInput(
            category_code=self.category_code,
            brand=self.brand,
            model=self.model,
            reference_new_price_cents=self.reference_new_price_cents,
            name=self.name,
            gtin=self.gtin,
            released_on=self.released_on,
            attributes=self.attributes,
        )


class ArticlePageOut(BaseModel):
    articles: list[ArticleOut]
    total: int = Field(description="How many articles match, over all pages")
    limit: int
    offset: int

    @classmethod
    def of(cls, page: ArticlePage, *, limit: int, offset: int) -> ArticlePageOut:
        return cls(
            articles=[ArticleOut.of(a) for a in page.articles],
            total=page.total,
            limit=limit,
            offset=offset,
        )


class ImportOut(BaseModel):
    created: int
    updated: int
    unchanged: int = Field(description="Lines identical to their article: nothing sent to stores")


class ConfigurationIn(Strict):
    value: Any = Field(description="Any JSON value")


class FeedEventOut(BaseModel):
    seq: int
    type: str
    schema_version: int
    created_at: datetime
    payload: dict[str, Any]


class FeedOut(BaseModel):
    events: list[FeedEventOut] = Field(description="The rows after the cursor, in seq order")
    head: int = Field(description="The store's newest feed seq")


class SnapshotOut(BaseModel):
    feed_seq: int = Field(description="Read the feed after this seq once the snapshot is loaded")
    categories: list[dict[str, Any]] = Field(description="As `CategoryUpserted` payloads")
    articles: list[dict[str, Any]] = Field(description="As `ArticleUpserted` payloads")
    configuration: dict[str, Any]
    events: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Feed events still to apply (`type`, `payload`): the store's online orders "
        "not yet settled, and the newest price guide",
    )
