"""The argus at central: each price guide trained, kept by version (the stores receive it down
their feeds and quote with it at the counter, offline included)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Integer, String, Table, Text

from recommerce.central.db.tables import metadata
from recommerce.db.types import UtcDateTime

argus_guides = Table(
    "argus_guides",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("method", String(40), nullable=False),
    Column("trained_at", UtcDateTime, nullable=False),
    Column("sales", Integer, nullable=False),  # how many past sales it learned from
    Column("source", Text, nullable=False),  # where they came from, in words
    Column("payload", JSON, nullable=False),
)
