"""Alembic, driven from the settings: each app's `init` command and its start-up call upgrade,
with the app's own migrations folder and the app's engine (never an ini file)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine


def alembic_config(engine: Engine, migrations: Path) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, migrations: Path) -> None:
    command.upgrade(alembic_config(engine, migrations), "head")
