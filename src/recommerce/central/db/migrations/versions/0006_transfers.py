"""transfers between stores

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from recommerce.db.types import UtcDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "transfers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("from_store", sa.Integer(), nullable=False),
        sa.Column("to_store", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["from_store"], ["stores.number"], name=op.f("fk_transfers_from_store_stores")
        ),
        sa.ForeignKeyConstraint(
            ["to_store"], ["stores.number"], name=op.f("fk_transfers_to_store_stores")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
    )
    op.create_index(
        "ix_transfers_to_store_status", "transfers", ["to_store", "status"], unique=False
    )
    op.create_index(
        "ix_transfers_from_store_status", "transfers", ["from_store", "status"], unique=False
    )
    op.create_table(
        "transfer_items",
        sa.Column("transfer_id", sa.String(length=36), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("label_code", sa.String(length=13), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.item_id"], name=op.f("fk_transfer_items_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["transfer_id"], ["transfers.id"], name=op.f("fk_transfer_items_transfer_id_transfers")
        ),
        sa.PrimaryKeyConstraint("transfer_id", "item_id", name=op.f("pk_transfer_items")),
    )
    op.create_index("ix_transfer_items_item_id", "transfer_items", ["item_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_transfer_items_item_id", table_name="transfer_items")
    op.drop_table("transfer_items")
    op.drop_index("ix_transfers_from_store_status", table_name="transfers")
    op.drop_index("ix_transfers_to_store_status", table_name="transfers")
    op.drop_table("transfers")
