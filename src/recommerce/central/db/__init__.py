"""Central's database: tables (SQLAlchemy Core) and Alembic migrations."""
