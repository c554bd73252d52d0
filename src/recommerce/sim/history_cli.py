"""`recommerce history ...`: the former system's history of the chain, loaded into central."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from recommerce.errors import DomainError

history_app = typer.Typer(
    help="The chain's history from its former system, loaded into central.", no_args_is_help=True
)
console = Console()


def _fail(exc: DomainError) -> None:
    field = f" ({exc.field})" if exc.field else ""
    console.print(f"[red]error:[/red] {exc.message}{field}")
    raise typer.Exit(code=2)


@history_app.command("load")
def history_load(
    years: Annotated[int, typer.Option(help="How many years, up to the last day")] = 1,
    stores: Annotated[int, typer.Option(help="Stores 1..N of the world")] = 60,
    seed: Annotated[int, typer.Option(help="The world's and the history's seed")] = 1,
    database_url: Annotated[
        str | None, typer.Option(help="Central's database (default: central's settings)")
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(help="The history's last day, YYYY-MM-DD (default: yesterday at central)"),
    ] = None,
    daily_sales: Annotated[
        float | None, typer.Option(help="Items a store sells on an open day, on average")
    ] = None,
    articles: Annotated[int, typer.Option(help="Articles in the world's catalogue")] = 5000,
) -> None:
    """Install the world (stores, catalogue) at central and load its sales history, once."""
    from recommerce.central.bootstrap import bootstrap
    from recommerce.central.settings import CentralSettings
    from recommerce.sim.history_load import DAILY_SALES, PARIS, load_history, plan_history
    from recommerce.sim.world import World, install

    if stores < 1:
        _fail(DomainError("a history needs at least one store", field="stores"))
    settings = CentralSettings(database_url=database_url) if database_url else CentralSettings()
    central = bootstrap(settings)
    try:
        last_day = (
            _day(until)
            if until
            else central.clock.now().astimezone(PARIS).date() - timedelta(days=1)
        )
        world = World.generate(seed, stores=stores, articles=articles)
        plan = plan_history(
            world,
            years=years,
            stores=stores,
            until=last_day,
            daily_sales=DAILY_SALES if daily_sales is None else daily_sales,
        )
        installed = install(central, world)
        console.print(
            f"world {seed}: {installed.stores} stores registered, {installed.articles} articles "
            f"added to the catalogue"
        )
        console.print(
            f"history: {plan.sales:,} sales in {plan.stores} stores "
            f"from {plan.first_day} to {plan.last_day}"
        )
        with Progress(
            TextColumn("loading"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=not console.is_terminal,
        ) as bar:
            task = bar.add_task("sales", total=plan.sales)
            loaded = load_history(
                central, world, plan, progress=lambda sales: bar.advance(task, sales)
            )
    except DomainError as exc:
        _fail(exc)
        return
    finally:
        central.engine.dispose()
    console.print(
        f"loaded {loaded.sales:,} purchases and items sold, {loaded.tickets:,} tickets: "
        f"{loaded.rows:,} rows in {loaded.seconds:.1f} s ({loaded.rows_per_second:,.0f} rows/s)"
    )


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise DomainError(f"not a date (YYYY-MM-DD): {text!r}", field="until") from exc
