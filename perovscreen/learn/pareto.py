"""Two-objective Pareto fronts, hypervolume and (Monte Carlo) expected hypervolume improvement.

Both objectives are *maximised* (a minimised objective, like E_hull, enters negated). The hypervolume of
a set P against a reference point r is the area of {z : r <= z <= p for some p in P}. For a candidate p,
HVI(p) = HV(P + {p}) - HV(P); EHVI is its expectation under the surrogate's posterior, estimated from S
joint draws (Monte Carlo EHVI: exact as S -> inf, and equal to HVI for a deterministic point).
"""
from __future__ import annotations

import numpy as np


def pareto_mask(Y: np.ndarray) -> np.ndarray:
    """True for the non-dominated rows of Y [n, 2] (maximisation; duplicates keep one)."""
    Y = np.asarray(Y, float)
    keep = np.ones(len(Y), bool)
    for i in range(len(Y)):
        dom = np.all(Y >= Y[i], axis=1) & np.any(Y > Y[i], axis=1)
        same = np.all(Y == Y[i], axis=1) & (np.arange(len(Y)) < i)
        keep[i] = not (dom.any() or same.any())
    return keep


def _front(Y, ref) -> np.ndarray:
    """The front of Y above ref, sorted by the first objective ascending (second then descending)."""
    Y = np.asarray(Y, float).reshape(-1, 2)
    Y = Y[np.all(Y > ref, axis=1)]
    if not len(Y):
        return Y
    F = Y[pareto_mask(Y)]
    return F[np.argsort(F[:, 0])]


def hypervolume(Y, ref) -> float:
    """Area dominated by the points Y [n, 2] and bounded below by ref (both maximised)."""
    ref = np.asarray(ref, float)
    F = _front(Y, ref)
    if not len(F):
        return 0.0
    x_prev = np.concatenate([[ref[0]], F[:-1, 0]])
    return float(np.sum((F[:, 0] - x_prev) * (F[:, 1] - ref[1])))


def hv_improvement(P, ref, Z) -> np.ndarray:
    """HV(P + {z}) - HV(P) for every row z of Z [..., 2], vectorised over the rows.

    With the front sorted by x ascending (y descending), the dominated region above height h(x) is a
    staircase: h(x) = y_i on (x_{i-1}, x_i], x_0 = ref_x, and ref_y beyond x_m. A new point z adds
    the integral over [ref_x, z_x] of max(0, z_y - h(x))."""
    ref = np.asarray(ref, float)
    F = _front(P, ref)
    Z = np.asarray(Z, float)
    lo = np.concatenate([[ref[0]], F[:, 0]])                  # interval starts
    hi = np.concatenate([F[:, 0], [np.inf]])                  # interval ends
    h = np.concatenate([F[:, 1], [ref[1]]])                   # staircase height on each interval
    zx, zy = Z[..., 0:1], Z[..., 1:2]
    width = np.clip(np.minimum(hi, zx) - lo, 0.0, None)
    return np.sum(width * np.clip(zy - h, 0.0, None), axis=-1)


def ehvi(P, ref, draws: np.ndarray) -> np.ndarray:
    """Monte Carlo EHVI of N candidates from joint posterior draws [S, N, 2]: the mean HVI over draws."""
    return hv_improvement(P, ref, draws).mean(axis=0)


def reference_point(Y, margin: float = 0.1) -> np.ndarray:
    """A reference point just below the worst observed value of each objective (margin x range)."""
    Y = np.asarray(Y, float).reshape(-1, 2)
    span = np.ptp(Y, axis=0) if len(Y) > 1 else np.ones(2)
    return Y.min(axis=0) - margin * np.where(span > 0, span, 1.0)
