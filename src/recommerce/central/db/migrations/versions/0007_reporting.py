"""reporting's rollups, filled from the read models already there

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SALES = ("tickets", "items_sold", "revenue_cents", "cost_cents")
_PURCHASES = ("items_bought", "paid_cents")
# (table, its period column, by category, its measures)
_ROLLUPS = (
    ("sales_daily", "business_day", True, _SALES),
    ("sales_monthly", "month", True, _SALES),
    ("store_sales_daily", "business_day", False, _SALES),
    ("store_sales_monthly", "month", False, _SALES),
    ("purchases_daily", "business_day", True, _PURCHASES),
    ("purchases_monthly", "month", True, _PURCHASES),
)


def upgrade() -> None:
    for name, period, by_category, measures in _ROLLUPS:
        keys = [period, "store_number", *(["category_code"] if by_category else [])]
        op.create_table(
            name,
            sa.Column(period, sa.Date(), nullable=False),
            sa.Column("store_number", sa.Integer(), nullable=False),
            *(
                [sa.Column("category_code", sa.String(length=40), nullable=False)]
                if by_category
                else []
            ),
            *(sa.Column(measure, sa.BigInteger(), nullable=False) for measure in measures),
            sa.ForeignKeyConstraint(
                ["store_number"], ["stores.number"], name=op.f(f"fk_{name}_store_number_stores")
            ),
            sa.PrimaryKeyConstraint(*keys, name=op.f(f"pk_{name}")),
            sqlite_with_rowid=False,
        )
    op.create_index("ix_items_status", "items", ["status"], unique=False)
    op.create_index("ix_events_received_at_store_number", "events", ["received_at", "store_number"])
    # The rollups of the tickets and purchases central already holds, by the service that
    # rebuilds them: it writes these tables as they are now, so a later migration that changes
    # them must replace this call by a fill of its own.
    from recommerce.central.services.rollups import rebuild

    rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_events_received_at_store_number", table_name="events")
    op.drop_index("ix_items_status", table_name="items")
    for name, *_ in reversed(_ROLLUPS):
        op.drop_table(name)
