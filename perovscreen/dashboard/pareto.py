"""Probability of non-domination, by Monte Carlo over each objective's `Estimate`.

Every objective of every candidate is an Estimate (value, lower, upper, level). A draw samples each one
from a split normal whose halves put `lower` and `upper` at the interval's quantiles (a symmetric interval
gives a plain normal; a point value, without an interval, stays fixed), or resamples its `samples` when it
carries them. A candidate's P(non-dominated) is the fraction of draws in which no other candidate is at
least as good in every objective and better in one.

Per draw, a compiled skyline pass (`_skyline`, parallel over draws): points in order of increasing sum
against the running front, exact for any number of objectives; rows dominated in every draw are dropped
first (`surely_dominated`).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange
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


def _nd_draws(s: np.ndarray) -> np.ndarray:
    """s: (D, n, m) to minimise -> (D, n) non-dominated masks."""
    d, n, m = s.shape
    if n == 0:
        return np.zeros((d, 0), bool)
    if m == 1:
        return s[..., 0] <= s[..., 0].min(1, keepdims=True)
    return _skyline(np.ascontiguousarray(s, np.float64 if s.dtype == np.float64 else np.float32))


@njit(cache=True, inline="always")
def _dominates(a, b) -> bool:
    strict = False
    for k in range(a.size):
        if a[k] > b[k]:
            return False
        if a[k] < b[k]:
            strict = True
    return strict


@njit(parallel=True, cache=True)
def _skyline(s):
    """Per draw: visit points by increasing sum (a dominator always has the smaller sum, so the front stays
    small), keep the running front; a point dominated by a front member is out, else it evicts the members
    it dominates and joins. Exact for any order (domination is transitive), duplicates both stay."""
    d, n, m = s.shape
    out = np.zeros((d, n), np.bool_)
    for t in prange(d):
        x = s[t]
        key = np.empty(n)
        for i in range(n):
            v = 0.0
            for k in range(m):
                v += min(x[i, k], 1e30)  # NaN objectives were mapped to +inf: keep the sum finite
            key[i] = v
        front = np.empty(n, np.int64)
        size = 0
        for i in np.argsort(key):
            out_i = False
            for f in range(size):
                if _dominates(x[front[f]], x[i]):
                    out_i = True
                    break
            if out_i:
                continue
            keep = 0
            for f in range(size):
                if _dominates(x[i], x[front[f]]):
                    out[t, front[f]] = False
                else:
                    front[keep] = front[f]
                    keep += 1
            front[keep] = i
            size = keep + 1
            out[t, i] = True
    return out


TAIL = 6.0  # normal draws are truncated at 6 sd (2e-9 of the mass): every draw lies inside known bounds


def _split_normal(value, lower, upper, level, maximize=None):
    """(centre, sd below, sd above) per estimate, float32, oriented for minimisation when `maximize` is
    given (maximised objectives negated, NaN values +inf); NaN bounds = a point value."""
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
    return tuple(x.astype(np.float32) for x in (value, s_lo, s_hi))


def _oriented_samples(samples, maximize) -> dict:
    flip = None if maximize is None else np.asarray(maximize, bool)
    return {(i, j): (-1.0 if flip is not None and flip[j] else 1.0) * np.asarray(arr, float)
            for (i, j), arr in (samples or {}).items()}


@njit(parallel=True, cache=True)
def _scale(e, value, s_lo, s_hi):
    """e (draws, k) standard normals -> split-normal draws in place, truncated at TAIL sd (one pass)."""
    for t in prange(e.shape[0]):
        for i in range(e.shape[1]):
            x = min(max(e[t, i], -TAIL), TAIL)
            e[t, i] = value[i] + (s_lo[i] if x < 0 else s_hi[i]) * x


def _draw(value, s_lo, s_hi, draws: int, rng, samples: dict) -> np.ndarray:
    out = rng.standard_normal((draws,) + value.shape, dtype=np.float32)
    _scale(out.reshape(draws, -1), value.reshape(-1), s_lo.reshape(-1), s_hi.reshape(-1))
    for (i, j), arr in samples.items():
        out[:, i, j] = rng.choice(arr, draws)
    return out


def sample_objectives(value, lower, upper, level, draws: int = 1000, seed: int = 0, samples=None,
                      maximize=None) -> np.ndarray:
    """(draws, n, m) float32 samples from per-objective estimates given as (n, m) arrays; NaN bounds = a
    point value. With `maximize`, the samples come out oriented for minimisation (maximised objectives
    negated, NaN values +inf). `samples`: optional {(i, j): array} of draws used instead of the split normal."""
    v, lo, hi = _split_normal(value, lower, upper, level, maximize)
    return _draw(v, lo, hi, draws, np.random.default_rng(seed), _oriented_samples(samples, maximize))


def prob_non_dominated(value, lower, upper, level, maximize, draws: int = 1000, seed: int = 0,
                       samples=None) -> np.ndarray:
    """P(non-dominated) of each of n candidates over m objectives ((n, m) arrays), by `draws` draws.
    Candidates dominated in every possible draw (from the truncation bounds) are dropped before sampling,
    then those dominated in every actual draw; neither changes anyone else's answer (transitivity)."""
    value = np.asarray(value, float)
    if value.size == 0:
        return np.zeros(len(value))
    v, lo, hi = _split_normal(value, lower, upper, level, maximize)
    smp = _oriented_samples(samples, maximize)
    best, worst = v - TAIL * lo, v + TAIL * hi
    for (i, j), arr in smp.items():
        best[i, j], worst[i, j] = arr.min(), arr.max()
    keep = np.flatnonzero(~surely_dominated(best, worst))
    where = {int(i): k for k, i in enumerate(keep)}
    s = _draw(v[keep], lo[keep], hi[keep], draws, np.random.default_rng(seed),
              {(where[i], j): arr for (i, j), arr in smp.items() if i in where})
    alive = ~surely_dominated(s.min(0), s.max(0))
    out = np.zeros(len(value))
    out[keep[alive]] = _nd_draws(s[:, alive]).mean(0)
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
