"""The one place that wires central: settings -> engine, clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine

from recommerce.central.db.migrate import upgrade
from recommerce.central.settings import CentralSettings
from recommerce.clock import Clock, SystemClock
from recommerce.db.engine import READ_ONLY, make_engine, write_lock


@dataclass
class CentralNode:
    settings: CentralSettings
    engine: Engine
    clock: Clock = field(default_factory=SystemClock)

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection that only reads: on SQLite it never waits for a writer."""
        with self.engine.connect() as conn:
            yield conn.execution_options(**{READ_ONLY: True})

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with write_lock(self.engine), self.engine.begin() as conn:
            yield conn


def bootstrap(
    settings: CentralSettings | None = None, *, clock: Clock | None = None, migrate: bool = True
) -> CentralNode:
    settings = settings or CentralSettings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    if migrate:
        upgrade(engine)
    return CentralNode(settings=settings, engine=engine, clock=clock or SystemClock())
