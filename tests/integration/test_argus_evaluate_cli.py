"""`recommerce argus evaluate`: a data team points it at its own sales export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from recommerce.cli import app

runner = CliRunner()
GRADE_FACTOR = {"A": 1.0, "B": 0.85, "C": 0.7, "D": 0.4}


def export(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """A sales export: price by article x grade factor x depreciation with age x noise."""
    rng = np.random.default_rng(seed)
    base = np.exp(rng.normal(5.5, 0.5, 25))
    article = rng.integers(0, 25, n)
    grade = rng.choice(list(GRADE_FACTOR), n)
    age_days = rng.integers(0, 1000, n)
    sold = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    price = (
        base[article]
        * np.array([GRADE_FACTOR[g] for g in grade])
        * (0.3 + 0.7 * np.exp(-age_days / 400))
        * np.exp(rng.normal(0, 0.1, n))
    )
    return pd.DataFrame(
        {
            "article": [f"ref-{a}" for a in article],
            "grade": grade,
            "age_days": age_days,
            "sold_on": sold.strftime("%Y-%m-%d"),
            "price": price.round(2),
        }
    )


def evaluate_csv(csv: Path, out: Path, *options: str) -> tuple[int, str]:
    result = runner.invoke(
        app, ["argus", "evaluate", "--csv", str(csv), "--json", str(out), *options]
    )
    return result.exit_code, result.output


def test_an_export_gets_the_figures_of_the_three_methods(tmp_path: Path) -> None:
    csv, out = tmp_path / "ventes.csv", tmp_path / "figures" / "argus.json"
    table = export()
    # as a French spreadsheet writes it: semicolons, decimal commas
    table.assign(price=table["price"].map(lambda p: f"{p:.2f}".replace(".", ","))).to_csv(
        csv, sep=";", index=False
    )
    code, output = evaluate_csv(csv, out, "--target", "price", "--folds", "2", "--seed", "3")
    assert code == 0, output
    assert "log RMSE" in output and "median_by_group" in output
    report = json.loads(out.read_text())
    assert report["shape"]["rows"] == 600
    assert report["columns"]["ordinal"] == {"grade": ["D", "C", "B", "A"]}
    assert report["columns"]["date"] == ["sold_on"]
    metrics = {"log_rmse", "mae", "mape", "r2", "r2_log", "coverage_p10_p90", "mean_width_p10_p90"}
    assert set(report["methods"]) == {"v2", "median_by_group", "linear"}
    for figures in report["methods"].values():
        assert set(figures) == metrics
        for figure in figures.values():
            assert len(figure["folds"]) == 2
            assert figure["mean"] is not None and figure["std"] >= 0
    assert len(report["blend_weight"]["per_fold"]) == 2
    assert report["methods"]["v2"]["log_rmse"]["mean"] < 0.3


@pytest.fixture
def sales_csv(tmp_path: Path) -> Path:
    path = tmp_path / "sales.csv"
    export(n=300).to_csv(path, index=False)
    return path


def test_a_missing_file_is_named_plainly(tmp_path: Path) -> None:
    out = tmp_path / "argus.json"
    code, output = evaluate_csv(tmp_path / "nowhere.csv", out, "--target", "price")
    assert code == 2
    assert "there is no file" in output and "nowhere.csv" in output
    assert not out.exists()


def test_an_unknown_target_column_lists_the_columns(sales_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "argus.json"
    code, output = evaluate_csv(sales_csv, out, "--target", "prix")
    assert code == 2
    assert "there is no column 'prix'" in output
    assert "article, grade, age_days, sold_on, price" in output
    assert not out.exists()


def test_a_text_target_is_refused(sales_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "argus.json"
    code, output = evaluate_csv(sales_csv, out, "--target", "article")
    assert code == 2
    assert "the target column 'article' is not numeric" in output
    assert not out.exists()


def test_zero_or_negative_prices_are_refused_unless_they_are_log_prices(tmp_path: Path) -> None:
    csv, out = tmp_path / "sales.csv", tmp_path / "argus.json"
    table = export(n=300)
    table.loc[:4, "price"] = 0
    table.to_csv(csv, index=False)
    code, output = evaluate_csv(csv, out, "--target", "price")
    assert code == 2
    assert "5 values that are zero or negative" in output
    assert "--target-is-log" in output
    assert not out.exists()


def test_too_few_sales_for_the_folds_are_refused(tmp_path: Path) -> None:
    csv, out = tmp_path / "sales.csv", tmp_path / "argus.json"
    export(n=40).to_csv(csv, index=False)
    code, output = evaluate_csv(csv, out, "--target", "price", "--folds", "5")
    assert code == 2
    assert "40 sales with a 'price' are too few for 5 folds" in output
    assert not out.exists()
