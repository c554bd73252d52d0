"""The marketplace's search port: what the website asks of the listing index, engine-free.

Central keeps the listings in its database; the index is a copy kept in step with it, which can
always be rebuilt from the database. The website only speaks to it through `ListingIndex`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

# The largest page a customer may ask for.
MAX_LIMIT = 100


class Sort(StrEnum):
    """The orders a customer can sort the listings in."""

    RELEVANCE = "relevance"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    NEWEST = "newest"


@dataclass(frozen=True, slots=True)
class ListingDoc:
    """What the index knows of one listing: enough to find it, filter it and sort it."""

    item_id: str  # uuid string, the key
    title: str  # article name, e.g. "Téléviseur Samsung QE55 4K"
    description: str  # the store's own words on this item
    category_code: str  # e.g. "tv"
    brand: str  # e.g. "Samsung" ("" when none)
    grade: str  # "A" | "B" | "C" | "D"
    price_cents: int
    store_number: int
    city: str  # the store's city, e.g. "Lyon"
    listed_at: datetime  # timezone-aware UTC


@dataclass(frozen=True, slots=True)
class ListingQuery:
    """A customer's search: free words, filters, an order and a page."""

    text: str = ""  # free words; "" = everything
    category: str | None = None
    brand: str | None = None
    grades: tuple[str, ...] = ()  # any of these; () = all
    min_price_cents: int | None = None
    max_price_cents: int | None = None
    city: str | None = None
    store_number: int | None = None
    sort: Sort = Sort.RELEVANCE
    offset: int = 0
    limit: int = 24


@dataclass(frozen=True, slots=True)
class Facets:
    """How many listings match per value, counted over all matching listings, not the page."""

    category: dict[str, int]
    brand: dict[str, int]
    grade: dict[str, int]
    city: dict[str, int]


@dataclass(frozen=True, slots=True)
class ListingResults:
    """One page of a search, with the total and the facet counts of the whole match."""

    total: int  # how many listings match
    item_ids: list[str]  # the page, in the requested order
    facets: Facets


class ListingIndex(Protocol):
    """The searchable copy of the listings that the website queries."""

    engine: str  # e.g. "tantivy 0.27.0 (embedded)"

    def upsert(self, docs: Iterable[ListingDoc]) -> None:
        """Add or replace these listings; visible to the next search."""
        ...

    def remove(self, item_ids: Iterable[str]) -> None:
        """Take these listings off; visible to the next search."""
        ...

    def search(self, query: ListingQuery) -> ListingResults:
        """One page of the listings matching the query, with the total and the facets."""
        ...

    def rebuild(self, docs: Iterable[ListingDoc]) -> None:
        """Drop every listing and index these instead (streamed, never held all at once)."""
        ...

    def count(self) -> int:
        """How many listings the index holds."""
        ...

    def close(self) -> None:
        """Release the index (files, writer threads)."""
        ...
