"""The chain simulator end to end: central and store nodes as real processes, trading days
with faults (links cut and slowed, nodes killed and restarted), then every invariant."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from recommerce.cli import app
from recommerce.sim.simulator import SimPlan, simulate


def test_a_chain_trading_through_faults_keeps_every_invariant(tmp_path: Path) -> None:
    plan = SimPlan(stores=3, days=2, seed=7, faults=True, operations_per_day=16)
    report = simulate(plan, tmp_path / "chain", progress=lambda _: None)

    failed = {k: v["details"] for k, v in report["invariants"].items() if not v["ok"]}
    assert not failed, json.dumps(failed, indent=2, default=str)
    assert report["ok"] is True
    assert len(report["invariants"]) == 8
    operations = report["operations"]
    assert operations.get("purchase: ok", 0) > 0
    assert operations.get("till sale: ok", 0) > 0
    assert operations.get("daily closing: ok", 0) == plan.stores * plan.days
    assert sum(sum(day["faults"].values()) for day in report["days"]) > 0
    assert report["sync_lag_s"]["events"] > 0 and report["sync_lag_s"]["p99"] >= 0


def test_the_sim_command_writes_its_report_and_exits_zero_when_every_invariant_holds(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out.json"
    result = CliRunner().invoke(
        app,
        [
            "sim",
            "--stores",
            "1",
            "--days",
            "1",
            "--seed",
            "3",
            "--json",
            str(out),
            "--workdir",
            str(tmp_path / "chain"),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["ok"] is True
    assert report["plan"] == {
        "stores": 1,
        "days": 1,
        "seed": 3,
        "faults": False,
        "speed": 0.0,
        "operations_per_day": 30,
    }
