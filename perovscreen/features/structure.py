"""Structure descriptors: packing, Li-Li / Li-anion geometry, perovskite tolerance factors, BVSE barriers.

Conventions
- Partial occupancies count by occupancy (volumes, densities, site fractions). Li-Li distances below
  `SPLIT_SITE_A` (1.0 A) are split positions that cannot be occupied together and are skipped.
- Li coordination: anions within r(Li+, VI) + r(X, VI) + 0.6 A of each Li site (Shannon radii),
  averaged over Li sites weighted by Li occupancy.
- Tolerance factors use a generic A/B/X split of the composition so they exist for every input:
  X = the majority ionic sign (anions for perovskites, cations for antiperovskites such as Li3OCl),
  normalised to 3 per formula unit; the smallest ions of the opposite sign fill B (1 per f.u.), the rest A.
  Goldschmidt t = (rA + rX) / (sqrt(2) (rB + rX)); Bartel tau = rX/rB - nA (nA - (rA/rB) / ln(rA/rB))
  (Sci. Adv. 5, eaav0693 (2019); |nA| for antiperovskites; NaN when rA <= rB). Radii: Shannon, A at
  CN XII, B and X at CN VI, nearest listed CN otherwise. Only meaningful for perovskite-like inputs.
- BVSE: migration barriers E1D/E2D/E3D from perovscreen.bvse at a coarse grid; non-percolating (inf)
  is capped at `BVSE_CAP` eV; NaN when BVSE fails (models impute).
"""
from __future__ import annotations

import math
import warnings

import numpy as np
from pymatgen.core import Structure

from perovscreen.structures.radii import bartel_tau, goldschmidt_t, shannon_radius

BVSE_CAP = 5.0
SPLIT_SITE_A = 1.0
NEIGHBOUR_R = 6.0
NAMES = ("s_vol_per_atom", "s_vol_per_anion", "s_density", "s_li_li_min", "s_li_li_nn_mean", "s_li_anion_min",
         "s_li_anion_nn_mean", "s_li_cn", "s_tolerance_t", "s_bartel_tau", "s_bvse_E1D", "s_bvse_E2D",
         "s_bvse_E3D")
def _oxidised(structure: Structure) -> Structure:
    if all(getattr(sp, "oxi_state", None) is not None for sp in structure.composition):
        return structure
    from perovscreen.structures.intake import assign_oxidation_states

    return assign_oxidation_states(structure)[0]


def tolerance_factors(species_amounts: dict) -> tuple[float, float]:
    """(Goldschmidt t, Bartel tau) of {Species: amount} with the generic A/B/X split (module doc)."""
    ions = [(sp.symbol, float(sp.oxi_state), float(a)) for sp, a in species_amounts.items() if sp.oxi_state]
    cat = [i for i in ions if i[1] > 0]
    an = [i for i in ions if i[1] < 0]
    if not cat or not an:
        return math.nan, math.nan
    n_cat, n_an = sum(i[2] for i in cat), sum(i[2] for i in an)
    x_ions, ab_ions, n_x = (an, cat, n_an) if n_an >= n_cat else (cat, an, n_cat)
    scale = 3.0 / n_x
    r_x = sum(shannon_radius(s, q, 6) * a for s, q, a in x_ions) / n_x
    ab = sorted(((shannon_radius(s, q, 6), s, q, a * scale) for s, q, a in ab_ions))
    b_left, b_sum, a_parts = 1.0, 0.0, []
    for r6, s, q, a in ab:
        take = min(a, b_left)
        b_sum += take * r6
        b_left -= take
        if a - take > 1e-9:
            a_parts.append((shannon_radius(s, q, 12), abs(q), a - take))
    if b_left > 1e-9 or not a_parts:
        return math.nan, math.nan
    n_a = sum(p[2] for p in a_parts)
    r_a = sum(p[0] * p[2] for p in a_parts) / n_a
    ox_a = sum(p[1] * p[2] for p in a_parts) / n_a
    r_b = b_sum
    tau = float(bartel_tau(r_a, r_b, r_x, ox_a))
    return float(goldschmidt_t(r_a, r_b, r_x)), tau if math.isfinite(tau) else math.nan


def _geometry(s: Structure) -> dict[str, float]:
    out = dict.fromkeys(NAMES[3:8], math.nan)
    li_occ = np.array([site.species.get_el_amt_dict().get("Li", 0.0) for site in s])
    an_r = {}
    for i, site in enumerate(s):
        neg = [(sp, a) for sp, a in site.species.items() if (getattr(sp, "oxi_state", 0) or 0) < 0]
        if neg:
            sp = max(neg, key=lambda t: t[1])[0]
            an_r[i] = shannon_radius(sp.symbol, sp.oxi_state, 6)
    li_idx = np.nonzero(li_occ > 0)[0]
    if len(li_idx) == 0:
        return out
    centers, points, _, dist = s.get_neighbor_list(NEIGHBOUR_R, sites=[s[i] for i in li_idx])
    w = li_occ[li_idx]
    is_li = li_occ[points] > 0
    r_li = shannon_radius("Li", 1, 6)
    li_li = np.full(len(li_idx), np.inf)
    li_an = np.full(len(li_idx), np.inf)
    cn = np.zeros(len(li_idx))
    for c, p, d, isl in zip(centers, points, dist, is_li):
        if isl and d >= SPLIT_SITE_A:
            li_li[c] = min(li_li[c], d)
        r = an_r.get(int(p))
        if r is not None:
            li_an[c] = min(li_an[c], d)
            if d <= r_li + r + 0.6:
                cn[c] += s[int(p)].species.num_atoms
    for key, arr in (("li_li", li_li), ("li_anion", li_an)):
        ok = np.isfinite(arr)
        if ok.any():
            out[f"s_{key}_min"] = float(arr[ok].min())
            out[f"s_{key}_nn_mean"] = float(np.average(arr[ok], weights=w[ok]))
    if np.isfinite(li_an).any():
        out["s_li_cn"] = float(np.average(cn, weights=w))
    return out


def _bvse(s: Structure, resolution: float) -> dict[str, float]:
    out = {k: math.nan for k in NAMES[-3:]}
    from perovscreen.bvse.core import compute_bvse

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            barriers = compute_bvse(s, ion="Li", resolution=resolution).barriers
    except Exception:  # noqa: BLE001  BVSE is an optional feature: any failure -> NaN, imputed later
        return out
    for k in ("E1D", "E2D", "E3D"):
        v = barriers.get(k, math.nan)
        out[f"s_bvse_{k}"] = min(float(v), BVSE_CAP) if v is not None else math.nan
    return out


def structure_descriptors(structure: Structure, bvse: bool = True, bvse_resolution: float = 0.3) -> dict:
    """Structure descriptors (NAMES) of one pymatgen Structure (oxidation states guessed if absent)."""
    s = _oxidised(structure)
    comp = s.composition
    n_an = sum(a for sp, a in comp.items() if (getattr(sp, "oxi_state", 0) or 0) < 0)
    out = {"s_vol_per_atom": s.volume / comp.num_atoms,
           "s_vol_per_anion": s.volume / n_an if n_an else math.nan,
           "s_density": float(s.density)}
    out.update(_geometry(s))
    out["s_tolerance_t"], out["s_bartel_tau"] = tolerance_factors(dict(comp.items()))
    out.update(_bvse(s, bvse_resolution) if bvse else {k: math.nan for k in NAMES[-3:]})
    return {k: float(out[k]) for k in NAMES}
