"""`recommerce sim`: play a simulated chain and check its invariants."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console()


def sim(
    stores: Annotated[int, typer.Option(min=1, max=150, help="Store nodes in the chain")] = 5,
    days: Annotated[int, typer.Option(min=1, max=365, help="Trading days to play")] = 3,
    seed: Annotated[int, typer.Option(help="Same seed, same people and same choices")] = 7,
    faults: Annotated[
        bool, typer.Option(help="Cut, slow and restore links; kill and restart nodes")
    ] = False,
    speed: Annotated[
        float,
        typer.Option(min=0, help="Simulated seconds per real second (0: as fast as it goes)"),
    ] = 0.0,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Where to write the report")
    ] = None,
    workdir: Annotated[
        Path | None,
        typer.Option(help="Where the chain's data go (default: a temporary directory)"),
    ] = None,
    keep: Annotated[bool, typer.Option(help="Keep the chain's data after the run")] = False,
) -> None:
    """Start central and N store nodes as real processes, play D trading days (sellers,
    shoppers at the till and online, staff closing the day; faults if asked), then check
    every invariant of the chain. The exit code is 1 when an invariant fails."""
    from recommerce.sim.simulator import SimPlan, simulate

    plan = SimPlan(stores=stores, days=days, seed=seed, faults=faults, speed=speed)
    throwaway = workdir is None and not keep
    workdir = workdir or Path(tempfile.mkdtemp(prefix="recommerce-sim-"))
    workdir.mkdir(parents=True, exist_ok=True)
    console.print(f"a chain of {stores} stores, {days} days, seed {seed}, in {workdir}")
    try:
        report = simulate(plan, workdir, progress=console.print)
    finally:
        if throwaway:
            shutil.rmtree(workdir, ignore_errors=True)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, indent=2, default=str) + "\n")
        console.print(f"report written to {json_path}")
    failed = [key for key, result in report["invariants"].items() if not result["ok"]]
    for key, result in report["invariants"].items():
        mark = "[green]ok[/green]" if result["ok"] else "[red]FAILED[/red]"
        console.print(f"{mark} {key}: {result.get('title', '')}")
    if failed:
        raise typer.Exit(code=1)


def demo(
    stores: Annotated[int, typer.Option(min=1, max=20, help="Store nodes")] = 3,
    speed: Annotated[float, typer.Option(min=1, help="Simulated seconds per real second")] = 120.0,
    data_dir: Annotated[
        Path, typer.Option(help="Where the chain's data go (wiped at each start)")
    ] = Path("var/demo"),
    history_years: Annotated[
        int, typer.Option(min=0, max=30, help="Years of sales history loaded at central first")
    ] = 2,
) -> None:
    """Central and store nodes on SQLite with the chain's catalogue and people, their sales
    history at central, the simulator playing them at a human pace; prints the URLs and
    logins. Ctrl-C stops everything."""
    from recommerce.sim.demo import run_demo

    run_demo(
        data_dir.resolve(),
        stores=stores,
        speed=speed,
        history_years=history_years,
        console=console,
    )
