"""Compiled inference for fitted scikit-learn forests: mean and spread over trees in one threaded pass.

scikit-learn predicts tree by tree (one Python call and one output array per tree); screening 10^6
inputs with a 300-tree forest is then dominated by that overhead and by re-reading the rows. Here the
trees are packed into padded arrays and every block of rows walks all trees while it sits in cache.
Decisions replicate scikit-learn's exactly (`x <= threshold` goes left, NaN follows the node's
`missing_go_to_left`).
"""
from __future__ import annotations

import weakref

import numba
import numpy as np
from numba import njit, prange

_PACKED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
BLOCK = 64


def pack_forest(est) -> tuple:
    """Padded per-tree arrays: nodes int32 [T, n, 4] = (feature, left, right, missing goes left; left = -1
    at leaves), threshold32 [T, n] and value [T, n, n_outputs]. threshold32 is the largest float32 <= the
    float64 threshold, so `x <= threshold32` equals scikit-learn's `x <= threshold` for float32 x."""
    trees = [t.tree_ for t in est.estimators_]
    n_nodes = max(t.node_count for t in trees)
    T = len(trees)
    nodes = np.full((T, n_nodes, 4), -1, np.int32)
    threshold = np.zeros((T, n_nodes), np.float32)
    value = np.zeros((T, n_nodes, trees[0].value.shape[1]))
    for i, t in enumerate(trees):
        k = t.node_count
        thr = t.threshold.astype(np.float32)
        threshold[i, :k] = np.where(thr.astype(np.float64) > t.threshold, np.nextafter(thr, np.float32(-np.inf)), thr)
        nodes[i, :k, 0] = np.maximum(t.feature, 0)
        nodes[i, :k, 1] = t.children_left
        nodes[i, :k, 2] = t.children_right
        nodes[i, :k, 3] = t.missing_go_to_left if hasattr(t, "missing_go_to_left") else 1
        value[i, :k] = t.value[:, :, 0]
    return nodes, threshold, value


@njit(cache=True, inline="always")
def _leaf(tree, thr, x):
    node = 0
    while tree[node, 1] >= 0:
        v = x[tree[node, 0]]
        if v <= thr[node]:
            node = tree[node, 1]
        elif v > thr[node]:
            node = tree[node, 2]
        else:  # NaN
            node = tree[node, 1] if tree[node, 3] else tree[node, 2]
    return node


@njit(cache=True)
def _kth(v, k):
    """k-th smallest of v (reorders v in place; quickselect)."""
    lo, hi = 0, len(v) - 1
    while lo < hi:
        pivot = v[(lo + hi) // 2]
        i, j = lo, hi
        while i <= j:
            while v[i] < pivot:
                i += 1
            while v[j] > pivot:
                j -= 1
            if i <= j:
                v[i], v[j] = v[j], v[i]
                i, j = i + 1, j - 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            break
    return v[k]


@njit(cache=True)
def _median(v):
    n = len(v)
    upper = _kth(v, n // 2)
    if n % 2:
        return upper
    lower = v[0]
    for x in v[: n // 2]:  # after selection, the lower half holds the smaller values
        lower = max(lower, x)
    return 0.5 * (lower + upper)


@njit(parallel=True, cache=True)
def _stats(X, nodes, threshold, value, block, median):
    """Per row and output: mean or median over trees, and std over trees."""
    n, n_trees, n_out = X.shape[0], nodes.shape[0], value.shape[2]
    centre = np.zeros((n, n_out))
    spread = np.zeros((n, n_out))
    for b in prange((n + block - 1) // block):
        lo, hi = b * block, min(n, (b + 1) * block)
        buf = np.empty((hi - lo, n_out, n_trees))
        for t in range(n_trees):
            tree, thr = nodes[t], threshold[t]
            for i in range(lo, hi):
                node = _leaf(tree, thr, X[i])
                for o in range(n_out):
                    buf[i - lo, o, t] = value[t, node, o]
        for i in range(lo, hi):
            for o in range(n_out):
                v = buf[i - lo, o]
                m = v.mean()
                spread[i, o] = np.sqrt(max((v * v).mean() - m * m, 0.0))
                centre[i, o] = _median(v) if median else m
    return centre, spread


def forest_predict(est, X, aggregate: str = "mean", n_jobs: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """(centre, std over trees), each [n, n_outputs], of a fitted RandomForestRegressor; centre is the
    mean over trees (scikit-learn's prediction) or, with aggregate="median", the median over trees."""
    if aggregate not in ("mean", "median"):
        raise ValueError(f"aggregate must be 'mean' or 'median', got {aggregate!r}")
    packed = _PACKED.get(est)
    if packed is None:
        packed = _PACKED[est] = pack_forest(est)
    X = np.ascontiguousarray(X, dtype=np.float32)
    old = numba.get_num_threads()
    numba.set_num_threads(max(1, min(n_jobs, numba.config.NUMBA_NUM_THREADS)))
    try:
        return _stats(X, *packed, BLOCK, aggregate == "median")
    finally:
        numba.set_num_threads(old)
