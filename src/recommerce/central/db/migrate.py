"""The central's migrations: `recommerce central init` and start-up both upgrade to the newest."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from recommerce.db import migrate

MIGRATIONS = Path(__file__).parent / "migrations"


def upgrade(engine: Engine) -> None:
    migrate.upgrade(engine, MIGRATIONS)
