"""offer overrides: prices agreed at the counter above the argus' buy offer

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from recommerce.db.types import UtcDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "offer_overrides",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("purchase_id", sa.String(length=36), nullable=False),
        sa.Column("label_code", sa.String(length=13), nullable=False),
        sa.Column("article_id", sa.String(length=36), nullable=False),
        sa.Column("grade", sa.String(length=1), nullable=False),
        sa.Column("offer_cents", sa.BigInteger(), nullable=False),
        sa.Column("agreed_price_cents", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("staff_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_offer_overrides_article_id_articles")
        ),
        sa.ForeignKeyConstraint(
            ["purchase_id"],
            ["purchases.id"],
            name=op.f("fk_offer_overrides_purchase_id_purchases"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_offer_overrides_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_overrides")),
    )
    op.create_index(op.f("ix_offer_overrides_at"), "offer_overrides", ["at"], unique=False)
    op.create_index(
        op.f("ix_offer_overrides_purchase_id"), "offer_overrides", ["purchase_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_offer_overrides_purchase_id"), table_name="offer_overrides")
    op.drop_index(op.f("ix_offer_overrides_at"), table_name="offer_overrides")
    op.drop_table("offer_overrides")
