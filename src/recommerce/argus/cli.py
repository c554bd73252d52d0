"""`recommerce argus ...`: the price guide's commands for a chain's data team."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd

app = typer.Typer(help="The argus: the price guide learned from past sales.", no_args_is_help=True)
console = Console()

DELIMITERS = ",;\t|"
SNIFF_BYTES = 64 * 1024


class CsvError(ValueError):
    """A file that cannot be read as a table, said plainly."""


def _fail(message: str) -> NoReturn:
    console.print(f"[red]error:[/red] {message}", soft_wrap=True, highlight=False, markup=True)
    raise typer.Exit(code=2)


def read_table(path: Path) -> pd.DataFrame:
    """A CSV export as a table: UTF-8 (or Windows Latin-1), comma, semicolon, tab or bar."""
    import pandas as pd

    if not path.exists():
        raise CsvError(f"there is no file {str(path)!r}")
    if not path.is_file():
        raise CsvError(f"{str(path)!r} is not a file")
    head = path.open("rb").read(SNIFF_BYTES)
    if not head.strip():
        raise CsvError(f"{str(path)!r} is empty")
    encoding = "utf-8-sig"
    try:
        sample = head.decode(encoding)
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the sample's end
            encoding = "cp1252"
        sample = head.decode(encoding, errors="ignore")
    try:
        delimiter = csv.Sniffer().sniff(sample.split("\n", 20)[0], delimiters=DELIMITERS).delimiter
    except csv.Error:
        delimiter = ","
    try:
        table = pd.read_csv(path, sep=delimiter, encoding=encoding, low_memory=False)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise CsvError(f"{str(path)!r} could not be read as a CSV table: {exc}") from exc
    if table.empty:
        raise CsvError(f"{str(path)!r} has a header but no rows")
    return table


def _ordinal(values: list[str]) -> dict[str, list[str]]:
    """--ordinal grade=D,C,B,A (worst first); --ordinal rating (a number, higher is better)."""
    scales: dict[str, list[str]] = {}
    for value in values:
        name, _, levels = value.partition("=")
        if not name.strip():
            _fail(f"--ordinal {value!r}: give COLUMN=WORST,...,BEST or a numeric COLUMN")
        scales[name.strip()] = [level.strip() for level in levels.split(",") if level.strip()]
    return scales


@app.command("evaluate")
def evaluate_command(
    csv_path: Annotated[Path, typer.Option("--csv", help="The sales export (CSV)")],
    target: Annotated[str, typer.Option(help="The column holding the price to learn")],
    json_path: Annotated[Path, typer.Option("--json", help="Where to write the figures (JSON)")],
    target_is_log: Annotated[
        bool, typer.Option("--target-is-log", help="The target already is log(price)")
    ] = False,
    folds: Annotated[int, typer.Option(help="Cross-validation folds")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the folds and models")] = 0,
    ordinal: Annotated[
        list[str] | None,
        typer.Option(
            help="An ordered column: COLUMN=WORST,...,BEST, or COLUMN for a number (higher "
            "better); the chain's A-D grade is recognised by itself. Repeatable."
        ),
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option(
            help="A column to leave out (what is only known after the sale, a row number). "
            "Repeatable."
        ),
    ] = None,
) -> None:
    """Cross-validate the learned price model against two baselines on any sales CSV."""
    from recommerce.argus.evaluate import evaluate
    from recommerce.argus.model import ArgusDataError

    scales = _ordinal(ordinal or [])
    try:
        table = read_table(csv_path)
    except CsvError as exc:
        _fail(str(exc))
    unknown = [name for name in ignore or [] if name not in table.columns]
    if unknown:
        _fail(
            f"--ignore: no column {', '.join(map(repr, unknown))}; "
            f"the columns are: {', '.join(map(str, table.columns))}"
        )
    table = table.drop(columns=list(ignore or []))
    console.print(
        f"{csv_path}: {len(table)} rows, {len(table.columns)} columns; "
        f"{folds}-fold cross-validation...",
        soft_wrap=True,
        highlight=False,
    )
    try:
        report = evaluate(
            table, target, target_is_log=target_is_log, folds=folds, seed=seed, ordinal=scales
        )
    except ArgusDataError as exc:
        _fail(str(exc))
    report["csv"] = str(csv_path)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _show(report)
    console.print(f"written to {json_path}", soft_wrap=True, highlight=False)


def _show(report: dict[str, Any]) -> None:
    methods: dict[str, dict[str, dict[str, Any]]] = report["methods"]
    scale = "exp(target)" if report["target_is_log"] else report["target"]
    table = Table(
        title=f"argus evaluation: {report['shape']['rows_used']} sales, {report['folds']} folds "
        f"(mean ± std over folds)",
        caption="coverage: share of held-out sales inside their p10-p90 range; the goal is 80 %",
    )
    table.add_column("figure")
    for method in methods:
        table.add_column(method, justify="right")
    rows = [
        ("log_rmse", "log RMSE", "{:.4f}", 1.0),
        ("mae", f"MAE ({scale})", "{:,.2f}", 1.0),
        ("mape", "MAPE %", "{:.1f}", 1.0),
        ("r2", f"R² ({scale})", "{:.3f}", 1.0),
        ("r2_log", "R² (log)", "{:.3f}", 1.0),
        ("coverage_p10_p90", "coverage p10-p90 %", "{:.1f}", 100.0),
        ("mean_width_p10_p90", f"width p10-p90 ({scale})", "{:,.2f}", 1.0),
    ]
    for key, label, shape, factor in rows:
        table.add_row(label, *(_cell(methods[m][key], shape, factor) for m in methods))
    console.print(table)
    kinds = report["columns"]
    for kind in ("numeric", "categorical", "date"):
        if kinds[kind]:
            console.print(f"{kind}: {', '.join(kinds[kind])}", soft_wrap=True, highlight=False)
    for name, levels in kinds["ordinal"].items():
        scale_text = " < ".join(levels) if levels else "a number, higher is better"
        console.print(f"ordered: {name} ({scale_text})", soft_wrap=True, highlight=False)
    for name, why in kinds["dropped"].items():
        console.print(f"not used: {name} ({why})", soft_wrap=True, highlight=False)
    weights = ", ".join(f"{w:g}" for w in report["blend_weight"]["per_fold"])
    console.print(
        f"v2 blend weight of the boosted model, per fold: {weights}",
        soft_wrap=True,
        highlight=False,
    )
    groups = {
        " × ".join(g) or "(all sales)" for g in report["median_by_group"]["grouped_by_per_fold"]
    }
    console.print(
        f"median_by_group grouped by: {'; '.join(sorted(groups))}", soft_wrap=True, highlight=False
    )


def _cell(figure: dict[str, Any], shape: str, factor: float) -> str:
    mean, std = figure["mean"], figure["std"]
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "n/a"
    return f"{shape.format(mean * factor)} ± {shape.format((std or 0.0) * factor)}"


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="the CSV to write")],
    sales: Annotated[int, typer.Option(min=1, max=50_000_000)] = 100_000,
    articles: Annotated[int, typer.Option(min=38, max=200_000)] = 5000,
    seed: Annotated[int, typer.Option()] = 7,
    start: Annotated[str, typer.Option(help="first day, ISO")] = "2021-01-01",
    end: Annotated[str, typer.Option(help="last day, ISO")] = "2025-12-31",
) -> None:
    """A synthetic sales history (deterministic by seed), as a CSV to train or evaluate on."""
    from datetime import date

    from recommerce.argus.history import synthetic_catalogue, synthetic_sales, write_csv

    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError as exc:
        _fail(f"dates are written 2025-12-31: {exc}")
    if last < first:
        _fail("the last day comes before the first")
    catalogue = synthetic_catalogue(seed, articles)
    written = write_csv(
        synthetic_sales(catalogue, seed=seed, sales=sales, start=first, end=last), out
    )
    console.print(f"{written} sales of {len(catalogue)} articles written to {out}")


@app.command()
def train(
    history: Annotated[
        Path | None,
        typer.Option(
            help="an export of older sales (CSV: sold_on, article_id, grade, price_cents...)"
        ),
    ] = None,
) -> None:
    """Train the price guide at central from its sales (and an older history), keep it as a
    new version and send it to every store."""
    from recommerce.central.bootstrap import bootstrap
    from recommerce.central.services.argus import train as train_guide
    from recommerce.errors import DomainError

    if history is not None and not history.is_file():
        _fail(f"there is no file {str(history)!r}")
    central = bootstrap()
    try:
        trained = train_guide(central, history=history)
    except DomainError as exc:
        _fail(exc.message)
    finally:
        central.engine.dispose()
    console.print(
        f"argus guide {trained['version']} ({trained['method']}) trained on {trained['sales']} "
        f"sales from {trained['source']}, {trained['articles']} article-grades "
        f"({trained['learned']} from the learned model); sent to the stores"
    )
