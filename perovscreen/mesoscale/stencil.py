"""Fused numba kernels for the finite-volume operator with diagonal face conductivities.

The numpy form (`FVOperator.flux` + `div`) makes ~4 full-grid temporaries per axis (np.roll copies); this
one pass reads phi and the face conductivities once. Arithmetic is float64 whatever the storage type, so
a float32 problem still gets a float64 residual (what mixed-precision refinement in `fv_solver.pcg` needs),
and dot products accumulate in float64 (a float32 BLAS dot over 1.7e7 voxels loses ~4 digits).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True)
def _apply2(t0, t1, phi, out):
    nx, ny = phi.shape
    for i in prange(nx):
        im = i - 1 if i > 0 else nx - 1
        ip = i + 1 if i < nx - 1 else 0
        for j in range(ny):
            jm = j - 1 if j > 0 else ny - 1
            jp = j + 1 if j < ny - 1 else 0
            c = np.float64(phi[i, j])
            v = (np.float64(t0[im, j]) * (c - phi[im, j]) - np.float64(t0[i, j]) * (phi[ip, j] - c)
                 + np.float64(t1[i, jm]) * (c - phi[i, jm]) - np.float64(t1[i, j]) * (phi[i, jp] - c))
            out[i, j] = v


@njit(parallel=True, cache=True)
def _apply3(t0, t1, t2, phi, out):
    nx, ny, nz = phi.shape
    for i in prange(nx):
        im = i - 1 if i > 0 else nx - 1
        ip = i + 1 if i < nx - 1 else 0
        for j in range(ny):
            jm = j - 1 if j > 0 else ny - 1
            jp = j + 1 if j < ny - 1 else 0
            for k in range(nz):
                km = k - 1 if k > 0 else nz - 1
                kp = k + 1 if k < nz - 1 else 0
                c = np.float64(phi[i, j, k])
                v = (np.float64(t0[im, j, k]) * (c - phi[im, j, k]) - np.float64(t0[i, j, k]) * (phi[ip, j, k] - c)
                     + np.float64(t1[i, jm, k]) * (c - phi[i, jm, k]) - np.float64(t1[i, j, k]) * (phi[i, jp, k] - c)
                     + np.float64(t2[i, j, km]) * (c - phi[i, j, km]) - np.float64(t2[i, j, k]) * (phi[i, j, kp] - c))
                out[i, j, k] = v


@njit(parallel=True, cache=True)
def _dot(a, b):
    s = 0.0
    for i in prange(a.size):
        s += np.float64(a[i]) * np.float64(b[i])
    return s


@njit(parallel=True, cache=True)
def _cg_step(x, r, p, ap, alpha):
    s = 0.0
    for i in prange(x.size):
        x[i] += alpha * p[i]
        r[i] -= alpha * ap[i]
        s += np.float64(r[i]) * np.float64(r[i])
    return s


@njit(parallel=True, cache=True)
def _direction(p, z, beta):
    for i in prange(p.size):
        p[i] = z[i] + beta * p[i]


def cg_step(x, r, p, ap, alpha: float) -> float:
    """x += alpha p; r -= alpha ap in one pass; returns |r|^2 (float64 accumulation)."""
    return float(_cg_step(x.reshape(-1), r.reshape(-1), p.reshape(-1), ap.reshape(-1), alpha))


def new_direction(p, z, beta: float) -> None:
    """p = z + beta p in place."""
    _direction(p.reshape(-1), z.reshape(-1), beta)


def apply_diagonal(T: list, phi: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """-(div J) for J_j = T_j (phi(c+e_j) - phi(c)) on a periodic grid; `out` sets the result's dtype."""
    if out is None:
        out = np.empty(phi.shape, phi.dtype)
    if phi.ndim == 2:
        _apply2(T[0], T[1], phi, out)
    else:
        _apply3(T[0], T[1], T[2], phi, out)
    return out


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """sum(a*b) accumulated in float64."""
    return float(_dot(a.reshape(-1), b.reshape(-1)))
