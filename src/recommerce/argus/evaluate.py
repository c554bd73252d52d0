"""Where the argus stands on a chain's own sales history: k-fold cross-validation.

Three ways of pricing are scored on the same folds with the same figures, so that a data team
sees what the learned model (`v2`) adds over what it would do by hand:

- `v2`: the learned price model (`recommerce.argus.model.PriceModel`);
- `median_by_group`: the median price of the sales in the same group, the group being the
  category column, or pair of columns, among the table's first few that priced best on sales
  held out of the training fold (the overall median when no column helps);
- `linear`: a ridge regression on log price (one-hot categories, scaled numbers).

The baselines' p10-p90 range is their prediction moved by the 10th and 90th percentiles of
their errors on the training fold, so that all three ranges can be compared.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from recommerce.argus.model import (
    LINEAR_MAX_ROWS,
    MIN_ROWS,
    THREADS,
    ArgusDataError,
    ColumnKinds,
    FloatArray,
    IntArray,
    PriceModel,
    TableEncoder,
    detect_columns,
    fit_linear,
    log_target,
    sample_rows,
)

METHODS = ("v2", "median_by_group", "linear")
METRICS = (
    "log_rmse",
    "mae",
    "mape",
    "r2",
    "r2_log",
    "coverage_p10_p90",
    "mean_width_p10_p90",
)
METRIC_NOTES = {
    "log_rmse": "root mean squared error of log(p50) against log(price); lower is better",
    "mae": "mean absolute error of p50, in price units; lower is better",
    "mape": "mean absolute error of p50 as a percentage of the price; lower is better",
    "r2": "R² of p50 on the price scale (share of the price variance explained)",
    "r2_log": "R² of log(p50) on the log-price scale",
    "coverage_p10_p90": "share of held-out sales inside their p10-p90 range; the goal is 0.80",
    "mean_width_p10_p90": "mean width p90 - p10 of the range, in price units",
    "scale": "the price scale is the target itself, or exp(target) with --target-is-log",
}
MIN_TEST_ROWS = 10  # per fold
GROUP_COLUMNS = 12  # the category columns tried alone for median_by_group, in table order
GROUP_PAIRED = 4  # the best of them tried in pairs
MIN_GROUP_SALES = 3
GROUP_HOLDOUT_SHARE = 0.2


def evaluate(
    df: pd.DataFrame,
    target: str,
    *,
    target_is_log: bool = False,
    folds: int = 5,
    seed: int = 0,
    ordinal: Mapping[str, Sequence[str]] | None = None,
    threads: int | None = THREADS,
) -> dict[str, Any]:
    """Cross-validate v2 and the two baselines on a sales table; a JSON-ready report."""
    started = time.perf_counter()
    y_all = log_target(df, target, target_is_log=target_is_log)
    known = y_all.notna().to_numpy()
    table = df.loc[known].reset_index(drop=True)
    y = y_all.to_numpy(dtype=np.float64)[known]
    if folds < 2:
        raise ArgusDataError(f"cross-validation needs at least 2 folds, not {folds}")
    needed = max(folds * MIN_TEST_ROWS, math.ceil(MIN_ROWS * folds / (folds - 1)))
    if len(table) < needed:
        raise ArgusDataError(
            f"{len(table)} sales with a {target!r} are too few for {folds} folds: "
            f"at least {needed} are needed (or use fewer folds)"
        )
    kinds = detect_columns(table, target, ordinal=ordinal)
    fold_of = _fold_numbers(len(table), folds, seed)
    scores: dict[str, list[dict[str, float]]] = {method: [] for method in METHODS}
    seconds = dict.fromkeys(METHODS, 0.0)
    weights: list[float] = []
    margins: list[float] = []
    groupings: list[list[str]] = []
    for fold in range(folds):
        train, test = np.flatnonzero(fold_of != fold), np.flatnonzero(fold_of == fold)
        df_train, df_test = table.iloc[train], table.iloc[test]
        y_train, y_test = y[train], y[test]

        clock = time.perf_counter()
        model = PriceModel(threads=threads).fit(
            df_train,
            target,
            target_is_log=target_is_log,
            seed=seed,
            ordinal=ordinal,
            sell_model=False,
        )
        v2 = model.predict_log(df_test)
        scores["v2"].append(range_metrics(y_test, v2["p10"], v2["p50"], v2["p90"]))
        weights.append(model.blend_weight)
        margins.append(model.margin)
        seconds["v2"] += time.perf_counter() - clock

        with threadpool_limits(limits=threads):
            clock = time.perf_counter()
            texts = group_texts(df_train, kinds)
            grouped = GroupMedian.choose(texts, y_train, seed)
            scores["median_by_group"].append(
                _with_residual_range(
                    grouped.predict(texts, len(y_train)),
                    y_train,
                    grouped.predict(group_texts(df_test, kinds), len(y_test)),
                    y_test,
                )
            )
            groupings.append(list(grouped.names))
            seconds["median_by_group"] += time.perf_counter() - clock

            clock = time.perf_counter()
            encoder, x_train = TableEncoder.learn(df_train, kinds)
            x_test = encoder.boosting_matrix(df_test)
            some = sample_rows(len(y_train), LINEAR_MAX_ROWS, np.random.default_rng(seed))
            linear = fit_linear(encoder.linear_design(x_train[some]), y_train[some])
            scores["linear"].append(
                _with_residual_range(
                    linear.predict(encoder.linear_design(x_train).matrix),
                    y_train,
                    linear.predict(encoder.linear_design(x_test).matrix),
                    y_test,
                )
            )
            seconds["linear"] += time.perf_counter() - clock
    return {
        "target": target,
        "target_is_log": target_is_log,
        "shape": {
            "rows": len(df),
            "columns": len(df.columns),
            "rows_used": len(table),
            "rows_without_target": len(df) - len(table),
        },
        "columns": kinds.as_dict(),
        "folds": folds,
        "seed": seed,
        "methods": {method: _summary(scores[method]) for method in METHODS},
        "blend_weight": {"per_fold": weights, "most_chosen": _most_chosen(weights)},
        "conformal_margin_log": {"per_fold": margins},
        "median_by_group": {"grouped_by_per_fold": groupings},
        "metric_notes": METRIC_NOTES,
        "seconds": {**{m: round(s, 3) for m, s in seconds.items()}, "total": _since(started)},
    }


def range_metrics(
    y_log: FloatArray | pd.Series,
    p10: FloatArray | pd.Series,
    p50: FloatArray | pd.Series,
    p90: FloatArray | pd.Series,
) -> dict[str, float]:
    """The figures of one fold, from log prices and a log p10-p50-p90 per sale."""
    y, low, mid, high = (np.asarray(a, dtype=np.float64) for a in (y_log, p10, p50, p90))
    price, guess = np.exp(y), np.exp(mid)
    return {
        "log_rmse": float(np.sqrt(np.mean((mid - y) ** 2))),
        "mae": float(np.mean(np.abs(guess - price))),
        "mape": float(100 * np.mean(np.abs(guess - price) / price)),
        "r2": _r2(price, guess),
        "r2_log": _r2(y, mid),
        "coverage_p10_p90": float(np.mean((low <= y) & (y <= high))),
        "mean_width_p10_p90": float(np.mean(np.exp(high) - np.exp(low))),
    }


def _r2(truth: FloatArray, guess: FloatArray) -> float:
    spread = float(np.sum((truth - truth.mean()) ** 2))
    if spread == 0:
        return float("nan")
    return 1.0 - float(np.sum((truth - guess) ** 2)) / spread


def _with_residual_range(
    fitted: FloatArray, y_train: FloatArray, predicted: FloatArray, y_test: FloatArray
) -> dict[str, float]:
    """A baseline's figures, its range taken from its errors' p10 and p90 on the training fold."""
    low, high = np.quantile(y_train - fitted, [0.1, 0.9])
    return range_metrics(
        y_test,
        predicted + min(float(low), 0.0),
        predicted,
        predicted + max(float(high), 0.0),
    )


class GroupMedian:
    """The median log price of the training sales in the same group (the same values of one
    or two category columns, every value kept), falling back to the first column's group, then
    to all sales; a group needs `MIN_GROUP_SALES` sales to count."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.tables: list[pd.Series] = []  # the full group first, then the first column's
        self.overall = 0.0

    @classmethod
    def choose(cls, texts: Mapping[str, pd.Series], y: FloatArray, seed: int) -> GroupMedian:
        """The column, or pair of columns, that priced the training fold's held-out sales best,
        fitted again on the whole training fold. Every single column is tried (up to
        `GROUP_COLUMNS`), then the pairs of the `GROUP_PAIRED` best."""
        shuffled = np.random.default_rng(seed).permutation(len(y))
        n_hold = max(int(len(y) * GROUP_HOLDOUT_SHARE), 1)
        hold, fit = shuffled[:n_hold], shuffled[n_hold:]
        fit_texts = {name: text.iloc[fit] for name, text in texts.items()}
        hold_texts = {name: text.iloc[hold] for name, text in texts.items()}

        def error(names: tuple[str, ...]) -> float:
            guess = cls(names).fit(fit_texts, y[fit]).predict(hold_texts, len(hold))
            return float(np.sqrt(np.mean((guess - y[hold]) ** 2)))

        errors: dict[tuple[str, ...], float] = {(): error(())}
        singles = [(name,) for name in list(texts)[:GROUP_COLUMNS]]
        errors.update({names: error(names) for names in singles})
        best_singles = sorted(singles, key=lambda names: errors[names])[:GROUP_PAIRED]
        for first, second in itertools.combinations(best_singles, 2):
            errors[first + second] = error(first + second)
        best = min(errors, key=lambda names: (errors[names], len(names)))
        return cls(best).fit(texts, y)

    def fit(self, texts: Mapping[str, pd.Series], y: FloatArray) -> GroupMedian:
        self.overall = float(np.median(y))
        self.tables = []
        for size in range(len(self.names), 0, -1):
            keys = _group_keys(texts, self.names[:size])
            stats = pd.Series(y, index=keys.index).groupby(keys.to_numpy()).agg(["median", "count"])
            self.tables.append(stats["median"][stats["count"] >= MIN_GROUP_SALES])
        return self

    def predict(self, texts: Mapping[str, pd.Series], rows: int) -> FloatArray:
        guess = np.full(rows, np.nan)
        for size, table in zip(range(len(self.names), 0, -1), self.tables, strict=True):
            keys = _group_keys(texts, self.names[:size])
            found = keys.map(table).to_numpy(dtype=np.float64, na_value=np.nan)
            guess = np.where(np.isnan(guess), found, guess)
        return np.where(np.isnan(guess), self.overall, guess)


def group_texts(df: pd.DataFrame, kinds: ColumnKinds) -> dict[str, pd.Series]:
    """The category and grade columns, in the table's order, as text (missing is a value)."""
    names = [name for name in df.columns if name in kinds.categorical or name in kinds.ordinal]
    return {
        str(name): df[name].astype("string").str.strip().fillna("\u2205").reset_index(drop=True)
        for name in names
    }


def _group_keys(texts: Mapping[str, pd.Series], names: tuple[str, ...]) -> pd.Series:
    """One text per combination of the columns' values."""
    keys = texts[names[0]]
    for name in names[1:]:
        keys = keys + "\u241f" + texts[name]
    return keys


def _fold_numbers(n: int, folds: int, seed: int) -> IntArray:
    """Each row's fold: shuffled, folds as equal as can be."""
    numbers = np.arange(n, dtype=np.int64) % folds
    return np.asarray(np.random.default_rng(seed).permutation(numbers), dtype=np.int64)


def _summary(per_fold: list[dict[str, float]]) -> dict[str, dict[str, Any]]:
    summary: dict[str, dict[str, Any]] = {}
    for metric in METRICS:
        values = np.array([fold[metric] for fold in per_fold], dtype=np.float64)
        summary[metric] = {
            "mean": _number(float(np.mean(values))),
            "std": _number(float(np.std(values))),
            "folds": [_number(float(v)) for v in values],
        }
    return summary


def _number(value: float) -> float | None:
    """JSON has no NaN: a figure that cannot be computed is null."""
    return None if math.isnan(value) or math.isinf(value) else value


def _most_chosen(weights: list[float]) -> float:
    counts = Counter(weights)
    return max(sorted(counts), key=lambda w: counts[w])


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 3)
