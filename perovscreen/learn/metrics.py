"""Replay metrics and the exact random baseline.

For a query order (indices in the order they were labelled) and a top set of K items out of N:
- found(n): the fraction of the top set found after n queries (CAMD's allALM);
- first hit: the 1-based query at which the first top item was labelled (inf if never, within budget);
- enhancement factor EF(n) = mean over seeds of found(n) / E_random[found(n)] = mean found(n) / (n/N).
  EF(n) can never exceed N/n (a policy cannot find more than everything): at n = 150 of N = 389 the
  ceiling is 2.59.
- acceleration factor of the first hit AF = E_random[first hit] / median first hit, E = (N+1)/(K+1).
Intervals over seeds are percentile bootstrap intervals of the statistic (median, or mean for EF).
"""
from __future__ import annotations

import math

import numpy as np

from perovscreen.core.results import Estimate


def random_first_hit(N: int, K: int) -> float:
    """E[queries to the first of K good items], uniform random order without replacement."""
    return (N + 1) / (K + 1)


def random_all_found(N: int, K: int) -> float:
    """E[queries to find all K good items]."""
    return K * (N + 1) / (K + 1)


def random_found(n: int, N: int) -> float:
    """E[fraction of the good items found after n queries]."""
    return n / N


def found_curve(order, top, length: int | None = None) -> np.ndarray:
    """found[n-1] = fraction of `top` among the first n of `order` (n = 1..length; padded flat)."""
    order = np.asarray(order)
    hit = np.isin(order, np.asarray(top)).astype(float)
    curve = np.cumsum(hit) / len(top)
    if length is not None and len(curve) < length:
        curve = np.concatenate([curve, np.full(length - len(curve), curve[-1] if len(curve) else 0.0)])
    return curve[:length] if length is not None else curve


def first_hit(order, top) -> float:
    pos = np.flatnonzero(np.isin(np.asarray(order), np.asarray(top)))
    return float(pos[0] + 1) if len(pos) else math.inf


def all_found(order, top) -> float:
    hit = np.isin(np.asarray(order), np.asarray(top))
    return float(np.flatnonzero(hit)[-1] + 1) if hit.sum() == len(top) else math.inf


def bootstrap(values, stat=np.median, level: float = 0.95, n_boot: int = 2000, seed: int = 0,
              unit: str = "", what: str = "median") -> Estimate:
    """`stat` over seeds with a percentile bootstrap interval (inf values allowed for medians)."""
    v = np.asarray(values, float)
    value = float(stat(v))
    if len(v) < 2:
        return Estimate(value, None, None, None, unit, f"{what} over {len(v)} seed")
    rng = np.random.default_rng(seed)
    boots = stat(v[rng.integers(0, len(v), (n_boot, len(v)))], axis=1)
    lo, hi = np.quantile(boots, [(1 - level) / 2, (1 + level) / 2], method="inverted_cdf")
    lo, hi = float(min(lo, value)), float(max(hi, value))
    return Estimate(value, lo, hi, level, unit, f"{what} over {len(v)} seeds, percentile bootstrap")


def enhancement(found_at_n, n: int, N: int, seed: int = 0) -> Estimate:
    """EF = mean found(n) over seeds / (n/N), with a bootstrap interval over seeds."""
    ratio = np.asarray(found_at_n, float) / random_found(n, N)
    return bootstrap(ratio, np.mean, seed=seed, unit="x random", what="mean")
