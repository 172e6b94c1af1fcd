"""Composition-grouped cross-validation, metrics with confidence intervals across folds and seeds."""
from __future__ import annotations

import math

import numpy as np
from scipy import stats


def grouped_folds(groups, n_splits: int = 5, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train_idx, test_idx) pairs; every group lies in exactly one test fold. Groups are shuffled by
    `seed`, then placed largest-first into the currently smallest fold (balanced fold sizes)."""
    groups = np.asarray(groups)
    uniq, inv, counts = np.unique(groups, return_inverse=True, return_counts=True)
    if len(uniq) < n_splits:
        raise ValueError(f"grouped_folds: {len(uniq)} groups < {n_splits} folds")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(uniq))
    order = order[np.argsort(-counts[order], kind="stable")]
    fold_of, sizes = np.empty(len(uniq), int), np.zeros(n_splits, int)
    for g in order:
        f = int(np.argmin(sizes))
        fold_of[g] = f
        sizes[f] += counts[g]
    row_fold = fold_of[inv]
    idx = np.arange(len(groups))
    return [(idx[row_fold != f], idx[row_fold == f]) for f in range(n_splits)]


def metrics(y, yhat) -> dict[str, float]:
    y, yhat = np.asarray(y, float), np.asarray(yhat, float)
    err = yhat - y
    ss = float(((y - y.mean()) ** 2).sum())
    rho = stats.spearmanr(y, yhat).statistic if len(y) > 2 and np.ptp(yhat) > 0 else math.nan
    return {"mae": float(np.abs(err).mean()), "rmse": float(np.sqrt((err ** 2).mean())),
            "r2": 1 - float((err ** 2).sum()) / ss if ss > 0 else math.nan, "spearman": float(rho)}


def summarize(values) -> dict[str, float]:
    """Mean, standard deviation and 95% t-interval of the mean over fold x seed values (folds share
    training rows, so the interval is indicative, not exact)."""
    v = np.asarray([x for x in values if np.isfinite(x)], float)
    if len(v) == 0:
        return {"mean": math.nan, "std": math.nan, "ci95": [math.nan, math.nan], "n": 0}
    sd = float(v.std(ddof=1)) if len(v) > 1 else 0.0
    h = float(stats.t.ppf(0.975, len(v) - 1) * sd / math.sqrt(len(v))) if len(v) > 1 else math.nan
    return {"mean": float(v.mean()), "std": sd, "ci95": [float(v.mean() - h), float(v.mean() + h)], "n": len(v)}
