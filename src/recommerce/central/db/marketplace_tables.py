"""The marketplace's tables at central (docs/marketplace.md).

`listings` holds what each store publishes of its items (ItemListingChanged). A listing is
shown while it is published and its item is in stock in `items`: the till sale that central
applies moves the item to sold in the same transaction, which takes it off the marketplace.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, ForeignKey, Index, String, Table, Text

from recommerce.central.db.tables import metadata
from recommerce.db.types import UtcDateTime

listings = Table(
    "listings",
    metadata,
    Column("item_id", ForeignKey("items.item_id"), primary_key=True),
    Column("store_number", ForeignKey("stores.number"), nullable=False),
    Column("article_id", String(36), nullable=False),
    Column("grade", String(20), nullable=False),
    Column("price_cents", BigInteger, nullable=False),
    Column("description", Text, nullable=False),
    # [{"full_sha256", "thumb_sha256", "width", "height"}], in the order shown
    Column("photos", JSON, nullable=False),
    Column("published", Boolean, nullable=False),
    Column("published_at", UtcDateTime, nullable=False),  # first published
    Column("updated_at", UtcDateTime, nullable=False),  # the store's last change
)

# The chain's online customers (central owns the customer master), by e-mail address.
customers = Table(
    "customers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("phone", String(40), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# An online order: the items of one store (a cart across stores makes one order per store).
orders = Table(
    "orders",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("number", String(20), nullable=False, unique=True),  # what the customer quotes
    Column("checkout_id", String(36), nullable=False, index=True),  # the cart it came from
    Column("customer_id", ForeignKey("customers.id"), nullable=False, index=True),
    Column("store_number", ForeignKey("stores.number"), nullable=False),
    Column("fulfilment", String(20), nullable=False),
    Column("shipping_address", JSON),  # {"name", "line1", "line2", "postcode", "city"}
    Column("status", String(30), nullable=False),
    Column("items_cents", BigInteger, nullable=False),
    Column("delivery_cents", BigInteger, nullable=False),
    Column("total_cents", BigInteger, nullable=False),
    Column("authorization_id", String(64)),  # the payment provider's
    Column("payment_id", String(64)),  # set once captured
    # authorized, captured, voided, refunded: where the money is, apart from the order's
    # status; the order processor brings it in line with the status (void, capture, refund).
    Column("payment_state", String(20), nullable=False),
    Column("refunded_cents", BigInteger, nullable=False, default=0),
    Column("ordered_at", UtcDateTime, nullable=False),
    Column("reservation_deadline", UtcDateTime, nullable=False),
    Column("answered_at", UtcDateTime),  # the store's answer
    Column("store_reasons", JSON),  # why the store rejected it, by item
    Column("tracking_number", String(64)),
    Column("ticket_number", String(64)),  # the store's sale ticket of the fulfilled order
    Column("delivered_at", UtcDateTime),  # the carrier's delivery: the withdrawal period starts
    Column("updated_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime),
    Column("end_reason", Text),  # why it was cancelled, in the customer's words
    Index("ix_orders_status_reservation_deadline", "status", "reservation_deadline"),
    Index("ix_orders_store_number_status", "store_number", "status"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("order_id", ForeignKey("orders.id"), primary_key=True),
    Column("item_id", ForeignKey("items.item_id"), primary_key=True),
    Column("article_id", String(36), nullable=False),
    Column("title", String(300), nullable=False),
    Column("grade", String(20), nullable=False),
    Column("price_cents", BigInteger, nullable=False),
    Index("ix_order_lines_item_id", "item_id"),
)

# An item taken by an open order: the primary key lets one order at a time have it, even when
# two customers pay at the same instant on two replicas of central.
item_holds = Table(
    "item_holds",
    metadata,
    Column("item_id", ForeignKey("items.item_id"), primary_key=True),
    Column("order_id", ForeignKey("orders.id"), nullable=False, index=True),
    Column("held_at", UtcDateTime, nullable=False),
)

# A collision the ownership rule did not prevent (architecture.md section 3): both facts kept.
conflicts = Table(
    "conflicts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("item_id", String(36), nullable=False, index=True),
    Column("store_number", ForeignKey("stores.number"), nullable=False),
    Column("order_id", ForeignKey("orders.id"), nullable=False),
    Column("store_fact", JSON, nullable=False),  # what the store did (the ticket that sold it)
    Column("online_fact", JSON, nullable=False),  # what the marketplace did (the order)
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("resolution", Text, nullable=False),
)

# Messages to customers, written with the change they tell of, sent by the notification port.
notifications = Table(
    "notifications",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("order_id", ForeignKey("orders.id"), index=True),
    Column("recipient", String(254), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    # A dispatcher sending it holds it until then; one that died lets it go (sent again).
    Column("claimed_until", UtcDateTime),
    Index("ix_notifications_sent_at", "sent_at"),
)
