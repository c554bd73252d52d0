"""The marketplace's listing index on tantivy, embedded in the central process.

Words are folded (lower case, no accents) with the catalogue's own `fold`, both when a listing is
indexed and when a customer searches, so "televiseur" finds "Téléviseur". Each word of a search
must be found in the title, the brand or the description (title first): exactly, with one typo
(two for long words), or, for the last word being typed, as the start of a word.

Filters, facets and sorts read tantivy's column ("fast") fields. One thread writes (under a
lock), any number of threads search; every write is committed and made visible before it
returns, so a listing sold at a till disappears from the very next search.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import tantivy

from recommerce.catalog.search import fold
from recommerce.marketplace.search import (
    Facets,
    ListingDoc,
    ListingQuery,
    ListingResults,
    Sort,
)

# The writer's memory budget: the central server is small. Past it, tantivy writes the pending
# listings to a new segment on disk and carries on; nothing is visible before the commit.
WRITER_HEAP_BYTES = 64_000_000
WRITER_THREADS = 1

# How much a word found in each field weighs in the relevance order.
FIELD_BOOSTS: dict[str, float] = {"title": 3.0, "brand_text": 2.0, "description": 1.0}
# A word found only as the start of a longer word, or only with a typo, scores a fixed fraction
# of its field's boost; an exact word scores its field's BM25 on top, so exact matches rank first.
PREFIX_SCORE = 0.5
TYPO_SCORE = 0.2
# Words this long tolerate one typo; words at least TWO_TYPOS_LENGTH long, two.
TYPO_MIN_LENGTH = 4
TWO_TYPOS_LENGTH = 8
# The last word is also matched as a prefix when it has at least this many letters.
PREFIX_MIN_LENGTH = 2
# tantivy's default tokenizer drops words of 40 bytes or more; a query does the same.
LONGEST_WORD = 40

# The facets, each counted on the index field of the same name; far more values than any has.
FACET_FIELDS = ("category", "brand", "grade", "city")
FACET_MAX_VALUES = 10_000

# What tantivy writes in an index folder: its metadata and lock files, and segment files.
_INDEX_FILES = {"meta.json", ".managed.json", ".tantivy-meta.lock", ".tantivy-writer.lock"}
_SEGMENT_FILE = re.compile(r"[0-9a-f]{32}(\.\d+)?\.[a-z]+")

_log = logging.getLogger(__name__)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _schema() -> tantivy.Schema:
    """The index's fields: what is searched, filtered, counted and sorted on."""
    builder = tantivy.SchemaBuilder()
    # The key: raw (one term), so a listing can be replaced or deleted by it.
    builder.add_text_field("item_id", stored=True, tokenizer_name="raw", index_option="basic")
    # Searched words, folded before indexing; no positions (no phrase search).
    for field in FIELD_BOOSTS:
        builder.add_text_field(field, tokenizer_name="default", index_option="freq")
    # Counted (facets) and filtered: category codes folded, grades in capitals.
    builder.add_text_field("category", fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("grade", fast=True, tokenizer_name="raw", index_option="basic")
    # Counted with the store's own spelling ("Saint-Étienne"), filtered on the folded value.
    builder.add_text_field("brand", fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("brand_key", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("city", fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("city_key", tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("store_number", indexed=True)
    # Filtered by range and sorted on.
    builder.add_integer_field("price_cents", fast=True)
    builder.add_integer_field("listed_at_us", fast=True)
    return builder.build()


# The same word splitting as the index's "default" tokenizer, applied to folded query text.
_WORDS = (
    tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    .filter(tantivy.Filter.remove_long(LONGEST_WORD))
    .filter(tantivy.Filter.lowercase())
    .build()
)


def query_words(text: str) -> list[str]:
    """The folded words of a customer's search, split as the index splits titles."""
    return list(_WORDS.analyze(fold(text)))


def _outdated(path: Path, schema: tantivy.Schema) -> bool:
    """Whether `path` holds an index this version cannot use (older format or other fields)."""
    if not tantivy.Index.exists(str(path)):
        return False
    if not tantivy.Index.is_compatible(str(path)):
        return True
    return bool(tantivy.Index.open(str(path)).schema != schema)


def _clear_index_files(path: Path) -> None:
    """Delete the files tantivy keeps in `path` (and nothing else found there)."""
    for file in path.iterdir():
        segment_file = _SEGMENT_FILE.fullmatch(file.name) is not None
        if file.is_file() and (segment_file or file.name in _INDEX_FILES):
            file.unlink()


def _microseconds(moment: datetime) -> int:
    """When a listing went online, as microseconds since 1970 (UTC)."""
    if moment.tzinfo is None:
        raise ValueError("listed_at must be timezone-aware")
    return (moment - _EPOCH) // _MICROSECOND


def _grade(value: str) -> str:
    return value.strip().upper()


def _document(doc: ListingDoc) -> tantivy.Document:
    """One listing as the index stores it."""
    indexed = tantivy.Document()
    indexed.add_text("item_id", doc.item_id)
    indexed.add_text("title", fold(doc.title))
    indexed.add_text("description", fold(doc.description))
    indexed.add_text("category", fold(doc.category_code))
    indexed.add_text("grade", _grade(doc.grade))
    # Facet fields get a value on every listing, "" when there is none: tantivy counts a column
    # with a value per listing several times faster than one with gaps. "" is never a facet.
    brand = doc.brand.strip()
    indexed.add_text("brand", brand)
    if brand:
        indexed.add_text("brand_key", fold(brand))
        indexed.add_text("brand_text", fold(brand))
    city = doc.city.strip()
    indexed.add_text("city", city)
    if city:
        indexed.add_text("city_key", fold(city))
    indexed.add_integer("store_number", doc.store_number)
    indexed.add_integer("price_cents", doc.price_cents)
    indexed.add_integer("listed_at_us", _microseconds(doc.listed_at))
    return indexed


class TantivyListingIndex:
    """The listing index in an embedded tantivy: on disk under `path`, or in memory if None."""

    def __init__(self, path: Path | None = None) -> None:
        self.engine = f"tantivy {version('tantivy')} (embedded)"
        self._schema = _schema()
        if path is None:
            self._index = tantivy.Index(self._schema)
        else:
            path.mkdir(parents=True, exist_ok=True)
            if _outdated(path, self._schema):
                # The index is only a copy of the database: start empty, the owner rebuilds it.
                _log.warning("listing index at %s has another layout; starting it empty", path)
                _clear_index_files(path)
            self._index = tantivy.Index(self._schema, path=str(path), reuse=True)
        # Searches see what the last write committed: each write reloads the reader itself.
        self._index.config_reader("Manual")
        self._index.reload()
        self._writer: tantivy.IndexWriter | None = self._index.writer(
            WRITER_HEAP_BYTES, WRITER_THREADS
        )
        self._write_lock = threading.Lock()

    # -- writes -------------------------------------------------------------------------------

    def upsert(self, docs: Iterable[ListingDoc]) -> None:
        """Add or replace these listings; the next search sees them."""
        with self._write_lock:
            writer = self._open_writer()
            try:
                for doc in docs:
                    writer.delete_documents_by_term("item_id", doc.item_id)
                    writer.add_document(_document(doc))
                self._publish(writer)
            except BaseException:
                writer.rollback()
                raise

    def remove(self, item_ids: Iterable[str]) -> None:
        """Take these listings off the marketplace; the next search no longer finds them."""
        with self._write_lock:
            writer = self._open_writer()
            try:
                for item_id in item_ids:
                    writer.delete_documents_by_term("item_id", item_id)
                self._publish(writer)
            except BaseException:
                writer.rollback()
                raise

    def rebuild(self, docs: Iterable[ListingDoc]) -> None:
        """Replace every listing with these, read one by one from the iterable.

        Searches keep seeing the previous listings until the new ones are all indexed; the
        writer spills to disk past its memory budget, so any number of listings fits.
        """
        with self._write_lock:
            writer = self._open_writer()
            try:
                writer.delete_all_documents()
                for doc in docs:
                    writer.add_document(_document(doc))
                self._publish(writer)
            except BaseException:
                writer.rollback()
                raise

    def close(self) -> None:
        """Let background merges finish and release the writer; the index stays on disk."""
        with self._write_lock:
            if self._writer is not None:
                self._writer.wait_merging_threads()
                self._writer = None

    def _open_writer(self) -> tantivy.IndexWriter:
        if self._writer is None:
            raise RuntimeError("the listing index is closed")
        return self._writer

    def _publish(self, writer: tantivy.IndexWriter) -> None:
        writer.commit()
        self._index.reload()

    # -- reads --------------------------------------------------------------------------------

    def count(self) -> int:
        """How many listings the index holds."""
        return int(self._index.searcher().num_docs)

    def search(self, query: ListingQuery) -> ListingResults:
        """One page of the matching listings, their total and facet counts over all of them."""
        searcher = self._index.searcher()
        words = query_words(query.text)
        matcher = self._matcher(words, query)
        order_by, order = _order(query.sort, has_words=bool(words))
        offset = max(query.offset, 0)
        if query.limit > 0:
            found = searcher.search(
                matcher,
                limit=query.limit,
                count=True,
                order_by_field=order_by,
                offset=offset,
                order=order,
            )
            total = int(found.count or 0)  # type: ignore[attr-defined]  # missing from the stub
            item_ids = [
                str(searcher.doc(address).get_first("item_id")) for _, address in found.hits
            ]
        else:
            counted = searcher.search(matcher, limit=1, count=True)
            total = int(counted.count or 0)  # type: ignore[attr-defined]  # missing from the stub
            item_ids = []
        facets = _facets(searcher, matcher) if total else Facets({}, {}, {}, {})
        return ListingResults(total=total, item_ids=item_ids, facets=facets)

    def _matcher(self, words: list[str], query: ListingQuery) -> tantivy.Query:
        """The tantivy query: every word must match, every filter must hold (filters score 0)."""
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for position, word in enumerate(words):
            last = position == len(words) - 1
            clauses.append((tantivy.Occur.Must, self._word(word, last=last)))
        for condition in self._filters(query):
            clauses.append((tantivy.Occur.Must, tantivy.Query.const_score_query(condition, 0.0)))
        if not clauses:
            return tantivy.Query.all_query()
        return tantivy.Query.boolean_query(clauses)

    def _word(self, word: str, *, last: bool) -> tantivy.Query:
        """One search word: found exactly, with a typo or (being typed) as a prefix, anywhere."""
        schema = self._schema
        typos = 0
        if len(word) >= TYPO_MIN_LENGTH:
            typos = 2 if len(word) >= TWO_TYPOS_LENGTH else 1
        as_prefix = last and len(word) >= PREFIX_MIN_LENGTH
        ways: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for field, boost in FIELD_BOOSTS.items():
            exact = tantivy.Query.term_query(schema, field, word, index_option="freq")
            ways.append((tantivy.Occur.Should, tantivy.Query.boost_query(exact, boost)))
            if as_prefix:
                prefix = tantivy.Query.fuzzy_term_query(schema, field, word, 0, True, True)
                ways.append(
                    (
                        tantivy.Occur.Should,
                        tantivy.Query.const_score_query(prefix, PREFIX_SCORE * boost),
                    )
                )
            if typos:
                typo = tantivy.Query.fuzzy_term_query(schema, field, word, typos, True, False)
                ways.append(
                    (
                        tantivy.Occur.Should,
                        tantivy.Query.const_score_query(typo, TYPO_SCORE * boost),
                    )
                )
        return tantivy.Query.boolean_query(ways)

    def _filters(self, query: ListingQuery) -> list[tantivy.Query]:
        schema = self._schema
        filters: list[tantivy.Query] = []
        if query.category is not None:
            filters.append(tantivy.Query.term_query(schema, "category", fold(query.category)))
        if query.brand is not None:
            filters.append(tantivy.Query.term_query(schema, "brand_key", fold(query.brand)))
        if query.city is not None:
            filters.append(tantivy.Query.term_query(schema, "city_key", fold(query.city)))
        if query.grades:
            grades = sorted({_grade(grade) for grade in query.grades})
            filters.append(tantivy.Query.term_set_query(schema, "grade", grades))
        if query.store_number is not None:
            filters.append(tantivy.Query.term_query(schema, "store_number", query.store_number))
        if query.min_price_cents is not None or query.max_price_cents is not None:
            filters.append(
                tantivy.Query.range_query(
                    schema,
                    "price_cents",
                    tantivy.FieldType.Integer,
                    query.min_price_cents,
                    query.max_price_cents,
                )
            )
        return filters


def _order(sort: Sort, *, has_words: bool) -> tuple[str | None, tantivy.Order]:
    """The fast field and direction of a sort; relevance without words means newest first."""
    if sort is Sort.PRICE_ASC:
        return "price_cents", tantivy.Order.Asc
    if sort is Sort.PRICE_DESC:
        return "price_cents", tantivy.Order.Desc
    if sort is Sort.NEWEST or not has_words:
        return "listed_at_us", tantivy.Order.Desc
    return None, tantivy.Order.Desc


def _facets(searcher: tantivy.Searcher, matcher: tantivy.Query) -> Facets:
    """Counts per category, brand, grade and city over every listing the query matches."""
    spec: dict[str, Any] = {
        name: {"terms": {"field": name, "size": FACET_MAX_VALUES}} for name in FACET_FIELDS
    }
    result = searcher.aggregate(matcher, spec)
    counts: dict[str, dict[str, int]] = {}
    for name in FACET_FIELDS:
        buckets = result.get(name, {}).get("buckets", [])
        counts[name] = {
            str(bucket["key"]): int(bucket["doc_count"])
            for bucket in buckets
            if bucket["key"] != ""
        }
    return Facets(
        category=counts["category"],
        brand=counts["brand"],
        grade=counts["grade"],
        city=counts["city"],
    )
