"""The store node's tables (SQLAlchemy Core). Migrations in `migrations/` create them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from recommerce.db.types import UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Gapless sequences (register numbers, label sequence, outbox seq): one row each, incremented
# inside the business transaction so that a rollback gives the number back.
counters = Table(
    "counters",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

categories = Table(
    "categories",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("precious_metal", Boolean, nullable=False, default=False),
)

grade_definitions = Table(
    "grade_definitions",
    metadata,
    Column("category_code", ForeignKey("categories.code"), primary_key=True),
    Column("grade", String(1), primary_key=True),
    Column("definition", Text, nullable=False),
)

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
    Column("search_text", Text, nullable=False),  # folded name, brand, model for search
)

staff = Table(
    "staff",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("full_name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(36)),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 of the token; never the token
    Column("staff_id", ForeignKey("staff.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # bearer | session
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

purchases = Table(
    "purchases",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("store_number", Integer, nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False, index=True),
    Column("seller_key", String(64), nullable=False),
    Column("seller_name", String(300), nullable=False),
    Column("payment_method", String(20), nullable=False),
    Column("payment", JSON, nullable=False),  # IBAN encrypted
    Column("total_cents", BigInteger, nullable=False),
    Column("created_by", ForeignKey("staff.id"), nullable=False),
    Index("ix_purchases_seller_cash", "seller_key", "payment_method", "occurred_at"),
)

items = Table(
    "items",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("label_code", String(13), nullable=False, unique=True),
    Column("store_number", Integer, nullable=False),
    Column("article_id", ForeignKey("articles.id"), nullable=False, index=True),
    Column("grade", String(1), nullable=False),
    # The purchase that acquired it: one of this store's, or, for an item received from
    # another store, one of that store's (no foreign key: the row is in the other database).
    Column("purchase_id", String(36), nullable=False, index=True),
    Column("purchase_price_cents", BigInteger, nullable=False),
    Column("asking_price_cents", BigInteger, nullable=False),
    Column("vat_regime", String(10), nullable=False),
    Column("register_book", String(20), nullable=False),
    Column("register_number", BigInteger, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("serials", JSON, nullable=False),
    Column("accessories", JSON, nullable=False),
    Column("description", Text, nullable=False),
    Column("resale_blocked_until", UtcDateTime),
    Column("weight_grams", String(20)),
    Column("fineness", Integer),
    Column("reserved_for", String(36)),  # the online order, while reserved
    Column("sold_on", String(40)),  # the ticket's display number, while sold
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", ForeignKey("staff.id"), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", ForeignKey("staff.id"), nullable=False),
)

# The police register. Append-only: no UPDATE or DELETE path in the code, and triggers refuse
# both in the database (Code pénal R321-3 ff., business-rules A.5).
police_register = Table(
    "police_register",
    metadata,
    Column("book", String(20), primary_key=True),
    Column("number", BigInteger, primary_key=True),
    Column("recorded_at", UtcDateTime, nullable=False, index=True),
    Column("kind", String(12), nullable=False),
    Column("corrects", BigInteger),
    Column("reason", Text),
    Column("purchase_id", ForeignKey("purchases.id")),
    Column("seller", JSON, nullable=False),  # identity document number encrypted
    Column("seller_name", String(300), nullable=False),  # folded, for the search by seller
    Column("objects", JSON, nullable=False),
    Column("serials", Text, nullable=False),  # " SERIAL1 SERIAL2 ", for the search by serial
    Column("total_cents", BigInteger, nullable=False),
    Column("payment_method", String(20), nullable=False),
    Column("payment_summary", String(300), nullable=False),
    Column("recorded_by", ForeignKey("staff.id"), nullable=False),
)

# Every consultation of the register: who, when, what, why (business-rules A.5); kept 1 year.
register_consultations = Table(
    "register_consultations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("at", UtcDateTime, nullable=False, index=True),
    Column("staff_id", ForeignKey("staff.id"), nullable=False),
    Column("action", String(20), nullable=False),  # search | view | export_csv | export_pdf
    Column("query", JSON, nullable=False),
    Column("reason", Text, nullable=False),
    Column("results", Integer, nullable=False),
)

watchlist = Table(
    "watchlist",
    metadata,
    Column("serial", String(64), primary_key=True),
    Column("reported_on", Date),
    Column("source", String(200), nullable=False),
    Column("reference", String(200), nullable=False),
    Column("imported_at", UtcDateTime, nullable=False),
    Column("imported_by", ForeignKey("staff.id"), nullable=False),
)

watchlist_alerts = Table(
    "watchlist_alerts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("at", UtcDateTime, nullable=False, index=True),
    Column("staff_id", ForeignKey("staff.id"), nullable=False),
    Column("seller_name", String(300), nullable=False),
    Column("serials", JSON, nullable=False),
    Column("details", JSON, nullable=False),
    Column("acknowledged_at", UtcDateTime),
    Column("acknowledged_by", ForeignKey("staff.id")),
)

# Transactional outbox (architecture.md section 4): seq is gapless and follows commit order.
outbox = Table(
    "outbox",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("event_id", String(36), nullable=False),
    Column("type", String(60), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("acked_at", UtcDateTime),
    UniqueConstraint("event_id"),
)


# --- the till ------------------------------------------------------------------------------
# Tickets, their lines and tenders are never updated nor deleted (CGI art. 286 I 3° bis,
# business-rules D.16): triggers refuse it, as for the police register.
tickets = Table(
    "tickets",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("store_number", Integer, nullable=False),
    Column("till", String(20), nullable=False),
    Column("number", BigInteger, nullable=False),
    Column("display_number", String(40), nullable=False, unique=True),
    Column("kind", String(10), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False, index=True),
    Column("staff_id", ForeignKey("staff.id"), nullable=False),
    Column("total_cents", BigInteger, nullable=False),
    Column("change_cents", BigInteger, nullable=False),
    Column("refers_to", ForeignKey("tickets.id")),  # the sale a return corrects
    Column("non_resident_proof", String(200)),
    Column("session_id", String(36)),
    UniqueConstraint("till", "number"),
)

ticket_lines = Table(
    "ticket_lines",
    metadata,
    Column("ticket_id", ForeignKey("tickets.id"), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("item_id", ForeignKey("items.id"), nullable=False, index=True),
    Column("label_code", String(13), nullable=False),
    Column("article_name", String(300), nullable=False),
    Column("unit_price_cents", BigInteger, nullable=False),
    Column("discount_cents", BigInteger, nullable=False),
    Column("price_cents", BigInteger, nullable=False),
    Column("vat_regime", String(10), nullable=False),
    Column("vat_rate", String(10), nullable=False),
    Column("vat_cents", BigInteger, nullable=False),
)

ticket_tenders = Table(
    "ticket_tenders",
    metadata,
    Column("ticket_id", ForeignKey("tickets.id"), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("reference", String(64)),
)

# The chained, signed fiscal journal of the store (rules D.17-D.20): one chain, gapless seq.
fiscal_journal = Table(
    "fiscal_journal",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(20), nullable=False),
    Column("label", String(120), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False, index=True),
    Column("fields", JSON, nullable=False),
    Column("previous_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
    Column("signature", String(100), nullable=False),
)

store_credits = Table(
    "store_credits",
    metadata,
    Column("code", String(20), primary_key=True),
    Column("issued_cents", BigInteger, nullable=False),
    Column("balance_cents", BigInteger, nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("issued_by", ForeignKey("staff.id"), nullable=False),
    Column("ticket_id", ForeignKey("tickets.id")),
)

# Closed periods, to find the last closing quickly; the closing itself is a journal record.
closings = Table(
    "closings",
    metadata,
    Column("period", String(5), primary_key=True),  # day | month | year
    Column("label", String(10), primary_key=True),  # 2026-11-20 | 2026-11 | 2026
    Column("seq", ForeignKey("fiscal_journal.seq"), nullable=False, unique=True),
    Column("grand_total_cents", BigInteger, nullable=False),
    Column("closed_at", UtcDateTime, nullable=False),
    Column("closed_by", ForeignKey("staff.id"), nullable=False),
)

# A till is opened with a float and closed with the counted amounts per tender.
till_sessions = Table(
    "till_sessions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("till", String(20), nullable=False, index=True),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("opened_by", ForeignKey("staff.id"), nullable=False),
    Column("float_cents", BigInteger, nullable=False),
    Column("closed_at", UtcDateTime),
    Column("closed_by", ForeignKey("staff.id")),
    Column("expected", JSON),  # per tender kind, cents
    Column("counted", JSON),
    Column("difference", JSON),
)

# At most one open session per till: the primary key refuses a second one.
open_tills = Table(
    "open_tills",
    metadata,
    Column("till", String(20), primary_key=True),
    Column("session_id", ForeignKey("till_sessions.id"), nullable=False, unique=True),
)

cash_movements = Table(
    "cash_movements",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("session_id", ForeignKey("till_sessions.id"), nullable=False, index=True),
    Column("at", UtcDateTime, nullable=False),
    Column("by", ForeignKey("staff.id"), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),  # in: positive, out: negative
    Column("reason", String(300), nullable=False),
)


# --- sync with central (docs/sync-protocol.md) ------------------------------------------------
# One row once the store is enrolled: where central is, the store's credential (encrypted with
# the identity key), how far central has acknowledged the outbox and how far the store has
# applied its feed.
sync_state = Table(
    "sync_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1
    Column("central_url", String(300), nullable=False),
    Column("credential", Text, nullable=False),
    Column("enrolled_at", UtcDateTime, nullable=False),
    Column("acked_seq", BigInteger, nullable=False),  # central holds the outbox up to this seq
    Column("feed_seq", BigInteger),  # the last feed row applied; NULL until a snapshot loads
    Column("last_push_at", UtcDateTime),
    Column("last_ack_at", UtcDateTime),
    Column("last_error", Text),
    Column("last_error_at", UtcDateTime),
    Column("blocked_reason", Text),  # why pushing cannot progress (upgrade, credential, ...)
)

# Settings central sends down the feed (`ConfigurationChanged`), by key.
store_configuration = Table(
    "store_configuration",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", JSON),
    Column("updated_at", UtcDateTime, nullable=False),
)


# --- the marketplace (docs/marketplace.md) ---------------------------------------------------
# An item's online listing as the store publishes it: its description for customers and
# whether staff marked it ready for online. Online it shows while it is published and the item
# is in stock; a sale ends it, a return brings it back.
online_listings = Table(
    "online_listings",
    metadata,
    Column("item_id", ForeignKey("items.id"), primary_key=True),
    Column("description", Text, nullable=False),
    Column("published", Boolean, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", ForeignKey("staff.id"), nullable=False),
)

# An item's photos, in the order shown; the image files are in the photo storage, by sha256.
item_photos = Table(
    "item_photos",
    metadata,
    Column("item_id", ForeignKey("items.id"), primary_key=True),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("full_sha256", String(64), nullable=False),
    Column("thumb_sha256", String(64), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("added_at", UtcDateTime, nullable=False),
    Column("added_by", ForeignKey("staff.id"), nullable=False),
)

# Online orders central asked this store to serve: what staff prepare, ship or hand over.
online_orders = Table(
    "online_orders",
    metadata,
    Column("order_id", String(36), primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("fulfilment", String(20), nullable=False),  # collect | ship
    Column("customer_name", String(200), nullable=False),
    Column("items", JSON, nullable=False),  # [{"item_id", "label_code", "title", "price_cents"}]
    Column("total_cents", BigInteger, nullable=False),
    # to_prepare, ready_for_collection, shipped, collected, rejected, cancelled
    Column("status", String(30), nullable=False, index=True),
    Column("reasons", JSON),  # why the store rejected it, by item
    Column("received_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("tracking_number", String(64)),
    Column("ticket_number", String(40)),
)

# The price guides central trained (ArgusGuidePublished), by version: the counter quotes with
# the newest, offline included.
argus_guides = Table(
    "argus_guides",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("method", String(40), nullable=False),
    Column("trained_at", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("payload", JSON, nullable=False),
)

# Every change of an item's asking price after it was bought (a markdown), who approved it.
price_changes = Table(
    "price_changes",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("item_id", ForeignKey("items.id"), nullable=False, index=True),
    Column("at", UtcDateTime, nullable=False),
    Column("from_cents", BigInteger, nullable=False),
    Column("to_cents", BigInteger, nullable=False),
    Column("reason", String(200), nullable=False),
    Column("approved_by", ForeignKey("staff.id"), nullable=False),
)

# Every price agreed at the counter above the argus' buy offer: who, which role, why, and the
# offer it overrode (buyback.offer). Written with the purchase, never changed.
offer_overrides = Table(
    "offer_overrides",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("at", UtcDateTime, nullable=False, index=True),
    Column("purchase_id", ForeignKey("purchases.id"), nullable=False, index=True),
    Column("label_code", String(13), nullable=False),
    Column("article_id", ForeignKey("articles.id"), nullable=False),
    Column("grade", String(1), nullable=False),
    Column("offer_cents", BigInteger, nullable=False),
    Column("agreed_price_cents", BigInteger, nullable=False),
    Column("method", String(40), nullable=False),
    Column("staff_id", ForeignKey("staff.id"), nullable=False),
    Column("role", String(16), nullable=False),
    Column("reason", String(200), nullable=False),
)

# Transfers between stores (architecture.md section 3): outgoing ones this store sent (its items
# in transit from the moment they leave), incoming ones central announced (`TransferIncoming`)
# and a manager receives. The id and number are the sending store's, the same in both stores.
transfers = Table(
    "transfers",
    metadata,
    Column("id", String(36), primary_key=True),
    # TR-042-000001: the sending store's sequence (not unique here: a store set up again
    # from scratch numbers from 1 again, and its transfers must still reach this store)
    Column("number", String(20), nullable=False, index=True),
    Column("direction", String(10), nullable=False),  # outgoing | incoming
    Column("from_store", Integer, nullable=False),
    Column("to_store", Integer, nullable=False),
    # outgoing: sent; incoming: expected, then received or partially_received
    Column("status", String(20), nullable=False, index=True),
    Column("note", Text, nullable=False),
    Column("sent_at", UtcDateTime, nullable=False),
    Column("sent_by", String(36)),  # this store's staff (outgoing); unknown here (incoming)
    Column("received_at", UtcDateTime),  # the latest reception (incoming)
    Column("received_by", ForeignKey("staff.id")),
)

transfer_items = Table(
    "transfer_items",
    metadata,
    Column("transfer_id", ForeignKey("transfers.id"), primary_key=True),
    Column("item_id", String(36), primary_key=True),
    Column("label_code", String(13), nullable=False, index=True),
    Column("status", String(20), nullable=False),  # in_transit | received | missing
    # incoming: the item as the sending store described it, to hold it once it arrives
    Column("item", JSON),
)
