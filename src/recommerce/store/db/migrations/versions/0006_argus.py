"""argus: the price guides central sends

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


def downgrade() -> None:
    op.drop_table("argus_guides")
