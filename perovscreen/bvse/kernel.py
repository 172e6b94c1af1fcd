"""Compiled BVSE energy kernel: scatter each framework term onto the grid points inside its cutoff sphere.

Memory is the output grid plus O(terms); no grid x neighbours array is ever built. The outer loop runs in
parallel over grid planes (axis 0), so every thread writes a disjoint slab.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

R_FLOOR2 = 1e-6  # A^2; keeps the Coulomb term finite on a grid point that sits on a framework cation


@njit(cache=True, inline="always")
def _interval(pp, pq, qq, r2):
    """Solve |p + t q|^2 <= r2 for t: returns (lo, hi), lo > hi when empty. pp=|p|^2, pq=p.q, qq=|q|^2."""
    disc = pq * pq - qq * (pp - r2)
    if disc < 0.0:
        return 1.0, -1.0
    s = math.sqrt(disc)
    return (-pq - s) / qq, (-pq + s) / qq


@njit(parallel=True, cache=True, fastmath=True)
def energy_grid(frac, lat, shape, kind, p, rcut, out):
    """Add the softBV site energy of every term to out (shape n0 x n1 x n2, fractional grid i/n)."""
    n0, n1, n2 = shape[0], shape[1], shape[2]
    a, b, c = lat[0], lat[1], lat[2]
    inv = np.linalg.inv(lat)
    g0 = math.sqrt(inv[0, 0] ** 2 + inv[1, 0] ** 2 + inv[2, 0] ** 2)  # |a*|
    cc = c[0] * c[0] + c[1] * c[1] + c[2] * c[2]
    # components of a, b perpendicular to c (for the exact |dv| range at fixed du)
    ac = (a[0] * c[0] + a[1] * c[1] + a[2] * c[2]) / cc
    bc = (b[0] * c[0] + b[1] * c[1] + b[2] * c[2]) / cc
    ap = a - ac * c
    bp = b - bc * c
    apap = ap[0] ** 2 + ap[1] ** 2 + ap[2] ** 2
    apbp = ap[0] * bp[0] + ap[1] * bp[1] + ap[2] * bp[2]
    bpbp = bp[0] ** 2 + bp[1] ** 2 + bp[2] ** 2
    nterm = frac.shape[0]
    for i in prange(n0):
        for t in range(nterm):
            rc = rcut[t]
            rc2 = rc * rc
            fu, fv, fw = frac[t, 0], frac[t, 1], frac[t, 2]
            k_t = kind[t]
            p0, p1, p2 = p[t, 0], p[t, 1], p[t, 2]
            h0 = rc * g0
            m_lo = math.ceil(fu - h0 - i / n0)
            m_hi = math.floor(fu + h0 - i / n0)
            for m in range(m_lo, m_hi + 1):
                du = i / n0 + m - fu
                v_lo, v_hi = _interval(du * du * apap, du * apbp, bpbp, rc2)
                if v_lo > v_hi:
                    continue
                j_lo = math.ceil((fv + v_lo) * n1)
                j_hi = math.floor((fv + v_hi) * n1)
                for jj in range(j_lo, j_hi + 1):
                    dv = jj / n1 - fv
                    px = du * a[0] + dv * b[0]
                    py = du * a[1] + dv * b[1]
                    pz = du * a[2] + dv * b[2]
                    pp = px * px + py * py + pz * pz
                    pc = px * c[0] + py * c[1] + pz * c[2]
                    w_lo, w_hi = _interval(pp, pc, cc, rc2)
                    if w_lo > w_hi:
                        continue
                    j = jj % n1
                    k_lo = math.ceil((fw + w_lo) * n2)
                    k_hi = math.floor((fw + w_hi) * n2)
                    k = k_lo % n2
                    row = out[i, j]
                    if k_t == 0:
                        for kk in range(k_lo, k_hi + 1):
                            dw = kk / n2 - fw
                            r = math.sqrt(max(pp + 2.0 * dw * pc + dw * dw * cc, R_FLOOR2))
                            x = math.exp(p1 * (p2 - r)) - 1.0
                            row[k] += p0 * (x * x - 1.0)
                            k += 1
                            if k == n2:
                                k = 0
                    else:
                        for kk in range(k_lo, k_hi + 1):
                            dw = kk / n2 - fw
                            r = math.sqrt(max(pp + 2.0 * dw * pc + dw * dw * cc, R_FLOOR2))
                            row[k] += p0 / r * math.erfc(r / p1)
                            k += 1
                            if k == n2:
                                k = 0
    return out


def term_cutoffs(kind, p, cutoff, coulomb_tail=4.5):
    """Per-term cutoff: the global cutoff, shortened for screened Coulomb terms where erfc(r/rho) < 2e-10."""
    rc = np.full(len(kind), float(cutoff))
    coul = kind == 1
    rc[coul] = np.minimum(rc[coul], coulomb_tail * p[coul, 1])
    return rc


def grid_shape(lattice, resolution):
    """Points per axis so that the spacing |a_i|/n_i is <= resolution (no duplicated boundary plane)."""
    lengths = np.linalg.norm(np.asarray(lattice, float), axis=1)
    return tuple(int(max(1, math.ceil(L / resolution - 1e-9))) for L in lengths)


def compute_energy(fw, lattice, shape, cutoff):
    lat = np.ascontiguousarray(lattice, dtype=np.float64)
    out = np.zeros(shape, dtype=np.float64)
    rc = term_cutoffs(fw.kind, fw.p, cutoff)
    energy_grid(np.ascontiguousarray(fw.frac), lat, np.asarray(shape, np.int64), fw.kind,
                np.ascontiguousarray(fw.p), rc, out)
    return out
