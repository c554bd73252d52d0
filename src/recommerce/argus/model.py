"""The argus's learned price model (v2): from any table of past sales to a p10-p50-p90 price.

It learns from whatever columns a sales export has. Each column is read for what it is:

- numbers (also numbers written as text, "12,50 €" included); numbers never negative and
  skewed to the right, like a new price, are read as log(1 + x);
- categories (text, and integer columns named like an id: an article id is kept too; levels
  seen fewer than `MIN_LEVEL_COUNT` times, and beyond the `MAX_LEVELS` most frequent, become
  one "other" level; a column with more levels than that also gets each level's mean price,
  learnt out of fold, so that the articles lumped into "other" keep their own price);
- grades, an ordered scale: the chain's A-D scale is recognised in a column named like a grade
  or a condition, other scales are declared with `ordinal`. A better grade is never priced
  below a worse one: the gradient-boosted models are constrained to be monotonic in the grade's
  rank (`monotonic_cst`), and the linear model reads the grade as "at least this good" steps
  whose effects may not be negative. The models left to themselves do not guarantee it: with
  noisy sales they do put a few article/age combinations the wrong way round;
- dates (ISO): year, month, day of the year, days since 1970, and, when the table has several
  dates, each one's age in days at the latest of them (the age of an item when it was sold).

Missing values are fine: the gradient-boosted models take them as they are, the linear model
imputes the median and adds a "was missing" column.

Prices are learned in logarithms (a 10 % error on a phone or on a sofa weighs the same). The
p50 blends a gradient-boosted model with a ridge regression, with the weight that did best on
sales held out of training. The p10 and p90 come from quantile gradient-boosted models,
widened (or narrowed) by split-conformal calibration on those held-out sales, so that the
p10-p90 range holds 80 % of sales not seen in training.

`days_in_stock`, when the table has it, is what happened after the price was set, not a
feature: it teaches a second model, the probability that an item sells within 30 days at a
given price.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import RidgeCV
from threadpoolctl import threadpool_limits

from recommerce.catalog.model import Grade

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

COVERAGE = 0.8  # the p10-p90 range
QUANTILES = (0.1, 0.9)
BLEND_WEIGHTS = (1.0, 0.75, 0.5, 0.25, 0.0)  # weight of the gradient-boosted model; ties: first
MAX_LEVELS = 250  # per categorical column, "other" included (native categories up to 255)
MIN_LEVEL_COUNT = 5
MIN_ROWS = 50
HOLDOUT_SHARE = 0.2  # sales kept out of fitting: the blend weight and the conformal margin
LINEAR_MAX_ROWS = 300_000
QUANTILE_MAX_ROWS = 250_000
SELL_MAX_ROWS = 300_000
CALIBRATION_MAX_ROWS = 100_000
DAYS_IN_STOCK = "days_in_stock"
SELL_WITHIN_DAYS = 30
CHAIN_GRADES = tuple(grade.value for grade in reversed(Grade))  # worst first: D, C, B, A
# Threads for the models' native code. One by default: on a machine shared with other work, the
# boosting's many short parallel sections spend more time waiting for each other than they
# save (10 times slower on two busy cores); one thread trains a million sales in about a minute.
THREADS = 1
PARSED_SHARE = 0.95  # a text column is numbers (or dates) when this share of its values parse
LEVEL_MEAN_FOLDS = 5
LEVEL_MEAN_STRENGTH = 10.0  # a level's mean price counts as if it had 10 more average sales

_GRADE_NAME = re.compile(r"grade|condition|[ée]tat", re.IGNORECASE)
_ID_NAME = re.compile(r"(^|[_\s-])(id|code|ref|sku|ean|gtin|number|no)$", re.IGNORECASE)
_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)
_EPOCH = pd.Timestamp("1970-01-01", tz="UTC")


class ArgusDataError(ValueError):
    """A table the argus cannot learn from, said in words a data team acts on."""


@dataclass(frozen=True)
class ColumnKinds:
    """What each column of a sales table was read as."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    ordinal: dict[str, tuple[str, ...]]  # levels worst first; () for a number, higher better
    date: tuple[str, ...]
    numbers_as_text: tuple[str, ...] = ()  # among `numeric`: parsed from text
    dropped: dict[str, str] = field(default_factory=dict)  # column -> why

    def as_dict(self) -> dict[str, Any]:
        return {
            "numeric": list(self.numeric),
            "numbers_as_text": list(self.numbers_as_text),
            "categorical": list(self.categorical),
            "ordinal": {name: list(levels) for name, levels in self.ordinal.items()},
            "date": list(self.date),
            "dropped": dict(self.dropped),
        }


def parse_numbers(values: pd.Series) -> pd.Series:
    """Numbers from a column, whether stored as numbers or as text ("1 234,50 €", "12.5")."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    if pd.api.types.is_numeric_dtype(values):
        out = pd.to_numeric(values, errors="coerce").astype("float64")
        return out.where(np.isfinite(out))
    text = values.astype("string").str.strip()
    text = text.str.replace(r"[\s\u00a0\u202f€$£]", "", regex=True)
    comma_only = text.str.contains(",", regex=False) & ~text.str.contains(".", regex=False)
    text = text.where(~comma_only.fillna(False), text.str.replace(",", ".", regex=False))
    text = text.str.replace(",", "", regex=False)  # thousands separators: "1,234.50"
    out = pd.to_numeric(text, errors="coerce").astype("float64")
    return out.where(np.isfinite(out))


def _parse_dates(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        if getattr(values.dt, "tz", None) is None:
            return values.dt.tz_localize("UTC")
        return values.dt.tz_convert("UTC")
    return pd.to_datetime(values.astype("string"), format="ISO8601", errors="coerce", utc=True)


def _text(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip().replace("", pd.NA)


def _distinct_sample(values: pd.Series, limit: int = 20_000) -> pd.Series:
    return _text(values).dropna().drop_duplicates().head(limit)


def _parses(share: float) -> bool:
    return share >= PARSED_SHARE


def detect_columns(
    df: pd.DataFrame,
    target: str,
    *,
    ordinal: Mapping[str, Sequence[str]] | None = None,
) -> ColumnKinds:
    """Read each column (but the target) as a number, a category, a grade or a date."""
    declared = {
        name: tuple(str(level) for level in levels) for name, levels in (ordinal or {}).items()
    }
    unknown = [name for name in declared if name not in df.columns]
    if unknown:
        raise ArgusDataError(
            f"the ordered column(s) {', '.join(map(repr, unknown))} are not in the table; "
            f"its columns are: {', '.join(map(str, df.columns))}"
        )
    numeric: list[str] = []
    as_text: list[str] = []
    categorical: list[str] = []
    ordered: dict[str, tuple[str, ...]] = {}
    dates: list[str] = []
    dropped: dict[str, str] = {}
    for name in df.columns:
        if name == target:
            continue
        values = df[name]
        if name == DAYS_IN_STOCK:
            dropped[name] = "what happened after pricing (learnt as the sell-within-30-days model)"
            continue
        if values.isna().all():
            dropped[name] = "empty"
            continue
        if name in declared:
            ordered[name] = declared[name]
            continue
        if pd.api.types.is_datetime64_any_dtype(values):
            dates.append(name)
            continue
        is_number = pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)
        if is_number:
            if values.nunique(dropna=True) < 2:
                dropped[name] = "a single value"
            elif _ID_NAME.search(str(name)) and _is_integral(values):
                categorical.append(name)
            else:
                numeric.append(name)
            continue
        distinct = _distinct_sample(values)
        if len(distinct) < 2:
            dropped[name] = "a single value"
            continue
        upper = set(distinct.str.upper())
        if _GRADE_NAME.search(str(name)) and upper <= set(CHAIN_GRADES):
            ordered[name] = CHAIN_GRADES
            continue
        if _parses(float(distinct.str.match(_ISO_DATE).mean())) and _parses(
            float(_parse_dates(distinct).notna().mean())
        ):
            dates.append(name)
            continue
        if _parses(float(parse_numbers(distinct).notna().mean())):
            numeric.append(name)
            as_text.append(name)
            continue
        categorical.append(name)
    return ColumnKinds(
        numeric=tuple(numeric),
        categorical=tuple(categorical),
        ordinal=ordered,
        date=tuple(dates),
        numbers_as_text=tuple(as_text),
        dropped=dropped,
    )


def _is_integral(values: pd.Series) -> bool:
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    return bool((numbers == np.round(numbers)).all())


def log_target(df: pd.DataFrame, target: str, *, target_is_log: bool) -> pd.Series:
    """The target in logarithms, NaN where a row has none; plain errors for a bad target."""
    if target not in df.columns:
        raise ArgusDataError(
            f"there is no column {target!r}; the columns are: {', '.join(map(str, df.columns))}"
        )
    raw = df[target]
    numbers = parse_numbers(raw)
    given = raw.notna() if _is_number_dtype(raw) else _text(raw).notna()
    if not bool(given.any()):
        raise ArgusDataError(f"the target column {target!r} is empty")
    unparsed = given & numbers.isna()
    if not _parses(1.0 - float(unparsed.sum()) / float(given.sum())):
        examples = ", ".join(repr(str(v)) for v in raw[unparsed].drop_duplicates().head(3))
        raise ArgusDataError(
            f"the target column {target!r} is not numeric: {int(unparsed.sum())} of "
            f"{int(given.sum())} values are not numbers (e.g. {examples})"
        )
    if target_is_log:
        return numbers
    bad = numbers <= 0
    if bool(bad.any()):
        examples = ", ".join(f"{v:g}" for v in numbers[bad].drop_duplicates().head(3))
        raise ArgusDataError(
            f"the target column {target!r} has {int(bad.sum())} values that are zero or "
            f"negative (e.g. {examples}): prices are learnt in logarithms and must be positive. "
            "Remove those rows, or pass --target-is-log if the column already holds log prices"
        )
    return np.log(numbers)


def _is_number_dtype(values: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values))


@dataclass
class TableEncoder:
    """Turns a sales table into the matrices the models read, the same way at fit and predict."""

    kinds: ColumnKinds
    levels: dict[str, list[str]] = field(default_factory=dict)  # kept levels, most frequent first
    reference_date: str | None = None
    # categories with more levels than kept (an article id): each level's smoothed mean log
    # price, so that the levels lumped into "other" still say what they sell for
    level_means: dict[str, pd.Series] = field(default_factory=dict)
    prior: float = 0.0
    # numbers never negative and skewed to the right (a new price): read as log(1 + x), which
    # the linear model needs to price in logarithms, and changes nothing to the trees' splits
    logged: set[str] = field(default_factory=set)
    numeric_names: list[str] = field(default_factory=list)
    # the linear model's view: per numeric feature, imputation and scaling learnt at fit
    medians: FloatArray = field(default_factory=lambda: np.zeros(0))
    lows: FloatArray = field(default_factory=lambda: np.zeros(0))
    highs: FloatArray = field(default_factory=lambda: np.zeros(0))
    means: FloatArray = field(default_factory=lambda: np.zeros(0))
    scales: FloatArray = field(default_factory=lambda: np.zeros(0))
    flagged: list[int] = field(default_factory=list)  # numeric features that had missing values

    @classmethod
    def learn(
        cls,
        df: pd.DataFrame,
        kinds: ColumnKinds,
        y: FloatArray | None = None,
        *,
        seed: int = 0,
    ) -> tuple[TableEncoder, FloatArray]:
        """Learn the encoding from training rows; return it with those rows' boosting matrix.

        Given the log prices `y`, categories with more levels than kept also get their levels'
        mean price, computed out of fold for the training rows themselves (a row's own price
        never describes its level to the model).
        """
        encoder = cls(kinds=kinds)
        texts = {name: _text(df[name]) for name in kinds.categorical}
        for name, text in texts.items():
            counts = text.value_counts(dropna=True, sort=False)
            frequent = counts[counts >= MIN_LEVEL_COUNT]
            # most frequent first, ties by name: the same levels whatever the row order
            ordered = sorted(frequent.items(), key=lambda kv: (-int(kv[1]), str(kv[0])))
            encoder.levels[name] = [str(level) for level, _ in ordered[: MAX_LEVELS - 1]]
            if y is not None and len(counts) > len(encoder.levels[name]):
                encoder.level_means[name] = pd.Series(dtype="float64")
        for name in kinds.numeric:
            values = parse_numbers(df[name]).dropna()
            if len(values) > 2 and values.min() >= 0 and float(values.skew()) > 1.0:
                encoder.logged.add(name)
        if len(kinds.date) > 1:
            latest = {name: _parse_dates(df[name]).median() for name in kinds.date}
            known = {name: day for name, day in latest.items() if not pd.isna(day)}
            encoder.reference_date = max(known, key=lambda n: known[n]) if known else None
        out_of_fold: dict[str, FloatArray] = {}
        if y is not None and encoder.level_means:
            encoder.prior = float(np.mean(y))
            folds = np.random.default_rng(seed).integers(0, LEVEL_MEAN_FOLDS, len(df))
            for name in encoder.level_means:
                text = texts[name].reset_index(drop=True)
                encoder.level_means[name] = _level_means(text, y, encoder.prior)
                oof = np.empty(len(df))
                for fold in range(LEVEL_MEAN_FOLDS):
                    inside = folds == fold
                    means = _level_means(text[~inside], y[~inside], encoder.prior)
                    oof[inside] = _mapped(text[inside], means, encoder.prior)
                out_of_fold[name] = oof
        numbers, names = encoder._numbers(df, out_of_fold)
        encoder.numeric_names = names
        with np.errstate(all="ignore"):
            medians = np.nanmedian(numbers, axis=0) if numbers.size else np.zeros(len(names))
            lows = np.nanquantile(numbers, 0.005, axis=0) if numbers.size else medians
            highs = np.nanquantile(numbers, 0.995, axis=0) if numbers.size else medians
        encoder.medians = np.nan_to_num(np.asarray(medians, dtype=np.float64))
        encoder.lows = np.nan_to_num(np.asarray(lows, dtype=np.float64))
        encoder.highs = np.nan_to_num(np.asarray(highs, dtype=np.float64))
        filled = encoder._clip_fill(numbers)
        encoder.means = filled.mean(axis=0) if len(filled) else np.zeros(len(names))
        std = filled.std(axis=0) if len(filled) else np.ones(len(names))
        encoder.scales = np.where(std > 0, std, 1.0)
        encoder.flagged = [
            i
            for i, name in enumerate(names)
            if not encoder._is_ordinal_feature(name) and bool(np.isnan(numbers[:, i]).any())
        ]
        return encoder, np.hstack([numbers, encoder.codes(df)])

    def _is_ordinal_feature(self, name: str) -> bool:
        return name in self.kinds.ordinal

    def _clip_fill(self, block: FloatArray) -> FloatArray:
        filled = np.where(np.isnan(block), self.medians, block)
        return np.clip(filled, self.lows, self.highs)

    def _numbers(
        self, df: pd.DataFrame, out_of_fold: Mapping[str, FloatArray] | None = None
    ) -> tuple[FloatArray, list[str]]:
        columns: list[FloatArray] = []
        names: list[str] = []
        for name in self.kinds.numeric:
            values = _floats(parse_numbers(df[name]))
            if name in self.logged:
                values = np.log1p(np.maximum(values, 0.0))
            columns.append(values)
            names.append(f"{name}:log" if name in self.logged else name)
        parsed = {name: _parse_dates(df[name]) for name in self.kinds.date}
        for name, when in parsed.items():
            parts = {
                "year": when.dt.year,
                "month": when.dt.month,
                "day_of_year": when.dt.day_of_year,
                "days": (when - _EPOCH) / pd.Timedelta(days=1),
            }
            for part, values in parts.items():
                columns.append(_floats(values))
                names.append(f"{name}:{part}")
        if self.reference_date is not None and self.reference_date in parsed:
            reference = parsed[self.reference_date]
            for name, when in parsed.items():
                if name != self.reference_date:
                    columns.append(_floats((reference - when) / pd.Timedelta(days=1)))
                    names.append(f"{name}:age_days")
        for name, means in self.level_means.items():
            given = (out_of_fold or {}).get(name)
            columns.append(
                given if given is not None else _mapped(_text(df[name]), means, self.prior)
            )
            names.append(f"{name}:level_mean")
        for name in self.kinds.ordinal:
            columns.append(self.ranks(df, name))
            names.append(name)
        if not columns:
            return np.zeros((len(df), 0)), names
        return np.column_stack(columns).astype(np.float64), names

    def ranks(self, df: pd.DataFrame, name: str) -> FloatArray:
        """An ordered column as its rank (0 the worst), NaN where missing or not on the scale."""
        levels = self.kinds.ordinal[name]
        if not levels:
            return _floats(parse_numbers(df[name]))
        upper = levels == CHAIN_GRADES
        text = _text(df[name])
        if upper:
            text = text.str.upper()
        codes = _level_numbers(text, levels)
        return np.where(codes < 0, np.nan, codes)

    def codes(self, df: pd.DataFrame) -> FloatArray:
        """The categorical columns as level numbers; "other" is the last; NaN where missing."""
        out = np.empty((len(df), len(self.kinds.categorical)), dtype=np.float64)
        for j, name in enumerate(self.kinds.categorical):
            text = _text(df[name])
            levels = self.levels[name]
            codes = _level_numbers(text, levels)
            codes[codes < 0] = len(levels)
            codes[text.isna().to_numpy()] = np.nan
            out[:, j] = codes
        return out

    def boosting_matrix(self, df: pd.DataFrame) -> FloatArray:
        """Numbers, dates and ranks, then categories as level numbers (read natively)."""
        numbers, _ = self._numbers(df)
        return np.hstack([numbers, self.codes(df)])

    @property
    def categorical_mask(self) -> npt.NDArray[np.bool_]:
        return np.array(
            [False] * len(self.numeric_names) + [True] * len(self.kinds.categorical), dtype=bool
        )

    @property
    def monotonic_cst(self) -> list[int]:
        """+1 on each grade's rank: a better grade never lowers a prediction."""
        ranks = [1 if self._is_ordinal_feature(n) else 0 for n in self.numeric_names]
        return ranks + [0] * len(self.kinds.categorical)

    def linear_design(self, boosting: FloatArray) -> LinearDesign:
        """From the boosting matrix: one-hot categories, imputed and scaled numbers, grades as
        "at least this good" steps."""
        n = len(boosting)
        p_num = len(self.numeric_names)
        numbers = boosting[:, :p_num]
        scaled = (self._clip_fill(numbers) - self.means) / self.scales
        plain = [
            i for i, name in enumerate(self.numeric_names) if not self._is_ordinal_feature(name)
        ]
        blocks: list[Any] = []
        if plain:
            blocks.append(sparse.csr_matrix(scaled[:, plain]))
        if self.flagged:
            blocks.append(sparse.csr_matrix(np.isnan(numbers[:, self.flagged]).astype(float)))
        width = sum(b.shape[1] for b in blocks)
        constrained: list[int] = []
        for i, name in enumerate(self.numeric_names):
            if not self._is_ordinal_feature(name):
                continue
            rank = numbers[:, i]
            missing = np.isnan(rank).astype(float)
            levels = self.kinds.ordinal[name]
            if levels:  # "at least this good", one step per level above the worst
                steps = np.column_stack(
                    [(rank >= k).astype(float) for k in range(1, len(levels))] + [missing]
                )
                constrained.extend(range(width, width + len(levels) - 1))
            else:  # a numeric scale, higher better: the scaled number itself
                steps = np.column_stack([scaled[:, i], missing])
                constrained.append(width)
            blocks.append(sparse.csr_matrix(steps))
            width += steps.shape[1]
        codes = boosting[:, p_num:]
        for j, name in enumerate(self.kinds.categorical):
            size = len(self.levels[name]) + 2  # the levels, "other", missing
            column = codes[:, j]
            level = np.where(np.isnan(column), size - 1, column).astype(np.int64)
            onehot = sparse.csr_matrix(
                (np.ones(n), (np.arange(n), level)), shape=(n, size), dtype=np.float64
            )
            blocks.append(onehot)
            width += size
        if not blocks:
            return LinearDesign(sparse.csr_matrix((n, 1)), [])
        return LinearDesign(sparse.hstack(blocks, format="csr"), constrained)


def _level_numbers(text: pd.Series, levels: Sequence[str]) -> FloatArray:
    """Each value's place among the levels; -1 where missing or not one of them."""
    places = pd.Index(list(levels), dtype=object).get_indexer(text.to_numpy(dtype=object))
    return np.asarray(places, dtype=np.float64)


def _level_means(text: pd.Series, y: FloatArray, prior: float) -> pd.Series:
    """Each level's mean log price, pulled toward the overall mean as if it had
    `LEVEL_MEAN_STRENGTH` more sales at that mean."""
    frame = pd.DataFrame({"level": text.to_numpy(), "y": y}).dropna(subset=["level"])
    stats = frame.groupby("level", sort=True)["y"].agg(["sum", "count"])
    return (stats["sum"] + LEVEL_MEAN_STRENGTH * prior) / (stats["count"] + LEVEL_MEAN_STRENGTH)


def _mapped(text: pd.Series, means: pd.Series, prior: float) -> FloatArray:
    values = text.map(means).astype("float64").fillna(prior)
    return np.asarray(values.to_numpy(dtype=np.float64), dtype=np.float64)


@dataclass(frozen=True)
class LinearDesign:
    """The linear model's matrix, and which of its columns may only raise the price."""

    matrix: Any  # scipy.sparse.csr_matrix
    non_negative: list[int]


def _floats(values: pd.Series) -> FloatArray:
    numbers = pd.to_numeric(values, errors="coerce")
    return np.asarray(numbers.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def fit_linear(design: LinearDesign, y: FloatArray) -> RidgeCV:
    """A ridge regression (penalty chosen by leave-one-out); grade steps kept non-negative."""
    model = RidgeCV(alphas=np.logspace(-2, 3, 6))
    model.fit(design.matrix, y)
    if design.non_negative:
        coef = np.asarray(model.coef_, dtype=np.float64).copy()
        if bool((coef[design.non_negative] < 0).any()):
            coef[design.non_negative] = np.maximum(coef[design.non_negative], 0.0)
            means = np.asarray(design.matrix.mean(axis=0)).ravel()
            model.coef_ = coef
            model.intercept_ = float(np.mean(y) - means @ coef)
    return model


def _boosting(
    encoder: TableEncoder, rows: int, seed: int, **loss: Any
) -> HistGradientBoostingRegressor:
    return HistGradientBoostingRegressor(
        **loss,
        learning_rate=0.1,
        max_iter=300,
        max_leaf_nodes=31,
        min_samples_leaf=20,
        l2_regularization=1.0,
        categorical_features=encoder.categorical_mask,
        monotonic_cst=encoder.monotonic_cst,
        early_stopping=rows >= 1000,
        validation_fraction=0.1,
        n_iter_no_change=10,
        random_state=seed,
    )


def sample_rows(n: int, limit: int, rng: np.random.Generator) -> IntArray:
    """At most `limit` of n rows, drawn at random, in their order."""
    if n <= limit:
        return np.arange(n, dtype=np.int64)
    return np.sort(rng.choice(n, size=limit, replace=False)).astype(np.int64)


def conformal_margin(low: FloatArray, high: FloatArray, y: FloatArray, coverage: float) -> float:
    """Split-conformal (CQR) margin: how far to move both bounds so `coverage` of sales fall in.

    The score of a held-out sale is how far it falls outside its range (negative when inside);
    the margin is the score's ceil((n + 1) * coverage) / n empirical quantile.
    """
    scores = np.sort(np.maximum(low - y, y - high))
    n = len(scores)
    rank = math.ceil((n + 1) * coverage)
    return float(scores[min(rank, n) - 1])


class PriceModel:
    """The argus v2: learns from a table of past sales, answers p10, p50 and p90 for any rows."""

    def __init__(self, *, threads: int | None = THREADS) -> None:
        self.threads = threads  # None: as many as the machine has
        self.target = ""
        self.target_is_log = False
        self.encoder: TableEncoder | None = None
        self.blend_weight = 1.0
        self.margin = 0.0  # the conformal margin, in log price
        self.point: HistGradientBoostingRegressor | None = None
        self.linear: RidgeCV | None = None
        self.low: HistGradientBoostingRegressor | None = None
        self.high: HistGradientBoostingRegressor | None = None
        self.sell: HistGradientBoostingClassifier | None = None
        self.report: dict[str, Any] = {}

    @property
    def kinds(self) -> ColumnKinds:
        return self._encoder.kinds

    @property
    def _encoder(self) -> TableEncoder:
        if self.encoder is None:
            raise RuntimeError("the price model has not learnt anything yet: call fit first")
        return self.encoder

    def fit(
        self,
        df: pd.DataFrame,
        target: str,
        *,
        target_is_log: bool = False,
        seed: int = 0,
        ordinal: Mapping[str, Sequence[str]] | None = None,
        sell_model: bool = True,
    ) -> PriceModel:
        """Learn from past sales: rows without a target are left out."""
        with threadpool_limits(limits=self.threads):
            return self._fit(df, target, target_is_log, seed, ordinal, sell_model)

    def _fit(
        self,
        df: pd.DataFrame,
        target: str,
        target_is_log: bool,
        seed: int,
        ordinal: Mapping[str, Sequence[str]] | None,
        sell_model: bool,
    ) -> PriceModel:
        y_all = log_target(df, target, target_is_log=target_is_log)
        known = y_all.notna().to_numpy()
        df = df.loc[known]
        y = y_all.to_numpy(dtype=np.float64)[known]
        if len(df) < MIN_ROWS:
            raise ArgusDataError(
                f"{len(df)} sales with a {target!r} are too few to learn from (at least {MIN_ROWS})"
            )
        self.target, self.target_is_log = target, target_is_log
        clock = _Clock()
        kinds = detect_columns(df, target, ordinal=ordinal)
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(df))
        n_hold = max(int(len(df) * HOLDOUT_SHARE), 20)
        hold, train = np.sort(order[:n_hold]), np.sort(order[n_hold:])
        encoder, x = TableEncoder.learn(df.iloc[train], kinds, y[train], seed=seed)
        self.encoder = encoder
        x_hold, y_hold, y = encoder.boosting_matrix(df.iloc[hold]), y[hold], y[train]
        clock.lap("columns")

        self.point = _boosting(encoder, len(y), seed, loss="squared_error")
        self.point.fit(x, y)
        clock.lap("boosting")
        some = sample_rows(len(y), LINEAR_MAX_ROWS, rng)
        self.linear = fit_linear(encoder.linear_design(x[some]), y[some])
        clock.lap("ridge")
        boosted = self.point.predict(x_hold)
        linear = self.linear.predict(encoder.linear_design(x_hold).matrix)
        errors = {w: _rmse(w * boosted + (1 - w) * linear, y_hold) for w in BLEND_WEIGHTS}
        self.blend_weight = min(BLEND_WEIGHTS, key=lambda w: errors[w])

        some = sample_rows(len(y), QUANTILE_MAX_ROWS, rng)
        low, high = QUANTILES
        self.low = _boosting(encoder, len(some), seed, loss="quantile", quantile=low)
        self.high = _boosting(encoder, len(some), seed, loss="quantile", quantile=high)
        self.low.fit(x[some], y[some])
        self.high.fit(x[some], y[some])
        clock.lap("quantiles")
        some = sample_rows(len(y_hold), CALIBRATION_MAX_ROWS, rng)
        self.margin = conformal_margin(*self._bounds(x_hold[some]), y_hold[some], COVERAGE)
        clock.lap("calibration")
        self.report = {
            "rows": len(df),
            "rows_fitted": len(train),
            "rows_held_out": len(hold),
            "blend_weight": self.blend_weight,
            "holdout_log_rmse_by_weight": {str(w): errors[w] for w in BLEND_WEIGHTS},
            "boosting_iterations": int(self.point.n_iter_),
            "quantile_iterations": [int(self.low.n_iter_), int(self.high.n_iter_)],
            "ridge_alpha": float(self.linear.alpha_),
            "conformal_margin_log": self.margin,
            "sell_within_30_days": None,
        }
        self.sell = None
        if sell_model and DAYS_IN_STOCK in df.columns:
            days = _floats(parse_numbers(df[DAYS_IN_STOCK]))
            self._fit_sell((x, y, days[train]), (x_hold, y_hold, days[hold]), rng, seed)
            clock.lap("sell_within_30_days")
        self.report["seconds"] = clock.laps
        return self

    def _fit_sell(
        self,
        fitted: tuple[FloatArray, FloatArray, FloatArray],
        held_out: tuple[FloatArray, FloatArray, FloatArray],
        rng: np.random.Generator,
        seed: int,
    ) -> None:
        """What the item is and the price asked (log) -> sold within 30 days or not."""
        x, y, days = fitted
        known = ~np.isnan(days)
        features, sold = np.column_stack([x, y])[known], (days[known] <= SELL_WITHIN_DAYS)
        if len(sold) < MIN_ROWS or len(set(sold.tolist())) < 2:
            self.report["sell_within_30_days"] = "not learnt: too few sales, or all on one side"
            return
        some = sample_rows(len(sold), SELL_MAX_ROWS, rng)
        encoder = self._encoder
        self.sell = HistGradientBoostingClassifier(
            learning_rate=0.1,
            max_iter=200,
            l2_regularization=1.0,
            categorical_features=np.append(encoder.categorical_mask, False),
            monotonic_cst=[*encoder.monotonic_cst, -1],  # a dearer item never sells sooner
            early_stopping=len(some) >= 1000,
            random_state=seed,
        )
        self.sell.fit(features[some], sold[some].astype(np.int64))
        x_hold, y_hold, days_hold = held_out
        known = ~np.isnan(days_hold)
        if bool(known.any()):
            sold_hold = (days_hold[known] <= SELL_WITHIN_DAYS).astype(np.float64)
            chance = self.sell.predict_proba(np.column_stack([x_hold, y_hold])[known])[:, 1]
            self.report["sell_within_30_days"] = {
                "share_sold_within_30_days": float(sold_hold.mean()),
                "holdout_brier": float(np.mean((chance - sold_hold) ** 2)),
            }

    def predict_log(self, df: pd.DataFrame) -> pd.DataFrame:
        """p10, p50, p90 in log price (natural logarithm)."""
        with threadpool_limits(limits=self.threads):
            return self._predict_log(df)

    def _predict_log(self, df: pd.DataFrame) -> pd.DataFrame:
        encoder = self._encoder
        assert self.point is not None and self.linear is not None
        assert self.low is not None and self.high is not None
        x = encoder.boosting_matrix(df)
        w = self.blend_weight
        mid = np.zeros(len(df))
        if w > 0:
            mid += w * self.point.predict(x)
        if w < 1:
            mid += (1 - w) * self.linear.predict(encoder.linear_design(x).matrix)
        low, high = self._bounds(x)
        low = np.minimum(low - self.margin, mid)
        high = np.maximum(high + self.margin, mid)
        return pd.DataFrame({"p10": low, "p50": mid, "p90": high}, index=df.index)

    def _bounds(self, x: FloatArray) -> tuple[FloatArray, FloatArray]:
        """The quantile models' p10 and p90 (log), before the conformal margin.

        The quantile loss sets its leaves' values after the trees are grown, which undoes the
        monotonic constraint; so each bound is read at every level of the grade scale and a grade
        gets the highest bound of the grades up to it: a better grade never has a lower p10 or
        p90 either (on the table's first scale of named levels, the usual single grade column).
        """
        assert self.low is not None and self.high is not None
        encoder = self._encoder
        scale = next(
            (i for i, name in enumerate(encoder.numeric_names) if encoder.kinds.ordinal.get(name)),
            None,
        )
        rank = x[:, scale] if scale is not None else np.full(len(x), np.nan)
        rows = np.flatnonzero(~np.isnan(rank))
        others = np.flatnonzero(np.isnan(rank))
        low, high = np.empty(len(x)), np.empty(len(x))
        if len(others):
            low[others], high[others] = self.low.predict(x[others]), self.high.predict(x[others])
        if scale is not None and len(rows):
            varied = x[rows].copy()
            lows, highs = [], []
            for level in range(len(encoder.kinds.ordinal[encoder.numeric_names[scale]])):
                varied[:, scale] = level
                lows.append(self.low.predict(varied))
                highs.append(self.high.predict(varied))
            ranks = rank[rows].astype(np.int64)
            picked = np.arange(len(rows)), ranks
            low[rows] = np.maximum.accumulate(np.column_stack(lows), axis=1)[picked]
            high[rows] = np.maximum.accumulate(np.column_stack(highs), axis=1)[picked]
        return low, high

    def predict(self, df: pd.DataFrame) -> pd.DataFrame:
        """p10, p50, p90 in the target's units (log units when the target was a log price)."""
        logs = self.predict_log(df)
        return logs if self.target_is_log else np.exp(logs)

    def sell_within_30_days(
        self, df: pd.DataFrame, price: Sequence[float] | FloatArray | None = None
    ) -> FloatArray | None:
        """The chance that each item sells within 30 days at `price` (in the target's units;
        the argus's p50 when not given); None when the history had no `days_in_stock`."""
        if self.sell is None:
            return None
        with threadpool_limits(limits=self.threads):
            return self._sell_chance(df, price)

    def _sell_chance(
        self, df: pd.DataFrame, price: Sequence[float] | FloatArray | None
    ) -> FloatArray:
        assert self.sell is not None
        x = self._encoder.boosting_matrix(df)
        if price is None:
            asked = self._predict_log(df)["p50"].to_numpy()
        else:
            asked = np.asarray(price, dtype=np.float64)
            asked = asked if self.target_is_log else np.log(asked)
        chance = self.sell.predict_proba(np.column_stack([x, asked]))[:, 1]
        return np.asarray(chance, dtype=np.float64)


class _Clock:
    """How long each step of training took, for the report."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._last, 3)
        self._last = now


def _rmse(prediction: FloatArray, y: FloatArray) -> float:
    return float(np.sqrt(np.mean((prediction - y) ** 2)))
