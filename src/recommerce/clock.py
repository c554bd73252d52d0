"""The one clock: business code asks it for the time, tests replace it."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware UTC datetime."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock for tests and simulations that only moves when told."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        self._at += delta


class SimulatedClock:
    """The chain simulator's clock: real time moved forward by an offset that the simulator
    writes to a file, so that a trading day of a simulated chain passes in a minute and the
    next one starts in the morning. Every process of the chain reads the same file, and so
    agrees on the date; the offset only grows, so time never runs backwards.

    A process reads the file again only when it changed (one `stat` per reading)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._seen: tuple[int, int] | None = None
        self._offset = timedelta(0)

    def now(self) -> datetime:
        try:
            stat = os.stat(self._path)
            changed: tuple[int, int] | None = (stat.st_ino, stat.st_mtime_ns)
        except FileNotFoundError:
            changed = None
        if changed != self._seen:
            self._offset = read_offset(self._path)
            self._seen = changed
        return datetime.now(UTC) + self._offset


def clock_from(path: Path | None) -> Clock:
    """The system clock, or the chain simulator's when its offset file is configured."""
    return SystemClock() if path is None else SimulatedClock(path)


def read_offset(path: Path) -> timedelta:
    """The simulated clock's offset held in `path` (none yet: zero)."""
    try:
        return timedelta(seconds=float(path.read_text(encoding="ascii")))
    except FileNotFoundError:
        return timedelta(0)


def write_offset(path: Path, offset: timedelta) -> None:
    """Move every simulated clock reading `path` to real time + `offset`, atomically (a reader
    sees the old offset or the new one, never half a file)."""
    if offset < read_offset(path):
        raise ValueError("a simulated clock only moves forward")
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(path.name + ".new")
    draft.write_text(f"{offset.total_seconds():.6f}", encoding="ascii")
    os.replace(draft, path)
