"""Interface reaction energies against Li metal and a cathode, and the electrochemical window, from one potential.

Every energy comes from the same potential: the candidate, the shipped competing phases (stability.py's
cached `reference_entries`) and the cathode's system (CATHODE_REFERENCES, relaxed and cached the same way).
- Reaction energy: pymatgen `InterfacialReactivity` on that phase diagram, with the candidate's own energy
  (not its hull energy, so a metastable candidate's decomposition energy counts); the most negative
  energy along the mixing line x candidate + (1 - x) counterpart (eV/atom of the mixture), its x and its
  products. 0 means the pair is stable in contact.
- Electrochemical window (Zhu, He, Mo, ACS Appl. Mater. Interfaces 7, 23685 (2015)): the range of the Li
  chemical potential over which the phase is on the convex hull, i.e. over the facets of the hull that
  contain it, as voltages vs Li/Li+: V = -(mu_Li - mu_Li(Li metal, same potential)) / e. The reduction
  limit is the low voltage, the oxidation limit the high one. A phase above the hull has no window of its
  own: we report it as unstable and give the window of its decomposition products (the Li range where
  all of them coexist, the intersection of their windows), flagged `window_of = "decomposition"`.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field

import numpy as np
from pymatgen.analysis.phase_diagram import PhaseDiagram
from pymatgen.core import Composition, Element, Structure
from pymatgen.entries.computed_entries import ComputedStructureEntry

from perovscreen.core.errors import InputError
from perovscreen.core.results import Result
from perovscreen.potentials.references import WYCKOFF63, KITTEL, Reference, build_reference
from perovscreen.potentials.stability import candidate_entry, reference_entries, relaxed_entries, require_elements
from perovscreen.potentials.tasks import plain_ordered

# The cathode and the Co phases it reacts to, beside the shipped references (stability.py's cache); a phase
# enters a candidate's hull only when its elements are the candidate's, Li's and the cathode's.
CATHODE_REFERENCES = [
    Reference("LiCoO2", "R-3m", (2.8156, 2.8156, 14.0542, 90, 90, 120), ("Li", "Co", "O"),
              ((0, 0, 0.5), (0, 0, 0), (0, 0, 0.2396)),
              "H. J. Orman, P. J. Wiseman, Acta Cryst. C40, 12 (1984)"),
    Reference("Co-hcp", "P6_3/mmc", (2.507, 2.507, 4.070, 90, 90, 120), ("Co",), ((1 / 3, 2 / 3, 0.25),), KITTEL),
    Reference("CoO-rocksalt", "Fm-3m", (4.260,) * 3 + (90,) * 3, ("Co", "O"), ((0, 0, 0), (0.5, 0.5, 0.5)),
              WYCKOFF63),
    Reference("Co3O4-spinel", "Fd-3m", (8.084,) * 3 + (90,) * 3, ("Co", "Co", "O"),
              ((0, 0, 0), (0.625, 0.625, 0.625), (0.3882, 0.3882, 0.3882)),
              "normal spinel, a = 8.084 A, u(O 32e) = 0.2632 (origin choice 2); W. L. Smith, A. D. Hobson, "
              "Acta Cryst. B29, 362 (1973)"),
    # a chloride candidate against the cathode could form a cobalt chloride: without it the hull cannot say
    Reference("CoCl2", "R-3m", (3.544, 3.544, 17.43, 90, 90, 120), ("Co", "Cl"), ((0, 0, 0), (0, 0, 0.25)),
              "CdCl2 type, Cl at the ideal u = 1/4 (relaxed with the potential); " + WYCKOFF63),
]
CATHODES = {"LiCoO2": CATHODE_REFERENCES}
HULL_TOL = 1e-3  # eV/atom: on the hull within this


@dataclass
class InterfaceResult(Result):
    """Formation energy, reaction energies vs Li and a cathode (eV/atom) and the window (V vs Li/Li+)."""
    TYPE = "InterfaceResult"

    formula: str
    formation_energy_per_atom: float  # eV/atom vs the elemental references of the same potential
    e_above_hull: float  # eV/atom
    reactions: list  # one dict per counterpart: against, reaction_energy, mixing_ratio, reaction, products
    window: list | None  # [reduction limit, oxidation limit] in V vs Li/Li+; None: no Li range (or no Li)
    window_of: str  # "phase", "decomposition" (the candidate is above the hull) or "none"
    backend: str
    n_entries: int
    stand_ins: list = field(default_factory=list)
    notes: list = field(default_factory=list)


def extra_entries(refs, calculator="chgnet", fmax: float = 0.05, steps: int = 300,
                  cache: str | os.PathLike | None = None, **kw) -> list[ComputedStructureEntry]:
    """References outside the shipped set (e.g. the cathode's), relaxed and cached like `reference_entries`."""
    return relaxed_entries([(r.name, build_reference(r), r.citation) for r in refs], calculator, fmax, steps,
                           cache, **kw)


def li_window(pd: PhaseDiagram, composition: Composition, li: str = "Li") -> tuple[float, float] | None:
    """(reduction, oxidation) limits in V vs Li/Li+ of a phase ON the hull of ``pd``, from the Li chemical
    potentials of the hull facets that contain it; None if it lies on no facet. A Li-free phase stays
    stable however low mu_Li goes: its oxidation limit is inf."""
    el = Element(li)
    mu0 = pd.el_refs[el].energy_per_atom
    mus = [c[el] for c in pd.get_all_chempots(composition).values()]
    if not mus:
        return None
    high = float(-(min(mus) - mu0)) if composition[el] > 0 else float("inf")
    return float(-(max(mus) - mu0)) + 0.0, high


def window_of(pd: PhaseDiagram, entry, li: str = "Li") -> tuple[list | None, str]:
    """The window of ``entry`` (on the hull), else that of its decomposition products (intersection)."""
    if pd.get_e_above_hull(entry, allow_negative=True) <= HULL_TOL:
        w = li_window(pd, entry.composition, li)
        return (list(w) if w else None), "phase"
    lo, hi = -np.inf, np.inf
    for product in pd.get_decomposition(entry.composition):
        w = li_window(pd, product.composition, li)
        if w is None:
            return None, "decomposition"
        lo, hi = max(lo, w[0]), min(hi, w[1])
    return ([float(lo), float(hi)] if lo <= hi else None), "decomposition"


def reaction(pd: PhaseDiagram, c1: Composition, c2: Composition, against: str) -> dict:
    """The most negative reaction energy (eV/atom) of x c1 + (1-x) c2, its x (fraction of c1 atoms), the
    balanced reaction there and its products."""
    from pymatgen.analysis.interface_reactions import InterfacialReactivity

    # pymatgen leaves out entries with a formation energy >= 0 and then uses the hull energy of that
    # composition (with a warning): we say so in the result instead
    with warnings.catch_warnings(record=True) as caught:
        warnings.filterwarnings("always", message="The reactant")
        ir = InterfacialReactivity(c1, c2, pd, norm=True, use_hull_energy=False)
        kinks = ir.get_kinks()
    out = {"against": against, "hull_energy_used": any("The reactant" in str(w.message) for w in caught)}
    _, x, e, rxn, _ = min(kinks, key=lambda k: k[2])
    if e > -1e-9:  # every kink at zero: the pair is stable in contact
        return {**out, "reaction_energy": 0.0, "mixing_ratio": None, "reaction": "none", "products": []}
    return {**out, "reaction_energy": round(float(e), 6), "mixing_ratio": round(float(x), 6),
            "reaction": str(rxn), "products": sorted({p.reduced_formula for p in rxn.products})}


def cathode_phases(cathode: str, system: set) -> list:
    """The cathode's extra reference phases whose elements all lie in ``system`` (CoCl2 only for chlorides)."""
    return [r for r in CATHODES.get(cathode, []) if set(r.species) <= set(system)]


def interface_screen(structure: Structure, calculator="chgnet", cathode: str = "LiCoO2", relax_candidate: bool = True,
                     fmax: float = 0.05, steps: int = 300, cache: str | os.PathLike | None = None,
                     li: str = "Li", **kw) -> InterfaceResult:
    """Formation energy, reaction energies vs Li metal and ``cathode`` ("" for none) and the Li window of
    ``structure``, every energy from ``calculator``."""
    from perovscreen.potentials.calculators import backend_name, get_calculator

    s = plain_ordered(structure)
    kw = {k: v for k, v in kw.items() if v is not None}  # the stage's unset model options: the same cache as a call
    if cathode and cathode not in CATHODES:
        raise InputError(f"unknown cathode {cathode!r}; choose one of {', '.join(CATHODES)} or ''")
    elements = {e.symbol for e in s.composition.elements}
    if li not in elements:
        raise InputError(f"{s.composition.reduced_formula}: no {li}; the window vs {li}/{li}+ needs a "
                         f"{li}-containing phase")
    system = elements | {li} | ({e.symbol for e in Composition(cathode).elements} if cathode else set())
    extra = cathode_phases(cathode, system)
    entries = reference_entries(system, calculator, fmax, steps, cache, **kw)
    entries += extra_entries(extra, calculator, fmax, steps, cache, **kw)
    require_elements(system, entries)
    calc = get_calculator(calculator, **kw)
    cand = candidate_entry(s, calc, relax_candidate, fmax, steps)
    pd = PhaseDiagram(entries + [cand])
    comp = s.composition.reduced_composition
    reactions = [reaction(pd, comp, Composition(li), li)]
    if cathode:
        reactions.append(reaction(pd, comp, Composition(cathode), cathode))
    window, of = window_of(pd, cand, li)
    notes = []
    if of == "decomposition":
        notes.append("above the hull: window of the decomposition products")
    stand_ins = sorted({e.entry_id for e in entries if "[stand-in]" in e.data.get("citation", "")})
    return InterfaceResult(comp.reduced_formula, float(pd.get_form_energy_per_atom(cand)),
                           float(max(0.0, pd.get_e_above_hull(cand, allow_negative=True))), reactions, window,
                           of if window is not None else "none", backend_name(calc), len(entries), stand_ins, notes)


__all__ = ["CATHODES", "CATHODE_REFERENCES", "InterfaceResult", "cathode_phases", "extra_entries", "interface_screen",
           "li_window", "reaction", "window_of"]
