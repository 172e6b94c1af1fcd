"""Structure -> framework interaction terms (mobile ion removed, each species weighted by occupancy)."""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from pymatgen.core import Element, Species, Structure

from perovscreen.core.errors import InputError
from perovscreen.bvse.params import SoftBVTable, ion_key

MORSE, COULOMB = 0, 1
COULOMB_EV_A = 14.4  # e^2/(4 pi eps0) in eV*A, rounded as in the softBV formula


@dataclass
class Framework:
    """Per-term arrays consumed by the energy kernel (one term per species per framework site)."""
    frac: np.ndarray      # (T, 3) fractional coordinates wrapped into [0, 1)
    kind: np.ndarray      # (T,) MORSE or COULOMB
    p: np.ndarray         # (T, 3) morse: (weight*D0*c, alpha, Rmin); coulomb: (weight*14.4 qq/sqrt(nn), rho, 0)
    weight: np.ndarray    # (T,) occupancy
    charge: np.ndarray    # (T,) formal charge
    symbol: list
    ion: str              # e.g. 'Li+1'
    ion_charge: float
    ion_radius: float
    ion_n: int
    warnings: list = field(default_factory=list)


def _species_charge(sp) -> float | None:
    q = getattr(sp, "oxi_state", None)
    return None if q is None else float(q)


def has_oxidation_states(structure: Structure) -> bool:
    return all(_species_charge(sp) is not None for site in structure for sp in site.species)


def decorate(structure: Structure, ion: str | None = None) -> tuple[Structure, str]:
    """Structure with oxidation states: as given, else the intake's assignment (BVAnalyzer, composition
    guess), else a mobile-ion-tolerant charge balance over common states (balance_guess)."""
    if has_oxidation_states(structure):
        return structure, "input"
    from perovscreen.structures.intake import assign_oxidation_states
    try:
        s, source, _ = assign_oxidation_states(structure)
        if has_oxidation_states(s):
            return s, source
    except InputError:
        pass
    s = structure.copy()
    s.remove_oxidation_states()
    s.add_oxidation_state_by_element(balance_guess(s.composition, ion))
    return s, "common_states_balance"


@lru_cache(maxsize=1)
def _icsd_occurrence() -> dict:
    """ICSD occurrence counts of species (shipped with pymatgen, used by its oxi_state_guesses)."""
    import pymatgen.core
    from monty.serialization import loadfn
    return loadfn(Path(pymatgen.core.__file__).parent / "icsd_bv.yaml")["occurrence"]


def balance_guess(comp, ion: str | None = None) -> dict:
    """Per-element common oxidation states for a (fractional) composition.

    Preference order: no element more electronegative than an anion left positive; net charge within
    tolerance (5% of the atoms plus half the mobile-ion content, whose CIF occupancy is least reliable);
    most frequent species in the ICSD (sum of log occurrences); smallest net charge."""
    occurrence = _icsd_occurrence()
    els = list(comp.element_composition)
    amounts = comp.element_composition
    tol = 0.05 * comp.num_atoms + (0.5 * amounts[ion] if ion and ion in amounts else 0.0)
    for attr in ("common_oxidation_states", "oxidation_states"):  # all known states if common ones fail
        options = []
        for el in els:
            states = list(getattr(el, attr)) or list(el.oxidation_states) or [0]
            options.append([(q, -math.log(1 + occurrence.get(str(Species(el.symbol, q)), 0))) for q in states])
        best, best_key = _best_combo(els, amounts, options, tol)
        if not best_key[1]:
            return {el.symbol: q for el, (q, _) in zip(els, best)}
    raise InputError(f"cannot assign oxidation states to {comp.reduced_formula}")


def _best_combo(els, amounts, options, tol):
    best, best_key = None, None
    for combo in itertools.product(*options):
        charge = abs(sum(amounts[el] * q for el, (q, _) in zip(els, combo)))
        inversions = sum(1 for a, (qa, _) in zip(els, combo) for b, (qb, _) in zip(els, combo)
                         if qa > 0 > qb and a.X > b.X)
        key = (inversions, charge > tol, round(sum(c for _, c in combo), 6), round(charge, 6))
        if best_key is None or key < best_key:
            best, best_key = combo, key
    return best, best_key


def mobile_charge(structure: Structure, ion: str, table: SoftBVTable) -> float:
    """Formal charge of the mobile ion: from its decorated species, else the single softBV entry."""
    charges = {_species_charge(sp) for site in structure for sp in site.species
               if sp.symbol == ion and _species_charge(sp) is not None}
    if len(charges) == 1:
        return charges.pop()
    available = table.mobile_charges(ion)
    if len(available) != 1:
        raise InputError(f"ambiguous or unknown charge for mobile ion {ion} (softBV has {available})")
    return float(available[0])


def _radius_function(table: SoftBVTable, covalent_radii: str):
    if covalent_radii == "softbv":
        return table.radius
    if covalent_radii == "ase":  # bvlain's default: ASE (Cordero et al. 2008) covalent radii of the element
        from ase.data import covalent_radii as ase_radii
        return lambda symbol, charge: float(ase_radii[Element(symbol).Z])
    raise InputError(f"covalent_radii must be 'softbv' or 'ase', got {covalent_radii!r}")


def build_framework(structure: Structure, ion: str, table: SoftBVTable, screening: float = 0.74,
                    d0_convention: str = "half", covalent_radii: str = "softbv") -> Framework:
    """softBV terms of every framework species; the species of element `ion` is removed from every site
    (it is mobile), species sharing a site with it stay in the framework with their occupancy."""
    if d0_convention not in ("half", "full"):
        raise InputError(f"d0_convention must be 'half' or 'full', got {d0_convention!r}")
    radius = _radius_function(table, covalent_radii)
    try:
        Element(ion)
    except ValueError:
        raise InputError(f"unknown mobile ion element {ion!r}") from None
    if not any(sp.symbol == ion for site in structure for sp in site.species):
        raise InputError(f"structure {structure.composition.reduced_formula} contains no {ion}")
    q_m = mobile_charge(structure, ion, table)
    mkey = ion_key(ion, q_m)
    if mkey not in table.pairs:
        raise InputError(f"no softBV parameters for mobile ion {mkey}")
    r_m, n_m = radius(ion, q_m), table.n(ion)
    d0_factor = 0.5 if d0_convention == "half" else 1.0
    frac, kind, p, weight, charge, symbols, notes = [], [], [], [], [], [], []
    for site in structure:
        fc = np.mod(site.frac_coords, 1.0)
        for sp, occ in site.species.items():
            if sp.symbol == ion or occ <= 0:
                continue
            q = _species_charge(sp)
            if q is None:
                raise InputError(f"species {sp} has no oxidation state")
            if q * q_m < 0:
                pp = table.pair(mkey, ion_key(sp.symbol, q))
                kind.append(MORSE)
                p.append((occ * d0_factor * pp.d0, 1.0 / pp.b, pp.rmin))
            elif q * q_m > 0:
                r_i, n_i = radius(sp.symbol, q), table.n(sp.symbol)
                kind.append(COULOMB)
                p.append((occ * COULOMB_EV_A * q_m * q / math.sqrt(n_m * n_i), screening * (r_m + r_i), 0.0))
            else:
                notes.append(f"neutral species {sp} ignored")
                continue
            frac.append(fc)
            weight.append(occ)
            charge.append(q)
            symbols.append(sp.symbol)
    if not kind:
        raise InputError(f"structure {structure.composition.reduced_formula} has no framework besides {ion}")
    if MORSE not in kind:
        raise InputError(f"structure {structure.composition.reduced_formula} has no counter-ion for {mkey}")
    return Framework(np.asarray(frac, float).reshape(-1, 3) % 1.0, np.asarray(kind, np.int64),
                     np.asarray(p, float), np.asarray(weight, float), np.asarray(charge, float), symbols,
                     mkey, q_m, r_m, n_m, sorted(set(notes)))
