"""Central's side of the upstream sync (docs/sync-protocol.md): cursors, the event log,
quarantine, and the read models built from the stores' events.

The tables live on the same `metadata` as the registry so one migration history covers them.
The event log is the truth; the read models are what head office queries (stock, sales,
the police register, the fiscal chain's copy, till counts) and what reconciliation compares
with the stores' declared day totals. Every read-model row carries `store_number`; the ones
queried per business day are indexed on (store_number, business_day).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from recommerce.central.db.tables import metadata
from recommerce.db.types import UtcDateTime
from recommerce.sync.validation import ID_MAX as ID
from recommerce.sync.validation import LABEL_CODE_MAX as LABEL_CODE
from recommerce.sync.validation import NAME_MAX as NAME
from recommerce.sync.validation import SHORT_MAX as SHORT

# Column sizes are the limits the validation of incoming events checks, so that a valid event
# always fits its row.

# --- protocol state ----------------------------------------------------------------------------
# One row per store that ever pushed a batch; the row is locked while a batch applies, so two
# concurrent pushes of the same store apply one after the other.
sync_cursors = Table(
    "sync_cursors",
    metadata,
    Column("store_number", ForeignKey("stores.number"), primary_key=True, autoincrement=False),
    Column("last_applied_seq", BigInteger, nullable=False),
    Column("store_head_seq", BigInteger, nullable=False),  # the store's newest outbox seq
    Column("last_batch_at", UtcDateTime),  # when a batch last applied something
    Column("last_seen_at", UtcDateTime),  # when the store last pushed (duplicates included)
)

# Every valid event, as the store sent it: the log the read models are rebuilt from.
events = Table(
    "events",
    metadata,
    Column("store_number", ForeignKey("stores.number"), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("event_id", String(ID), nullable=False, unique=True),
    Column("type", String(NAME), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("payload", JSON, nullable=False),
    PrimaryKeyConstraint("store_number", "seq"),
    Index("ix_events_received_at_store_number", "received_at", "store_number"),  # sync health
)

# Events that failed validation: acked (one bad event never blocks a store) and kept whole,
# with the reason, for head office to look at. Fields are free text: a bad event may carry
# anything.
quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("store_number", ForeignKey("stores.number"), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("event_id", Text),
    Column("type", Text),
    Column("reason", Text, nullable=False),
    Column("event", JSON, nullable=False),
    Column("quarantined_at", UtcDateTime, nullable=False),
    Index("ix_quarantine_store_number_seq", "store_number", "seq"),
)

# --- read models -------------------------------------------------------------------------------
items = Table(
    "items",
    metadata,
    Column("item_id", String(ID), primary_key=True),
    Column("store_number", ForeignKey("stores.number"), nullable=False),
    Column("label_code", String(LABEL_CODE), nullable=False),
    Column("article_id", String(ID), nullable=False),
    Column("grade", String(SHORT), nullable=False),
    Column("purchase_id", String(ID), nullable=False),
    Column("purchase_price_cents", BigInteger, nullable=False),
    Column("asking_price_cents", BigInteger, nullable=False),
    Column("vat_regime", String(SHORT), nullable=False),
    Column("status", String(SHORT), nullable=False),
    Column("status_at", UtcDateTime, nullable=False),
    Column("sold_ticket_id", String(ID)),
    Index("ix_items_store_number_status", "store_number", "status"),
    Index("ix_items_store_number_label_code", "store_number", "label_code"),
)

purchases = Table(
    "purchases",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("store_number", ForeignKey("stores.number"), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("business_day", Date, nullable=False),  # local date in the store's time zone
    Column("payment_method", String(SHORT), nullable=False),
    Column("total_cents", BigInteger, nullable=False),
    Column("item_count", Integer, nullable=False),
    Index("ix_purchases_store_number_business_day", "store_number", "business_day"),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("store_number", ForeignKey("stores.number"), nullable=False),
    Column("number", String(NAME), nullable=False),  # the display number printed on the ticket
    Column("till", String(SHORT), nullable=False),
    Column("kind", String(SHORT), nullable=False),  # sale | return
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("business_day", Date, nullable=False),
    Column("total_cents", BigInteger, nullable=False),
    Column("refers_to", String(NAME)),  # a return: the display number of the sale it corrects
    Column("lines", JSON, nullable=False),
    Column("tenders", JSON, nullable=False),
    Column("vat", JSON, nullable=False),
    Index("ix_tickets_store_number_business_day", "store_number", "business_day"),
)

# The police register as central knows it: acquisitions (from purchases) and corrections.
register_entries = Table(
    "register_entries",
    metadata,
    Column("store_number", ForeignKey("stores.number"), nullable=False),
    Column("book", String(SHORT), nullable=False),
    Column("number", BigInteger, nullable=False),
    Column("kind", String(SHORT), nullable=False),  # acquisition | correction
    Column("purchase_id", String(ID)),
    Column("labels", JSON),
    Column("corrects", BigInteger),
    Column("reason", Text),
    Column("recorded_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("store_number", "book", "number"),
)

# Central's copy of each store's fiscal chain: the seq and hash of every ticket and closing.
journal_records = Table(
    "journal_records",
    metadata,
    Column("store_number", ForeignKey("stores.number"), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("kind", String(SHORT), nullable=False),  # ticket | closing
    Column("hash", String(NAME), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("label", String(NAME), nullable=False),  # the ticket number or "day 2026-11-20"
    PrimaryKeyConstraint("store_number", "seq"),
)

closings = Table(
    "closings",
    metadata,
    Column("store_number", ForeignKey("stores.number"), nullable=False),
    Column("period", String(SHORT), nullable=False),  # day | month | year
    Column("label", String(SHORT), nullable=False),  # 2026-11-20 | 2026-11 | 2026
    Column("seq", BigInteger, nullable=False),
    Column("sales_count", Integer, nullable=False),
    Column("returns_count", Integer, nullable=False),
    Column("total_cents", BigInteger, nullable=False),  # the period's tickets, returns included
    Column("grand_total_cents", BigInteger, nullable=False),  # perpetual: previous + total
    Column("day_totals", JSON),  # what the store declared for reconciliation (daily only)
    Column("closed_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("store_number", "period", "label"),
)

till_sessions = Table(
    "till_sessions",
    metadata,
    Column("session_id", String(ID), primary_key=True),
    Column("store_number", ForeignKey("stores.number"), nullable=False, index=True),
    Column("till", String(SHORT), nullable=False),
    Column("closed_at", UtcDateTime, nullable=False),
    Column("expected", JSON, nullable=False),
    Column("counted", JSON, nullable=False),
    Column("difference", JSON, nullable=False),
)

# Transfers between stores (architecture.md section 3): sent by the owner (`ItemsTransferred`),
# counted by the receiving store (`TransferReceived`). While an item is in transit its row in
# `items` keeps the sending store's number, with status in_transit; the reception moves it.
transfers = Table(
    "transfers",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("number", String(SHORT), nullable=False),  # the sending store's: TR-042-000001
    Column("from_store", ForeignKey("stores.number"), nullable=False),
    Column("to_store", ForeignKey("stores.number"), nullable=False),
    Column("status", String(SHORT), nullable=False),  # sent | received | partially_received
    Column("note", Text, nullable=False),
    Column("sent_at", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime),  # the latest reception
    Index("ix_transfers_to_store_status", "to_store", "status"),
    Index("ix_transfers_from_store_status", "from_store", "status"),
)

transfer_items = Table(
    "transfer_items",
    metadata,
    Column("transfer_id", ForeignKey("transfers.id"), primary_key=True),
    Column("item_id", ForeignKey("items.item_id"), primary_key=True),
    Column("label_code", String(LABEL_CODE), nullable=False),
    Column("status", String(SHORT), nullable=False),  # in_transit | received | missing
    Column("received_at", UtcDateTime),
    Index("ix_transfer_items_item_id", "item_id"),
)
