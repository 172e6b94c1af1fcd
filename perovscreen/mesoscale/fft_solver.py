"""Spectral (Moulinec-Suquet) homogenisation of div(sigma(x) grad phi) = 0 on a periodic voxel grid.

The field e = <e> + grad(phi~) is found from the Lippmann-Schwinger equation G(sigma e) = 0, with G the
projection on zero-mean gradient fields (G(k) = k k^T / |k|^2, continuous frequencies; see `_wavevectors` for
the Nyquist modes). 'cg' solves it by conjugate gradients on the compatible fields
(Zeman et al. 2010, Vondrejc et al. 2014): iterations grow as sqrt(contrast) instead of the basic
scheme's contrast, which is what makes grain boundaries at 1e-2..1e-4 tractable. 'basic' is the
original fixed point e <- e - G(sigma e)/sigma0; both converge to the same discrete solution.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.fft as sfft

from perovscreen.core.errors import InputError
from perovscreen.mesoscale.tensors import PAIRS, check_field


@dataclass
class Solution:
    """What a solver returns: sigma_eff (d x d; column j is the mean current for a unit mean field along
    axis j), per-axis iterations and final relative residuals, the share of dissipation inside `mask`."""
    sigma: np.ndarray
    iterations: list
    residuals: list
    seconds: float
    solver: str
    mask_share: list = field(default_factory=list)
    converged: bool = True
    mask_current: list = field(default_factory=list)  # share of the mean current carried inside mask


def workers() -> int:
    return max(1, min(os.cpu_count() or 1, int(os.environ.get("PEROVSCREEN_THREADS", "0")) or os.cpu_count() or 1))


def apply_tensor(field: np.ndarray, e: np.ndarray) -> np.ndarray:
    """J = sigma e pointwise; field (ncomp, *grid), e (d, *grid)."""
    d = e.shape[0]
    out = np.zeros_like(e)
    for c, (i, j) in enumerate(PAIRS[d]):
        out[i] += field[c] * e[j]
        if i != j:
            out[j] += field[c] * e[i]
    return out


def _wavevectors(shape, dtype):
    """Frequencies and 1/|k|^2 of the projection. A Nyquist mode (even n) is kept only along a pure axis,
    where G = e_j e_j^T is even in k (laminates stay exact); mixed with other frequencies its sign is
    ambiguous and G would make the field complex, so there it is dropped."""
    ks, nyq = [], []
    for ax, n in enumerate(shape):
        last = ax == len(shape) - 1
        k = 2 * np.pi * (sfft.rfftfreq(n) if last else sfft.fftfreq(n))
        q = np.zeros(len(k), bool)
        if n % 2 == 0:
            q[n // 2 if not last else -1] = True
        sh = [1] * len(shape)
        sh[ax] = len(k)
        ks.append(k.reshape(sh).astype(dtype))
        nyq.append(q.reshape(sh))
    k2 = sum(k * k for k in ks)
    nonzero = sum((k != 0).astype(int) for k in ks)
    drop = np.logical_or.reduce(np.broadcast_arrays(*nyq)) & (nonzero > 1)
    inv = np.where((k2 > 0) & ~drop, 1.0 / np.where(k2 > 0, k2, 1.0), 0.0).astype(dtype)
    return ks, inv


def solve_fft(field: np.ndarray, axes=None, tol: float = 1e-6, maxiter: int = 2000, scheme: str = "cg",
              mask: np.ndarray | None = None, dtype=np.float64) -> Solution:
    """Effective conductivity tensor of a periodic voxel tensor field (see module doc).

    axes: the mean-field directions to solve (default all: the full tensor); tol: relative residual of
    the equilibrium equation; mask: voxels whose share of the dissipation is reported (e.g. GBs)."""
    field = check_field(field).astype(dtype, copy=False)
    if scheme not in ("cg", "basic"):
        raise InputError(f"FFT scheme must be 'cg' or 'basic', got {scheme!r}")
    dim, shape = field.ndim - 1, field.shape[1:]
    ks, inv = _wavevectors(shape, dtype)
    nw = workers()
    axes_all = tuple(range(len(shape)))

    def project(v):
        """G v: the zero-mean gradient part of a vector field."""
        vh = [sfft.rfftn(v[i], workers=nw) for i in range(dim)]
        s = sum(ks[i] * vh[i] for i in range(dim)) * inv
        return np.stack([sfft.irfftn(ks[i] * s, s=shape, axes=axes_all, workers=nw) for i in range(dim)])

    sigma = np.zeros((dim, dim))
    its, res, shares, currents = [], [], [], []
    t0 = time.perf_counter()
    axes = range(dim) if axes is None else axes
    # the basic scheme's optimal reference medium: the mean of the extreme eigenvalue bounds
    lo, hi = field[:dim].min(), field[:dim].max() + np.abs(field[dim:]).max(initial=0)
    sigma0 = 0.5 * (lo + hi)
    for a in axes:
        E = np.zeros((dim,) + tuple(shape), dtype)
        E[a] = 1.0
        if scheme == "cg":
            e, it, r = _cg(field, E, project, tol, maxiter)
        else:
            e, it, r = _basic(field, E, project, tol, maxiter, sigma0)
        J = apply_tensor(field, e)
        sigma[:, a] = J.reshape(dim, -1).mean(1)
        its.append(it)
        res.append(r)
        if mask is not None:
            w = (e * J).sum(0)
            shares.append(float(w[mask].sum() / w.sum()))
            currents.append(float(J[a][mask].sum() / J[a].sum()))
    return Solution(sigma, its, res, time.perf_counter() - t0, f"fft-{scheme}", shares,
                    all(r <= tol for r in res), currents)


def _cg(field, E, project, tol, maxiter):
    """CG on G(sigma e~) = -G(sigma E) over compatible zero-mean fields (G is an orthogonal projection
    and sigma SPD, so the operator is SPD there)."""
    b = -project(apply_tensor(field, E))
    nb = np.sqrt(np.vdot(b, b).real)
    x = np.zeros_like(E)
    if nb == 0:  # homogeneous medium
        return E, 0, 0.0
    r = b.copy()
    p = r.copy()
    rr = np.vdot(r, r).real
    it = 0
    for it in range(1, maxiter + 1):
        ap = project(apply_tensor(field, p))
        alpha = rr / np.vdot(p, ap).real
        x += alpha * p
        r -= alpha * ap
        rr_new = np.vdot(r, r).real
        if np.sqrt(rr_new) <= tol * nb:
            rr = rr_new
            break
        p *= rr_new / rr
        p += r
        rr = rr_new
    return E + x, it, float(np.sqrt(rr) / nb)


def _basic(field, E, project, tol, maxiter, sigma0):
    e = E.copy()
    nb = np.sqrt(np.vdot(apply_tensor(field, E), apply_tensor(field, E)).real)
    r = 0.0
    it = 0
    for it in range(1, maxiter + 1):
        g = project(apply_tensor(field, e))  # equilibrium residual: zero at the solution
        r = float(np.sqrt(np.vdot(g, g).real) / nb)
        if r <= tol:
            break
        e -= g / sigma0
    return e, it, r
