"""Finite-volume homogenisation by matrix-free preconditioned conjugate gradients (periodic, mean field).

Unknown: the periodic part phi~ of the potential at voxel centres; phi = E.x + phi~ (voxel size 1).
Flux through the face between voxels c and c+e_j:
    J_j = T_j (phi~(c+e_j) - phi~(c) + E_j) + cross_j,
with T_j the harmonic mean of the two sigma_jj (exact for layers in series, and what keeps a thin
resistive GB resistive), and, for full tensors, cross_j the face average of the cell terms
sum_k!=j sigma'_jk <grad_k phi>_cell (sigma' = sigma inside grains, clipped next to interfaces so the
operator stays positive definite). Written as D^T S D it is symmetric positive semi-definite (constants
only in the null space), for any field of SPD tensors.

Preconditioners: 'fft' inverts the constant-coefficient Laplacian with per-axis reference conductivities
(the geometric means of T_j): iterations then scale with sqrt(contrast) and not with the grid size,
which is what makes 256^3 feasible; 'jacobi' is the diagonal (iterations grow with the grid side).
"""
from __future__ import annotations

import time

import numpy as np
import scipy.fft as sfft

from perovscreen.core.errors import InputError
from perovscreen.mesoscale.fft_solver import Solution, workers
from perovscreen.mesoscale.stencil import apply_diagonal, cg_step, dot, new_direction
from perovscreen.mesoscale.tensors import PAIRS, check_field


class FVOperator:
    """The discrete operator of one tensor field, with its face conductivities precomputed."""

    def __init__(self, field: np.ndarray, dtype=np.float64, preconditioner: str = "fft"):
        field = check_field(field)
        if preconditioner not in ("fft", "jacobi", "none"):
            raise InputError(f"preconditioner must be fft, jacobi or none, got {preconditioner!r}")
        self.dim = dim = field.ndim - 1
        self.shape = field.shape[1:]
        self.dtype = dtype
        self.T = []
        self.sdiag = []  # sigma_jj per voxel: splits each face's dissipation between its two voxels
        for j in range(dim):
            s = field[j].astype(dtype, copy=False)
            self.sdiag.append(s)
            sn = np.roll(s, -1, j)
            self.T.append((2 * s * sn / (s + sn)).astype(dtype))
            del sn
        # off-diagonal cell coefficients (only when present), clipped so every cell's quadratic form stays
        # positive: |sigma'_jk| <= theta sqrt(m_j m_k), m_j the smaller face conductivity of the cell along
        # j (theta 1 in 2D; 1/2 in 3D, where pairwise bounds need diagonal dominance). Inside a grain
        # m_j = sigma_jj and nothing changes; only cells next to a strong contrast are limited.
        self.cross = {}
        theta = 1.0 if dim == 2 else 0.5
        noise = 1e-9 * float(field[:dim].max())  # rotating an isotropic tensor leaves ~1e-17 off-diagonals
        for c, (i, j) in enumerate(PAIRS[dim]):
            if i != j and float(np.abs(field[c]).max()) > noise:
                mi = np.minimum(self.T[i], np.roll(self.T[i], 1, i))
                mj = np.minimum(self.T[j], np.roll(self.T[j], 1, j))
                lim = theta * np.sqrt(mi * mj)
                self.cross[(i, j)] = np.clip(field[c], -lim, lim).astype(dtype)
        self.preconditioner = preconditioner
        if preconditioner == "jacobi":
            self.diag = sum(t + np.roll(t, 1, j) for j, t in enumerate(self.T))
        elif preconditioner == "fft":
            ref = [float(np.exp(np.log(t).mean())) for t in self.T]
            lam = 0.0
            for ax, n in enumerate(self.shape):
                last = ax == dim - 1
                k = 2 * np.pi * (sfft.rfftfreq(n) if last else sfft.fftfreq(n))
                sh = [1] * dim
                sh[ax] = len(k)
                lam = lam + ref[ax] * (2 - 2 * np.cos(k)).reshape(sh)
            self.inv_lap = np.where(lam > 0, 1 / np.where(lam > 0, lam, 1), 0).astype(dtype)

    def flux(self, phi: np.ndarray | None, E) -> list:
        """Face currents J_j for potential fluctuation phi (None: zero) and mean field E."""
        dim = self.dim
        g = []
        for j in range(dim):
            gj = (np.roll(phi, -1, j) - phi) if phi is not None else np.zeros(self.shape, self.dtype)
            if E[j]:
                gj += self.dtype(E[j])
            g.append(gj)
        J = [self.T[j] * g[j] for j in range(dim)]
        if self.cross:
            G = [0.5 * (g[k] + np.roll(g[k], 1, k)) for k in range(dim)]  # cell-centred gradient
            for (i, k), s in self.cross.items():
                for a, b in ((i, k), (k, i)):
                    c = s * G[b]
                    J[a] += 0.5 * (c + np.roll(c, -1, a))
        return J

    def div(self, J) -> np.ndarray:
        """-(div J) per voxel: the operator's output (A phi = div-form of the fluxes)."""
        out = np.zeros(self.shape, self.dtype)
        for j, Jj in enumerate(J):
            out += np.roll(Jj, 1, j)
            out -= Jj
        return out

    def apply(self, phi, out_dtype=None):
        """A phi; float64 arithmetic in the fused kernel (no cross terms), result in out_dtype (default the
        operator's storage type)."""
        if not self.cross:
            return apply_diagonal(self.T, phi, np.empty(self.shape, out_dtype or self.dtype))
        return self.div(self.flux(phi, (0,) * self.dim)).astype(out_dtype or self.dtype, copy=False)

    def precondition(self, r):
        if self.preconditioner == "jacobi":
            return r / self.diag
        if self.preconditioner == "none":
            return r.copy()
        nw = workers()
        f = sfft.rfftn(r, workers=nw)
        f *= self.inv_lap
        return sfft.irfftn(f, s=self.shape, workers=nw, overwrite_x=True).astype(self.dtype, copy=False)


def solve_fv(field: np.ndarray, axes=None, tol: float = 1e-6, maxiter: int = 5000,
             preconditioner: str = "fft", mask: np.ndarray | None = None, dtype=np.float64,
             op: FVOperator | None = None) -> Solution:
    """Effective conductivity tensor of a periodic voxel tensor field by FV + PCG (see module doc)."""
    op = op or FVOperator(field, dtype, preconditioner)
    dim = op.dim
    sigma = np.zeros((dim, dim))
    its, res, shares, currents = [], [], [], []
    t0 = time.perf_counter()
    for a in (range(dim) if axes is None else axes):
        E = [0.0] * dim
        E[a] = 1.0
        b = -op.div(op.flux(None, E))
        phi, it, r = pcg(op, b, tol, maxiter)
        J = op.flux(phi, E)
        sigma[:, a] = [float(Jj.mean(dtype=np.float64)) for Jj in J]
        its.append(it)
        res.append(r)
        if mask is not None:
            shares.append(_share(op, phi, E, J, mask))
            ja = J[a].astype(float)
            currents.append(float((0.5 * (ja + np.roll(ja, 1, a)))[mask].sum() / ja.sum()))
    return Solution(sigma, its, res, time.perf_counter() - t0, f"fv-pcg-{op.preconditioner}", shares,
                    all(r <= tol * 10 for r in res), currents)


def _share(op, phi, E, J, mask):
    """Dissipation J.g of each face split between its two voxels as their half-voxel resistances in
    series (1/sigma_L : 1/sigma_R); the share that falls in mask."""
    w = np.zeros(op.shape)
    for j in range(op.dim):
        g = np.roll(phi, -1, j) - phi + E[j]
        fj = (J[j] * g).astype(float)
        s = op.sdiag[j].astype(float)
        sn = np.roll(s, -1, j)
        left = sn / (s + sn)  # fraction of face (c, c+e_j) dissipated in c
        w += left * fj + np.roll((1 - left) * fj, 1, j)
    return float(w[mask].sum() / w.sum())


def pcg(op: FVOperator, b: np.ndarray, tol: float, maxiter: int, restarts: int = 6):
    """Preconditioned CG with mixed-precision refinement; returns (x float64, iterations, true relative
    residual). The Krylov iterations run in the operator's storage type; after each pass the true residual
    b - A x is recomputed in float64 and the correction solved again, so a float32 operator still reaches
    1e-6 (a single float32 pass stalls near 3e-5 at 256^3)."""
    b = b.astype(np.float64)
    nb = float(np.sqrt(dot(b, b)))
    x = np.zeros_like(b)
    if nb == 0:
        return x, 0, 0.0
    r, its, res = b.copy(), 0, 1.0
    for _ in range(restarts):
        nr = float(np.sqrt(dot(r, r)))
        res = nr / nb
        if res <= tol or its >= maxiter:
            break
        d, it = _cg(op, r.astype(op.dtype), tol * nb / nr, maxiter - its)
        x += d
        its += it
        r = b - op.apply(x, np.float64)
    return x, its, float(np.sqrt(dot(r, r)) / nb)


def _cg(op: FVOperator, b: np.ndarray, rtol: float, maxiter: int):
    """Plain PCG on A x = b to ||r|| <= rtol ||b|| (recursive residual); (x, iterations)."""
    nb = float(np.sqrt(dot(b, b)))
    x = np.zeros_like(b)
    r = b.copy()
    z = op.precondition(r)
    p = z.copy()
    rz = dot(r, z)
    it = 0
    for it in range(1, maxiter + 1):
        ap = op.apply(p)
        pap = dot(p, ap)
        if pap <= 0:
            raise InputError("FV operator is not positive definite for this tensor field (strong off-diagonal "
                             "terms at high contrast); use the FFT solver")
        rr = cg_step(x, r, p, ap, rz / pap)
        if np.sqrt(rr) <= rtol * nb:
            break
        z = op.precondition(r)
        rz_new = dot(r, z)
        new_direction(p, z, rz_new / rz)
        rz = rz_new
    return x, it
