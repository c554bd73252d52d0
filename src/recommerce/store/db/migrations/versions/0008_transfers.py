"""transfers between stores; an item's purchase may be another store's

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 01:00:00.000000
"""

import re
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from recommerce.db.types import UtcDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PURCHASE_FK = "fk_items_purchase_id_purchases"
# The clause as the store's first migration wrote it in SQLite's copy of the table definition.
_PURCHASE_FK_CLAUSE = re.compile(
    rf",\s*CONSTRAINT {PURCHASE_FK} FOREIGN KEY\s*\(purchase_id\) REFERENCES purchases\s*\(id\)"
)
# Where the downgrade puts it back: before the clause that followed it.
_PURCHASE_FK_PLACE = re.compile(r"(?=,\s*CONSTRAINT fk_items_updated_by_staff )")


def upgrade() -> None:
    # An item received from another store names that store's purchase: the row is not here.
    if op.get_bind().dialect.name == "sqlite":
        _rewrite_items_definition(lambda sql: _PURCHASE_FK_CLAUSE.subn("", sql), with_fk=False)
    else:
        op.drop_constraint(PURCHASE_FK, "items", type_="foreignkey")
    op.create_table(
        "transfers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("from_store", sa.Integer(), nullable=False),
        sa.Column("to_store", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=False),
        sa.Column("sent_by", sa.String(length=36), nullable=True),
        sa.Column("received_at", UtcDateTime(), nullable=True),
        sa.Column("received_by", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["received_by"], ["staff.id"], name=op.f("fk_transfers_received_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
    )
    op.create_index(op.f("ix_transfers_number"), "transfers", ["number"], unique=False)
    op.create_index(op.f("ix_transfers_status"), "transfers", ["status"], unique=False)
    op.create_table(
        "transfer_items",
        sa.Column("transfer_id", sa.String(length=36), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("label_code", sa.String(length=13), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("item", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["transfer_id"], ["transfers.id"], name=op.f("fk_transfer_items_transfer_id_transfers")
        ),
        sa.PrimaryKeyConstraint("transfer_id", "item_id", name=op.f("pk_transfer_items")),
    )
    op.create_index(
        op.f("ix_transfer_items_label_code"), "transfer_items", ["label_code"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_transfer_items_label_code"), table_name="transfer_items")
    op.drop_table("transfer_items")
    op.drop_index(op.f("ix_transfers_status"), table_name="transfers")
    op.drop_index(op.f("ix_transfers_number"), table_name="transfers")
    op.drop_table("transfers")
    # Refused (foreign key violation) while the store holds items received from other stores.
    if op.get_bind().dialect.name == "sqlite":
        clause = f", CONSTRAINT {PURCHASE_FK} FOREIGN KEY(purchase_id) REFERENCES purchases (id)"
        _rewrite_items_definition(
            lambda sql: _PURCHASE_FK_PLACE.subn(clause, sql, count=1), with_fk=True
        )
        violations = op.get_bind().exec_driver_sql("PRAGMA foreign_key_check(items)").all()
        if violations:
            raise RuntimeError(
                f"{len(violations)} items name a purchase of another store: "
                "they cannot go back under a foreign key to this store's purchases"
            )
    else:
        op.create_foreign_key(PURCHASE_FK, "items", "purchases", ["purchase_id"], ["id"])


def _rewrite_items_definition(change: Callable[[str], tuple[str, int]], *, with_fk: bool) -> None:
    """Change a constraint of `items` in SQLite's stored definition of the table, in this
    migration's transaction. SQLite documents this for removing (or adding) a foreign key,
    a change that leaves the stored rows as they are (sqlite.org/lang_altertable.html,
    "Making Other Kinds Of Table Schema Changes"). The usual copy of the table into a new
    one would drop `items` under the foreign keys of tickets, listings and photos, which an
    enforcing connection refuses."""
    conn = op.get_bind()
    sql = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'items'"
    ).scalar_one()
    new_sql, count = change(sql)
    if count != 1:
        raise RuntimeError("the definition of table items is not the one this migration knows")
    version = conn.exec_driver_sql("PRAGMA schema_version").scalar_one()
    conn.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        conn.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'items'",
            (new_sql,),
        )
        conn.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        conn.exec_driver_sql("PRAGMA writable_schema = OFF")
    # SQLite reads the new definition back: it parses, and the key is there or gone.
    keys = conn.exec_driver_sql("PRAGMA foreign_key_list(items)").all()
    if any(key.table == "purchases" for key in keys) is not with_fk:
        raise RuntimeError("the definition of table items did not change as intended")
