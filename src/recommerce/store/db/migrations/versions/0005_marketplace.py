"""online listings, item photos and online orders

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 01:20:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from recommerce.db.types import UtcDateTime

CENTRAL_ACCOUNT = "00000000-0000-4000-8000-00000000ce27"

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "online_listings",
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_online_listings_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["staff.id"], name=op.f("fk_online_listings_updated_by_staff")
        ),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_online_listings")),
    )
    op.create_table(
        "item_photos",
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("full_sha256", sa.String(length=64), nullable=False),
        sa.Column("thumb_sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("added_at", UtcDateTime(), nullable=False),
        sa.Column("added_by", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_item_photos_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["added_by"], ["staff.id"], name=op.f("fk_item_photos_added_by_staff")
        ),
        sa.PrimaryKeyConstraint("item_id", "position", name=op.f("pk_item_photos")),
    )

    op.create_table(
        "online_orders",
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("fulfilment", sa.String(length=20), nullable=False),
        sa.Column("customer_name", sa.String(length=200), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=True),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("tracking_number", sa.String(length=64), nullable=True),
        sa.Column("ticket_number", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_online_orders")),
        sa.UniqueConstraint("number", name=op.f("uq_online_orders_number")),
    )
    op.create_index(op.f("ix_online_orders_status"), "online_orders", ["status"], unique=False)
    # Who moves an item when central asks (an online order's reservation): an account that
    # never logs in (inactive, no usable password), so that every move names its author.
    staff = sa.table(
        "staff",
        sa.column("id", sa.String),
        sa.column("username", sa.String),
        sa.column("full_name", sa.String),
        sa.column("role", sa.String),
        sa.column("password_hash", sa.String),
        sa.column("active", sa.Boolean),
        sa.column("created_at", UtcDateTime),
    )
    op.bulk_insert(
        staff,
        [
            {
                "id": CENTRAL_ACCOUNT,
                "username": "central",
                "full_name": "Siège (commandes en ligne)",
                "role": "cashier",
                "password_hash": "!",
                "active": False,
                "created_at": datetime(2026, 11, 29, tzinfo=UTC),
            }
        ],
    )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM staff WHERE id = :id").bindparams(id=CENTRAL_ACCOUNT))
    op.drop_index(op.f("ix_online_orders_status"), table_name="online_orders")
    op.drop_table("online_orders")
    op.drop_table("item_photos")
    op.drop_table("online_listings")
