"""Screening-factor tuning: choose f so that the softBV static pressure of the whole structure is zero.

The virial W(f) = sum over pairs of R dE/dR (Morse between cations and anions, screened Coulomb between
like-charged ions, every term weighted by both occupancies). Only the Coulomb part depends on f and it
grows monotonically with f, so W(f) = 0 has at most one root, found by bisection.
"""
from __future__ import annotations

import math

import numpy as np
from pymatgen.optimization.neighbors import find_points_in_spheres
from scipy.special import erfc

from perovscreen.bvse.framework import COULOMB_EV_A
from perovscreen.bvse.params import SoftBVTable, ion_key

F_RANGE = (0.3, 2.0)


def _terms(structure):
    cart, sym, q, occ = [], [], [], []
    for site in structure:
        for sp, o in site.species.items():
            if getattr(sp, "oxi_state", None) in (None, 0):
                continue
            cart.append(site.coords)
            sym.append(sp.symbol)
            q.append(float(sp.oxi_state))
            occ.append(o)
    return np.array(cart), sym, np.array(q), np.array(occ)


def _pair_arrays(structure, table: SoftBVTable, cutoff, d0_factor):
    cart, sym, q, occ = _terms(structure)
    lat = np.ascontiguousarray(structure.lattice.matrix, dtype=float)
    ci, pj, _, dist = find_points_in_spheres(cart, cart, r=float(cutoff), pbc=np.array([1, 1, 1], np.int64),
                                             lattice=lat, tol=1e-8)
    keep = dist > 0.5  # drop self and co-located species of one disordered site
    ci, pj, dist = ci[keep], pj[keep], dist[keep]
    w = 0.5 * occ[ci] * occ[pj]  # ordered pairs: each unordered pair appears twice
    qq = q[ci] * q[pj]
    keys = [ion_key(s, c) for s, c in zip(sym, q)]
    morse = qq < 0
    d0 = np.zeros(len(ci)); alpha = np.zeros(len(ci)); rmin = np.zeros(len(ci))
    missing = set()
    for n in np.flatnonzero(morse):
        cat, an = (ci[n], pj[n]) if q[ci[n]] > 0 else (pj[n], ci[n])
        try:
            pp = table.pair(keys[cat], keys[an])
        except ValueError:
            missing.add(f"{keys[cat]}/{keys[an]}")
            w[n] = 0.0
            continue
        d0[n], alpha[n], rmin[n] = d0_factor * pp.d0, 1.0 / pp.b, pp.rmin
    radius = np.array([table.radius(s, c) for s, c in zip(sym, q)])
    nq = np.array([table.n(s) for s in sym], float)
    pref = COULOMB_EV_A * qq / np.sqrt(nq[ci] * nq[pj])
    rsum = radius[ci] + radius[pj]
    return dict(w=w, r=dist, morse=morse, d0=d0, alpha=alpha, rmin=rmin, pref=pref, rsum=rsum,
                missing=sorted(missing))


def virial(pairs, f):
    """sum R dE/dR (eV); positive = net attraction (structure wants to shrink)."""
    r, w = pairs["r"], pairs["w"]
    m = pairs["morse"]
    x = np.exp(pairs["alpha"][m] * (pairs["rmin"][m] - r[m]))
    w_m = np.sum(w[m] * r[m] * pairs["d0"][m] * 2.0 * (x - 1.0) * (-pairs["alpha"][m] * x))
    c = ~m
    y = r[c] / (f * pairs["rsum"][c])
    g = erfc(y) + 2.0 / math.sqrt(math.pi) * y * np.exp(-y * y)
    w_c = -np.sum(w[c] * pairs["pref"][c] / r[c] * g)
    return w_m + w_c


def tune_screening(structure, table: SoftBVTable, cutoff=10.0, d0_convention="half", tol=1e-4):
    """Return (f, info) with W(f) = 0 in F_RANGE; clipped to the range (and flagged) if no root."""
    pairs = _pair_arrays(structure, table, cutoff, 0.5 if d0_convention == "half" else 1.0)
    lo, hi = F_RANGE
    w_lo, w_hi = virial(pairs, lo), virial(pairs, hi)
    info = {"range": list(F_RANGE), "missing_pairs": pairs["missing"]}
    if w_lo * w_hi > 0:
        f = lo if abs(w_lo) < abs(w_hi) else hi
        info.update(converged=False, virial_eV=float(virial(pairs, f)))
        return f, info
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if virial(pairs, mid) * w_lo > 0:
            lo = mid
        else:
            hi = mid
    f = 0.5 * (lo + hi)
    info.update(converged=True, virial_eV=float(virial(pairs, f)))
    return f, info
