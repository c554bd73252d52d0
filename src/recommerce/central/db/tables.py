"""Central's tables (SQLAlchemy Core). Migrations in `migrations/` create them.

Areas: the store registry and credentials (here), the sync protocol's cursors, event log,
quarantine and read models, the catalogue master and the per-store feed."""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Integer, MetaData, String, Table

from recommerce.db.types import UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# --- head-office users ------------------------------------------------------------------------
users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("full_name", String(200), nullable=False),
    Column("role", String(16), nullable=False),  # admin | backoffice
    Column("password_hash", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

user_tokens = Table(
    "user_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 of the token; never the token
    Column("user_id", ForeignKey("users.id"), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

# --- the store registry -----------------------------------------------------------------------
stores = Table(
    "stores",
    metadata,
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("name", String(120), nullable=False),
    Column("city", String(120), nullable=False),
    Column("timezone", String(64), nullable=False),  # the store's business day
    # Where the store is, to offer a customer the nearest stores (WGS 84 degrees).
    Column("latitude", Float),
    Column("longitude", Float),
    Column("created_at", UtcDateTime, nullable=False),
    # sha256 of the store's sync credential, set by enrolment; NULL until the store enrols.
    Column("credential_hash", String(64), unique=True),
    Column("enrolled_at", UtcDateTime),
)

# One-time enrolment codes: central gives one to the store's installer, the store exchanges it
# once for its own credential. Only the sha256 of the code is kept.
enrolment_codes = Table(
    "enrolment_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("store_number", ForeignKey("stores.number"), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime),
)
