"""Grouped cross-validation (easy: by reduced composition; hard: leave-cluster-out), metrics with
confidence intervals across folds and seeds.

The hard split follows how the OBELiX authors built their official test split (Therrien et al.,
arXiv:2502.14234; data/scripts/train_test_split.py in NRC-Mila/OBELiX): entries reported in the same paper
or with the same composition are connected, and whole connected groups go to one side. We add composition
similarity: two entries whose atomic-fraction vectors differ by at most `NEAR_DUPLICATE_L1` (L1 norm, i.e.
at most 2.5 at.% moved, a doping series) are connected too. The clusters are the connected components;
folds are built from whole clusters with `grouped_folds`.
"""
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


NEAR_DUPLICATE_L1 = 0.05


def fraction_vectors(formulas) -> np.ndarray:
    """Atomic-fraction vectors [n, n_elements] over the elements present in `formulas` (by atomic number)."""
    from perovscreen.features.formula import encode_formulas
    from perovscreen.ml.domain import fraction_matrix

    F = fraction_matrix(*encode_formulas(formulas))
    return F[:, F.any(0)]


def cluster_labels(formulas, papers=None, tol: float = NEAR_DUPLICATE_L1) -> np.ndarray:
    """Leave-cluster-out groups: connected components of 'same paper' (any shared '|'-separated DOI)
    or 'near-duplicate composition' (L1 distance of atomic fractions <= tol). Deterministic, int labels
    numbered by first appearance."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    V = fraction_vectors(formulas)
    n = len(V)
    rows, cols = [], []
    for i in range(n):  # O(n^2 m) without an n x n x m temporary
        j = np.flatnonzero(np.abs(V[i + 1:] - V[i]).sum(1) <= tol + 1e-9) + i + 1
        rows.extend([i] * len(j))
        cols.extend(j.tolist())
    if papers is not None:
        first: dict[str, int] = {}
        for i, p in enumerate(papers):
            for d in str(p).split("|") if isinstance(p, str) and p.strip() else ():
                d = d.strip().lower()
                if d in first:
                    rows.append(first[d])
                    cols.append(i)
                else:
                    first[d] = i
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    _, lab = connected_components(graph, directed=False)
    _, first_idx, inv = np.unique(lab, return_index=True, return_inverse=True)
    return np.argsort(np.argsort(first_idx))[inv]


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
