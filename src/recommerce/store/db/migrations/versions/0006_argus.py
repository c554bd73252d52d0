"""argus: the price guides central sends, and markdowns of aging stock

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 02:00:00.000000
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
        "argus_guides",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("trained_at", UtcDateTime(), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_argus_guides")),
    )
    op.create_table(
        "price_changes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("from_cents", sa.BigInteger(), nullable=False),
        sa.Column("to_cents", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("approved_by", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by"], ["staff.id"], name=op.f("fk_price_changes_approved_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_price_changes_item_id_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_changes")),
    )
    op.create_index(op.f("ix_price_changes_item_id"), "price_changes", ["item_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_price_changes_item_id"), table_name="price_changes")
    op.drop_table("price_changes")
    op.drop_table("argus_guides")
