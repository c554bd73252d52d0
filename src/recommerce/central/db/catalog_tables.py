"""Central's catalogue master and the per-store downstream feed (docs/sync-protocol.md).

Central owns the catalogue: categories with their grade guide, and articles. Every change is
also appended, in the same transaction, to the feed of every store: one row per store with
that store's own gapless `seq`. `feed_heads` holds each store's newest seq (locked while a
row is appended, so seqs follow commit order) and the oldest seq still kept (older rows are
pruned; a store behind that must reload the snapshot).

The tables live on the same `metadata` as the registry so one migration history covers them.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from recommerce.central.db.tables import metadata
from recommerce.db.types import UtcDateTime

# --- the catalogue master ---------------------------------------------------------------------
categories = Table(
    "categories",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("precious_metal", Boolean, nullable=False, default=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

grade_definitions = Table(
    "grade_definitions",
    metadata,
    Column("category_code", ForeignKey("categories.code"), primary_key=True),
    Column("grade", String(1), primary_key=True),
    Column("definition", Text, nullable=False),
)

# The same columns as a store's `articles`, plus when head office last changed the article.
articles = Table(
    "articles",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("category_code", ForeignKey("categories.code"), nullable=False, index=True),
    Column("brand", String(120), nullable=False),
    Column("model", String(200), nullable=False),
    Column("name", String(300), nullable=False),
    Column("gtin", String(14), unique=True),
    Column("reference_new_price_cents", BigInteger, nullable=False),
    Column("released_on", Date),
    Column("attributes", JSON, nullable=False, default=dict),
    Column("search_text", Text, nullable=False),  # folded name and category for search
    Column("updated_at", UtcDateTime, nullable=False),
)

# Chain-wide settings the stores apply (`ConfigurationChanged`), e.g. a limit or a label text.
configuration = Table(
    "configuration",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# --- the downstream feed ----------------------------------------------------------------------
feed = Table(
    "feed",
    metadata,
    Column("store_number", ForeignKey("stores.number"), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("type", String(64), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("payload", JSON, nullable=False),
    PrimaryKeyConstraint("store_number", "seq"),
)

feed_heads = Table(
    "feed_heads",
    metadata,
    Column("store_number", ForeignKey("stores.number"), primary_key=True, autoincrement=False),
    Column("head_seq", BigInteger, nullable=False),  # the newest seq given (0: none yet)
    Column("oldest_seq", BigInteger, nullable=False),  # the oldest seq still kept
)
