"""Exact percolation thresholds on a periodic grid: one pass of union-find with lattice offsets.

Voxels are activated in increasing energy. Each voxel keeps its parent and its lattice shift relative to
the parent; a union that closes a loop with a non-zero net shift adds a wrap vector to the cluster. The
energy at which any cluster's wrap vectors first span rank 1, 2, 3 is the 1D, 2D, 3D threshold.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _steps():
    s = np.empty((26, 3), np.int64)
    n = 0
    for a in range(-1, 2):
        for b in range(-1, 2):
            for c in range(-1, 2):
                if a != 0 or b != 0 or c != 0:
                    s[n, 0], s[n, 1], s[n, 2] = a, b, c
                    n += 1
    return s


@njit(cache=True, inline="always")
def _neighbour(i, j, k, d, shape):
    """Periodic neighbour of (i, j, k) by step d: flat index and the lattice crossing w."""
    x, y, z = i + d[0], j + d[1], k + d[2]
    w0, w1, w2 = 0, 0, 0
    if x < 0:
        x += shape[0]; w0 = -1
    elif x >= shape[0]:
        x -= shape[0]; w0 = 1
    if y < 0:
        y += shape[1]; w1 = -1
    elif y >= shape[1]:
        y -= shape[1]; w1 = 1
    if z < 0:
        z += shape[2]; w2 = -1
    elif z >= shape[2]:
        z -= shape[2]; w2 = 1
    return (x * shape[1] + y) * shape[2] + z, w0, w1, w2


@njit(cache=True)
def _find(v, parent, off):
    """Root of v and v's lattice shift relative to it; compresses the path."""
    r = v
    s0, s1, s2 = 0, 0, 0
    while parent[r] != r:
        s0 += off[r, 0]; s1 += off[r, 1]; s2 += off[r, 2]
        r = parent[r]
    x = v
    t0, t1, t2 = s0, s1, s2
    while parent[x] != x:
        nxt = parent[x]
        o0, o1, o2 = off[x, 0], off[x, 1], off[x, 2]
        parent[x] = r
        off[x, 0], off[x, 1], off[x, 2] = t0, t1, t2
        t0 -= o0; t1 -= o1; t2 -= o2
        x = nxt
    return r, s0, s1, s2


@njit(cache=True)
def independent(basis, rank, v0, v1, v2):
    """True when integer vector v is linearly independent of the first `rank` rows of basis."""
    if v0 == 0 and v1 == 0 and v2 == 0:
        return False
    if rank == 0:
        return True
    a = basis[0]
    c0 = a[1] * v2 - a[2] * v1
    c1 = a[2] * v0 - a[0] * v2
    c2 = a[0] * v1 - a[1] * v0
    if rank == 1:
        return c0 != 0 or c1 != 0 or c2 != 0
    if rank == 2:
        b = basis[1]
        n0 = a[1] * b[2] - a[2] * b[1]
        n1 = a[2] * b[0] - a[0] * b[2]
        n2 = a[0] * b[1] - a[1] * b[0]
        return n0 * v0 + n1 * v1 + n2 * v2 != 0
    return False


@njit(cache=True)
def _add(basis, rank, root, v0, v1, v2):
    if rank[root] < 3 and independent(basis[root], rank[root], v0, v1, v2):
        r = rank[root]
        basis[root, r, 0], basis[root, r, 1], basis[root, r, 2] = v0, v1, v2
        rank[root] = r + 1


@njit(cache=True)
def thresholds(energy, order, e_max):
    """Single pass over voxels (flat indices in `order`, increasing energy) up to energy e_max.

    Returns (saddle[3], wrap[3, 3]): the voxel whose activation first gives rank k+1 (-1 if never) and
    the wrap vector that raised the rank.
    """
    shape = energy.shape
    flat = energy.ravel()
    n = flat.size
    parent = np.full(n, -1, np.int64)
    off = np.zeros((n, 3), np.int32)
    size = np.zeros(n, np.int32)
    rank = np.zeros(n, np.int8)
    basis = np.zeros((n, 3, 3), np.int32)
    steps = _steps()
    saddle = np.full(3, -1, np.int64)
    wrap = np.zeros((3, 3), np.int64)
    best = 0
    for idx in order:
        if flat[idx] > e_max:
            break
        parent[idx] = idx
        size[idx] = 1
        k = idx % shape[2]
        j = (idx // shape[2]) % shape[1]
        i = idx // (shape[1] * shape[2])
        for s in range(26):
            nb, w0, w1, w2 = _neighbour(i, j, k, steps[s], shape)
            if parent[nb] < 0:
                continue
            rv, a0, a1, a2 = _find(idx, parent, off)
            ru, b0, b1, b2 = _find(nb, parent, off)
            # neighbour's image adjacent to idx sits at shift(idx) + w
            d0, d1, d2 = a0 + w0 - b0, a1 + w1 - b1, a2 + w2 - b2
            if rv == ru:
                _add(basis, rank, rv, d0, d1, d2)
                continue
            if size[rv] < size[ru]:  # attach rv under ru
                parent[rv] = ru
                off[rv, 0], off[rv, 1], off[rv, 2] = -d0, -d1, -d2
                size[ru] += size[rv]
                root, child = ru, rv
            else:
                parent[ru] = rv
                off[ru, 0], off[ru, 1], off[ru, 2] = d0, d1, d2
                size[rv] += size[ru]
                root, child = rv, ru
            for q in range(rank[child]):
                _add(basis, rank, root, basis[child, q, 0], basis[child, q, 1], basis[child, q, 2])
        r, _, _, _ = _find(idx, parent, off)
        while best < rank[r]:
            saddle[best] = idx
            wrap[best, 0], wrap[best, 1], wrap[best, 2] = basis[r, best, 0], basis[r, best, 1], basis[r, best, 2]
            best += 1
        if best == 3:
            break
    return saddle, wrap


@njit(cache=True)
def loop_path(energy, src, e_thr, prev, prev_rank):
    """Migration path through the bottleneck voxel src inside the sub-level set {E <= e_thr}.

    Breadth-first search from src recording each voxel's lattice shift; the first non-tree edge whose net
    shift d is independent of the `prev_rank` rows of prev closes a loop src -> src + d.
    Returns (voxels, shifts) along the path, or empty arrays.
    """
    shape = energy.shape
    flat = energy.ravel()
    n = flat.size
    seen = np.zeros(n, np.bool_)
    pred = np.full(n, -1, np.int64)
    shift = np.zeros((n, 3), np.int64)
    queue = np.empty(n, np.int64)
    steps = _steps()
    head, tail = 0, 1
    queue[0] = src
    seen[src] = True
    while head < tail:
        x = queue[head]
        head += 1
        k = x % shape[2]
        j = (x // shape[2]) % shape[1]
        i = x // (shape[1] * shape[2])
        for s in range(26):
            nb, w0, w1, w2 = _neighbour(i, j, k, steps[s], shape)
            if flat[nb] > e_thr:
                continue
            t0, t1, t2 = shift[x, 0] + w0, shift[x, 1] + w1, shift[x, 2] + w2
            if not seen[nb]:
                seen[nb] = True
                pred[nb] = x
                shift[nb, 0], shift[nb, 1], shift[nb, 2] = t0, t1, t2
                queue[tail] = nb
                tail += 1
                continue
            d0, d1, d2 = t0 - shift[nb, 0], t1 - shift[nb, 1], t2 - shift[nb, 2]
            if not independent(prev, prev_rank, d0, d1, d2):
                continue
            # src -> x along the tree, then nb + d back to src + d along nb's tree branch
            m1 = 0
            y = x
            while y >= 0:
                m1 += 1
                y = pred[y]
            m2 = 0
            y = nb
            while y >= 0:
                m2 += 1
                y = pred[y]
            vox = np.empty(m1 + m2, np.int64)
            sh = np.empty((m1 + m2, 3), np.int64)
            y = x
            for q in range(m1 - 1, -1, -1):
                vox[q] = y
                sh[q] = shift[y]
                y = pred[y]
            y = nb
            for q in range(m1, m1 + m2):
                vox[q] = y
                sh[q, 0], sh[q, 1], sh[q, 2] = shift[y, 0] + d0, shift[y, 1] + d1, shift[y, 2] + d2
                y = pred[y]
            return vox, sh
    return np.empty(0, np.int64), np.empty((0, 3), np.int64)


@njit(cache=True)
def local_minima(energy, e_max):
    """Flat indices of voxels strictly lower than their 26 periodic neighbours (ties: lower index wins)."""
    shape = energy.shape
    flat = energy.ravel()
    steps = _steps()
    out = []
    for idx in range(flat.size):
        e = flat[idx]
        if e > e_max:
            continue
        k = idx % shape[2]
        j = (idx // shape[2]) % shape[1]
        i = idx // (shape[1] * shape[2])
        ok = True
        for s in range(26):
            nb, _, _, _ = _neighbour(i, j, k, steps[s], shape)
            f = flat[nb]
            if f < e or (f == e and nb < idx):
                ok = False
                break
        if ok:
            out.append(idx)
    return np.array(out, np.int64)
