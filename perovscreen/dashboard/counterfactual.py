"""Chemically valid counterfactuals: the fewest substitutions that the model predicts put a candidate on the
front (exmol's recipe - enumerate valid neighbours, keep the nearest that changes the outcome - on crystals).

A candidate's composition is split over perovskite sites (ABX3 / A-deficient: anions on X, the most charged
and smallest cations fill B, the rest is A; antiperovskite X3BA: Li on X). One substitution moves one grid
step (or all) of a species on a site to another species of that site's list (the chemical space: the
space file the funnel used, else `DEFAULT_SITES`). Neighbours within `max_subs` substitutions are filtered
exactly like `structures.space` filters a space (charge neutrality, Pauling electronegativity order,
Goldschmidt t within bounds, Bartel tau) and by SMACT's `smact_validity`, then scored by the composition
model; objectives the model does not predict keep the candidate's own values. The answer is the neighbours
with the fewest substitutions whose probability of joining the front (`pareto.prob_joins_front`) exceeds
the threshold, best first.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from perovscreen.dashboard.pareto import prob_joins_front
from perovscreen.structures.radii import bartel_tau, goldschmidt_t, shannon_radius
from perovscreen.structures.space import ANTI_CN, CN, FAMILIES

DEFAULT_SITES = {
    "ABX3": {"A": [("Li", 1), ("Na", 1), ("K", 1), ("La", 3), ("Nd", 3), ("Pr", 3), ("Sr", 2), ("Ca", 2),
                   ("Ba", 2)],
             "B": [("Ti", 4), ("Zr", 4), ("Hf", 4), ("Sn", 4), ("Nb", 5), ("Ta", 5), ("Al", 3), ("Ga", 3),
                   ("Sc", 3)],
             "X": [("O", -2), ("F", -1)]},
    "antiperovskite": {"X": [("Li", 1), ("Na", 1)], "B": [("O", -2), ("S", -2)],
                       "A": [("Cl", -1), ("Br", -1), ("I", -1), ("F", -1)]},
}
STATES = {el: ox for fam in DEFAULT_SITES.values() for site in fam.values() for el, ox in site}
STATES.update({"Rb": 1, "Cs": 1, "Ag": 1, "Mg": 2, "Y": 3, "In": 3, "Ge": 4, "W": 6, "Mo": 6, "Se": -2,
               "N": -3})


@dataclass
class Sites:
    family: str  # "ABX3" (also A-deficient) or "antiperovskite"
    occ: dict  # site -> {element: fraction of the site}


@dataclass
class Counterfactual:
    formula: str
    substitutions: list
    estimates: dict  # objective -> (value, lower, upper, level)
    p_front: float
    gain: float = 0.0
    checks: dict = field(default_factory=dict)

    @property
    def n_subs(self) -> int:
        return len(self.substitutions)


def assign_sites(formula: str) -> Sites | None:
    """Split a composition over perovskite sites, or None when it is not one."""
    from pymatgen.core import Composition

    comp = Composition(formula)
    amt = {el.symbol: float(x) for el, x in comp.items()}
    if any(e not in STATES for e in amt):
        return None
    an = {e: x for e, x in amt.items() if STATES[e] < 0}
    cat = {e: x for e, x in amt.items() if STATES[e] > 0}
    if not an or not cat:
        return None
    n_an = sum(an.values())
    # ABX3: 3 anions per formula unit
    s = 3.0 / n_an
    cat3 = {e: x * s for e, x in cat.items()}
    b, a, need = {}, {}, 1.0
    for e in sorted(cat3, key=lambda e: (-STATES[e], shannon_radius(e, STATES[e], "VI"))):
        if e == "Li" or need <= 1e-9:
            a[e] = cat3[e]
            continue
        take = min(need, cat3[e])
        b[e] = take
        need -= take
        if cat3[e] - take > 1e-9:
            a[e] = cat3[e] - take
    if need < 1e-6 and sum(a.values()) <= 1 + 1e-6 and "Li" not in b:
        return Sites("ABX3", {"A": a, "B": b, "X": {e: x * s / 3 for e, x in an.items()}})
    # antiperovskite X3BA: Li (and Na) on X, the most charged anion on B
    if len(an) == 2 and set(cat) <= {"Li", "Na"}:
        bx, ax = sorted(an, key=lambda e: STATES[e])
        k = 1.0 / an[bx]
        if abs(an[ax] * k - 1) < 1e-6 and abs(sum(cat.values()) * k - 3) < 1e-6:
            return Sites("antiperovskite", {"X": {e: x * k / 3 for e, x in cat.items()}, "B": {bx: 1.0},
                                            "A": {ax: 1.0}})
    return None


def _mult(family):
    return FAMILIES["antiperovskite" if family == "antiperovskite" else "ABX3"]


def formula_of(sites: Sites) -> str:
    mult = _mult(sites.family)
    order = ["X", "B", "A"] if sites.family == "antiperovskite" else ["A", "B", "X"]
    parts = []
    for s in order:
        for el, x in sorted(sites.occ[s].items()):
            if x > 1e-9:
                n = round(x * mult[s], 4)
                parts.append(el if abs(n - 1) < 1e-9 else f"{el}{n:g}")
    return "".join(parts)


def check(sites: Sites, t_range=(0.8, 1.1), tau_max: float = 4.18) -> dict:
    """The space filters on one composition: {name: bool}, plus t and tau."""
    from smact import Element as SmactElement

    mult = _mult(sites.family)
    cn = ANTI_CN if sites.family == "antiperovskite" else CN
    charge = sum(mult[s] * x * STATES[e] for s, occ in sites.occ.items() for e, x in occ.items())
    rad = {}
    for s, occ in sites.occ.items():
        tot = sum(occ.values())
        rad[s] = sum(x * shannon_radius(e, STATES[e], cn[s]) for e, x in occ.items()) / tot if tot else np.nan
    t = float(goldschmidt_t(rad["A"], rad["B"], rad["X"]))
    en = {e: SmactElement(e).pauling_eneg for occ in sites.occ.values() for e in occ}
    cats = [en[e] for occ in sites.occ.values() for e in occ if STATES[e] > 0]
    ans = [en[e] for occ in sites.occ.values() for e in occ if STATES[e] < 0]
    out = {"neutral": abs(charge) < 1e-6, "electronegativity": max(cats) < min(ans),
           "tolerance": t_range[0] <= t <= t_range[1], "t": t}
    if sites.family != "antiperovskite":
        qa = sum(x * STATES[e] for e, x in sites.occ["A"].items()) / max(sum(sites.occ["A"].values()), 1e-9)
        tau = float(bartel_tau(rad["A"], rad["B"], rad["X"], abs(qa)))
        out.update(tau=tau, tau_ok=bool(tau < tau_max))
    out["smact"] = smact_valid(formula_of(sites))
    out["valid"] = out["neutral"] and out["electronegativity"] and out["tolerance"] and out["smact"]
    return out


def smact_valid(formula: str) -> bool:
    """SMACT's validity test on the formula scaled to integers (SMACT wants whole numbers)."""
    from pymatgen.core import Composition
    from smact.screening import smact_validity

    comp = Composition(formula)
    den = 1
    for x in comp.values():
        den = np.lcm(den, Fraction(float(x)).limit_denominator(96).denominator)
    ints = {el.symbol: int(round(float(x) * den)) for el, x in comp.items()}
    return bool(smact_validity(Composition(ints), use_pauling_test=True, include_alloys=True))


def neighbours(sites: Sites, site_lists: dict, step: float = 0.25, max_subs: int = 2):
    """(Sites, [substitution strings]) within `max_subs` substitutions (distinct compositions, nearest
    first)."""
    seen = {formula_of(sites)}
    frontier = [(sites, [])]
    for _ in range(max_subs):
        nxt = []
        for base, subs in frontier:
            for s, occ in base.occ.items():
                for a, xa in list(occ.items()):
                    amounts = sorted({round(k * step, 9) for k in range(1, int(xa / step + 1e-9) + 1)} | {xa})
                    for b, _ in site_lists.get(s, []):
                        if b == a:
                            continue
                        for d in amounts:
                            new = {k: dict(v) for k, v in base.occ.items()}
                            new[s][a] = xa - d
                            if new[s][a] < 1e-9:
                                del new[s][a]
                            new[s][b] = new[s].get(b, 0.0) + d
                            cand = Sites(base.family, new)
                            f = formula_of(cand)
                            if f in seen:
                                continue
                            seen.add(f)
                            item = (cand, subs + [f"{s}: {d:g} {a} -> {b}"])
                            nxt.append(item)
                            yield item
        frontier = nxt


def find_counterfactuals(formula: str, predict, objectives: list, maximize: list, own: dict, others: tuple,
                         site_lists: dict | None = None, step: float = 0.25, max_subs: int = 2,
                         threshold: float = 0.5, draws: int = 400, limit: int = 5, t_range=(0.8, 1.1),
                         max_neighbours: int = 20000) -> tuple[list, str]:
    """Counterfactuals of `formula` and a one-line summary.

    predict(formulas) -> {target: (value, lower, upper)} arrays (the composition model, 90% intervals);
    objectives: keys such as "ml:log10_sigma", "barrier"; own: {key: (value, lower, upper, level)} of the
    candidate (used for objectives the model does not predict); others: (value, lower, upper, level) (n, m)
    arrays of the other candidates."""
    sites = assign_sites(formula)
    if sites is None:
        return [], f"{formula} is not a perovskite composition the substitution space covers"
    lists = site_lists or DEFAULT_SITES[sites.family]
    pool, valid_info = [], {}
    for cand, subs in itertools.islice(neighbours(sites, lists, step, max_subs), max_neighbours):
        if "Li" not in {e for occ in cand.occ.values() for e in occ}:
            continue
        info = check(cand, t_range)
        if info["valid"]:
            f = formula_of(cand)
            pool.append((f, subs))
            valid_info[f] = info
    if not pool:
        return [], f"no valid neighbour within {max_subs} substitutions"
    pred = predict([f for f, _ in pool])
    lev = 0.9
    out = []
    for i, (f, subs) in enumerate(pool):
        est = {}
        for k in objectives:
            if k.startswith("ml:") and k[3:] in pred:
                v, lo, hi = (float(a[i]) for a in pred[k[3:]])
                est[k] = (v, lo, hi, lev)
            else:
                est[k] = own[k]
        out.append((f, subs, est))
    # rank the nearest first; compute P(joins front) only until `limit` successes at the smallest count
    mx = np.asarray(maximize, bool)
    base = np.array([own[k][0] for k in objectives], float)
    result, best_k = [], None
    for f, subs, est in sorted(out, key=lambda r: (len(r[1]), -_gain(r[2], objectives, mx, base))):
        if best_k is not None and len(subs) > best_k:
            break
        point = tuple(np.array([est[k][j] for k in objectives], float) for j in range(4))
        p = prob_joins_front(point, others, maximize, draws=draws)
        if p > threshold:
            best_k = len(subs)
            result.append(Counterfactual(f, subs, est, p, _gain(est, objectives, mx, base), valid_info[f]))
    result.sort(key=lambda c: (c.n_subs, -c.p_front, -c.gain))
    if not result:
        return [], f"no neighbour within {max_subs} substitutions is predicted to join the front " \
                   f"({len(pool)} valid neighbours scored)"
    return result[:limit], f"{len(pool)} valid neighbours scored; {len(result)} join the front with " \
                           f"P > {threshold} at {best_k} substitution(s)"


def _gain(est, objectives, mx, base) -> float:
    v = np.array([est[k][0] for k in objectives], float)
    d = np.where(mx, v - base, base - v)
    return float(np.nansum(d))


def model_predictor(model):
    """predict(formulas) for a composition PropertyModel, or None when it needs structure descriptors."""
    from perovscreen.features.composition import NAMES, featurize_compositions

    if any(f not in NAMES for f in model.features):
        return None
    cols = [NAMES.index(f) for f in model.features]

    def predict(formulas):
        return model.predict_arrays(featurize_compositions(list(formulas))[:, cols])

    return predict
