"""Multi-objective ranking: Pareto fronts (non-dominated sorting), weighted score, interval overlap."""
from __future__ import annotations

import numpy as np


def pareto_fronts(values: np.ndarray, maximize) -> np.ndarray:
    """Front number (0 = non-dominated) of every row of `values` (n x m).

    `maximize` is a length-m sequence of booleans. NaN objectives count as the worst value.
    Plain O(m n^2) vectorised sorting (Deb et al. 2002 without the crowding step).
    """
    v = np.asarray(values, float).copy()
    sign = np.where(np.asarray(maximize, bool), 1.0, -1.0)
    v = v * sign  # now everything is maximised
    v[np.isnan(v)] = -np.inf
    n = len(v)
    ge = (v[:, None, :] >= v[None, :, :]).all(-1)
    gt = (v[:, None, :] > v[None, :, :]).any(-1)
    dominates = ge & gt  # dominates[i, j]: i dominates j
    n_dominators = dominates.sum(0)
    front = np.full(n, -1)
    current = np.nonzero(n_dominators == 0)[0]
    k = 0
    while len(current):
        front[current] = k
        n_dominators = n_dominators - dominates[current].sum(0)
        n_dominators[front >= 0] = -1
        current = np.nonzero(n_dominators == 0)[0]
        k += 1
    return front


def weighted_score(values: np.ndarray, maximize, weights) -> np.ndarray:
    """Weighted sum of min-max normalised objectives (each oriented so that higher is better)."""
    v = np.asarray(values, float) * np.where(np.asarray(maximize, bool), 1.0, -1.0)
    lo, hi = np.nanmin(v, 0), np.nanmax(v, 0)
    z = (v - lo) / np.where(hi > lo, hi - lo, 1.0)
    z = np.nan_to_num(z, nan=0.0)
    w = np.asarray(weights, float)
    return z @ (w / w.sum())


def overlaps_leader(lower: np.ndarray, upper: np.ndarray, leader: int) -> np.ndarray:
    """True where a candidate's interval overlaps the leader's (not distinguishable from it)."""
    lower, upper = np.asarray(lower, float), np.asarray(upper, float)
    return (upper >= lower[leader]) & (lower <= upper[leader])
