"""The chain simulator's clock: every process reads the same offset file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from recommerce.clock import SimulatedClock, SystemClock, clock_from, write_offset


def test_without_an_offset_file_the_simulated_clock_tells_real_time(tmp_path: Path) -> None:
    clock = SimulatedClock(tmp_path / "clock")
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_a_new_offset_is_seen_by_a_clock_already_running(tmp_path: Path) -> None:
    path = tmp_path / "clock"
    clock = SimulatedClock(path)
    clock.now()
    write_offset(path, timedelta(days=3))
    assert clock.now() - datetime.now(UTC) > timedelta(days=3) - timedelta(seconds=5)
    write_offset(path, timedelta(days=4, hours=2))
    ahead = clock.now() - datetime.now(UTC)
    assert timedelta(days=4, hours=2) - timedelta(seconds=5) < ahead <= timedelta(days=4, hours=2)


def test_two_processes_reading_the_same_file_agree_on_the_date(tmp_path: Path) -> None:
    path = tmp_path / "clock"
    write_offset(path, timedelta(days=10))
    assert SimulatedClock(path).now().date() == SimulatedClock(path).now().date()


def test_simulated_time_never_runs_backwards(tmp_path: Path) -> None:
    path = tmp_path / "clock"
    write_offset(path, timedelta(days=2))
    with pytest.raises(ValueError, match="only moves forward"):
        write_offset(path, timedelta(days=1))


def test_a_node_uses_the_system_clock_unless_a_clock_file_is_configured(tmp_path: Path) -> None:
    assert isinstance(clock_from(None), SystemClock)
    assert isinstance(clock_from(tmp_path / "clock"), SimulatedClock)
