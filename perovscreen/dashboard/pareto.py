"""Probability of non-domination, by Monte Carlo over each objective's `Estimate`.

Every objective of every candidate is an Estimate (value, lower, upper, level). A draw samples each one
from a split normal whose halves put `lower` and `upper` at the interval's quantiles (a symmetric interval
gives a plain normal; a point value, without an interval, stays fixed), or resamples its `samples` when it
carries them. A candidate's P(non-dominated) is the fraction of draws in which no other candidate is at
least as good in every objective and better in one.

Vectorised two ways: for two objectives, one sort per draw (argsort over all draws at once) and a running
minimum; for three or more, a cheap exact filter per block of draws (points dominated by one of the K
best-sum points are out) and an all-pairs check among the few survivors, which holds the front (domination
is transitive, so a point dominated by anyone is dominated by a front member).
"""
from __future__ import annotations

import numpy as np
from scipy.stats import norm


def _oriented(values, maximize) -> np.ndarray:
    """Values turned into 'minimise everything'; NaN counts as the worst value (+inf)."""
    v = np.asarray(values, float) * np.where(np.asarray(maximize, bool), -1.0, 1.0)
    return np.where(np.isnan(v), np.inf, v)


def non_dominated(values, maximize=None) -> np.ndarray:
    """Boolean mask of the non-dominated rows of `values` (n x m); `maximize` per objective (default: all
    minimised). Exact; O(n log n) for m = 2, otherwise the filtered all-pairs check."""
    v = np.asarray(values, float)
    maximize = [False] * v.shape[1] if maximize is None else maximize
    return _nd_draws(_oriented(v, maximize)[None])[0]


def _nd_draws(s: np.ndarray, pivots: int = 16, block: int = 64) -> np.ndarray:
    """s: (D, n, m) to minimise -> (D, n) non-dominated masks."""
    d, n, m = s.shape
    if n == 0:
        return np.zeros((d, 0), bool)
    if m == 1:
        return s[..., 0] <= s[..., 0].min(1, keepdims=True)
    if m == 2:
        return _nd2(s)
    out = np.zeros((d, n), bool)
    k = min(pivots, n)
    for a in range(0, d, block):
        sb = s[a:a + block]
        # K pivots per draw: smallest sum of ranks-free normalised values (any point may serve as a pivot)
        lo, hi = sb.min(1, keepdims=True), sb.max(1, keepdims=True)
        z = np.where(np.isfinite(sb), (sb - lo) / np.where(hi > lo, hi - lo, 1.0), 1e9)
        piv = np.argpartition(z.sum(2), k - 1, axis=1)[:, :k]  # (b, k)
        pv = np.take_along_axis(sb, piv[:, :, None], 1)  # (b, k, m)
        le = (pv[:, :, None, :] <= sb[:, None, :, :]).all(-1)
        lt = (pv[:, :, None, :] < sb[:, None, :, :]).any(-1)
        alive = ~(le & lt).any(1)  # (b, n): not dominated by any pivot
        for j in range(len(sb)):
            idx = np.flatnonzero(alive[j])
            c = sb[j, idx]
            le = (c[:, None, :] <= c[None, :, :]).all(-1)
            lt = (c[:, None, :] < c[None, :, :]).any(-1)
            out[a + j, idx] = ~(le & lt).any(0)
    return out


def _nd2(s: np.ndarray) -> np.ndarray:
    """Two objectives: sort each draw by (f1, f2); a point is non-dominated iff its f2 is below the running
    minimum of f2 over the points before it (ties in both objectives: both stay)."""
    d, n, _ = s.shape
    f1, f2 = s[..., 0], s[..., 1]
    order = _lexsort_rows(f1, f2)
    g2 = np.take_along_axis(f2, order, 1)
    g1 = np.take_along_axis(f1, order, 1)
    prev = np.minimum.accumulate(np.concatenate([np.full((d, 1), np.inf), g2[:, :-1]], 1), axis=1)
    nd_sorted = g2 < prev
    # an exact duplicate of a non-dominated point is not dominated by it
    dup = np.zeros_like(nd_sorted)
    dup[:, 1:] = (g1[:, 1:] == g1[:, :-1]) & (g2[:, 1:] == g2[:, :-1])
    if dup.any():
        for j in range(1, n):
            nd_sorted[:, j] |= dup[:, j] & nd_sorted[:, j - 1]
    out = np.empty_like(nd_sorted)
    np.put_along_axis(out, order, nd_sorted, 1)
    return out


def _lexsort_rows(f1, f2):
    """Row-wise order by f1 then f2 (continuous draws: ties in f1 are rare; a stable sort on f2 first)."""
    o = np.argsort(f2, axis=1, kind="stable")
    o2 = np.argsort(np.take_along_axis(f1, o, 1), axis=1, kind="stable")
    return np.take_along_axis(o, o2, 1)


def sample_objectives(value, lower, upper, level, draws: int = 1000, seed: int = 0, samples=None,
                      maximize=None) -> np.ndarray:
    """(draws, n, m) float32 samples from per-objective estimates given as (n, m) arrays; NaN bounds = a
    point value. With `maximize`, the samples come out oriented for minimisation (maximised objectives
    negated, NaN values +inf). `samples`: optional {(i, j): array} of draws used instead of the split normal."""
    rng = np.random.default_rng(seed)
    value, lower, upper = (np.asarray(x, float) for x in (value, lower, upper))
    level = np.where(np.isnan(np.asarray(level, float)), 0.9, np.asarray(level, float))
    zq = norm.ppf(0.5 + level / 2)
    s_lo = np.clip(np.where(np.isfinite(lower), (value - lower) / zq, 0.0), 0, None)
    s_hi = np.clip(np.where(np.isfinite(upper), (upper - value) / zq, 0.0), 0, None)
    if maximize is not None:  # x -> -x swaps the halves
        flip = np.asarray(maximize, bool)
        value = np.where(flip, -value, value)
        s_lo, s_hi = np.where(flip, s_hi, s_lo), np.where(flip, s_lo, s_hi)
        value = np.where(np.isnan(value), np.inf, value)
    value, s_lo, s_hi = (x.astype(np.float32) for x in (value, s_lo, s_hi))
    e = rng.standard_normal((draws,) + value.shape, dtype=np.float32)
    out = np.where(e < 0, s_lo, s_hi) * e
    out += value
    flip = None if maximize is None else np.asarray(maximize, bool)
    for (i, j), arr in (samples or {}).items():
        d = rng.choice(np.asarray(arr, float), draws).astype(np.float32)
        out[:, i, j] = -d if flip is not None and flip[j] else d
    return out


def prob_non_dominated(value, lower, upper, level, maximize, draws: int = 1000, seed: int = 0,
                       samples=None) -> np.ndarray:
    """P(non-dominated) of each of n candidates over m objectives ((n, m) arrays), by `draws` draws."""
    value = np.asarray(value, float)
    if value.size == 0:
        return np.zeros(len(value))
    s = sample_objectives(value, lower, upper, level, draws, seed, samples, maximize)
    keep = ~surely_dominated(s.min(0), s.max(0))
    out = np.zeros(len(value))
    out[keep] = _nd_draws(s[:, keep]).mean(0)
    return out


def surely_dominated(best, worst, pivots: int = 256, chunk: int = 2048) -> np.ndarray:
    """Rows whose best drawn values (n, m; minimised) are dominated by some other row's worst drawn values:
    dominated in every draw, so P = 0, and dropping them changes nobody else's answer (transitivity).
    Checked against the `pivots` rows with the best worst-case sums (a filter: it may keep a few extra)."""
    n = len(best)
    if n <= 1:
        return np.zeros(n, bool)
    fin = np.where(np.isfinite(worst), worst, np.nan)
    lo, hi = np.nanmin(fin, 0), np.nanmax(fin, 0)
    z = np.where(np.isfinite(worst), (worst - lo) / np.where(hi > lo, hi - lo, 1.0), 1e9).sum(1)
    piv = np.argsort(z)[:min(pivots, n)]
    w = worst[piv]
    out = np.zeros(n, bool)
    for a in range(0, n, chunk):
        b = best[a:a + chunk]
        le = (w[None, :, :] <= b[:, None, :]).all(-1)
        lt = (w[None, :, :] < b[:, None, :]).any(-1)
        out[a:a + chunk] = (le & lt).any(1)
    return out


def prob_joins_front(point, others, maximize, draws: int = 1000, seed: int = 0) -> float:
    """P(a new point is not dominated by any of `others`): point = (value, lower, upper, level) arrays of
    length m; others = the same four as (n, m) arrays. Only dominance of the new point is needed."""
    pv, plo, phi, plev = (np.asarray(x, float)[None] for x in point)
    ov, olo, ohi, olev = (np.asarray(x, float) for x in others)
    p = sample_objectives(pv, plo, phi, plev, draws, seed + 1, maximize=maximize)[:, 0]  # (D, m)
    if len(ov) == 0:
        return 1.0
    o = sample_objectives(ov, olo, ohi, olev, draws, seed, maximize=maximize)  # (D, n, m)
    dominated = ((o <= p[:, None, :]).all(-1) & (o < p[:, None, :]).any(-1)).any(1)
    return float(1.0 - dominated.mean())
