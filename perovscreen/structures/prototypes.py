"""Cubic prototype cells for enumerated perovskite compositions.

ABX3 (and A-deficient / double, as an averaged cubic cell): A at 1a (0,0,0), B at 1b (1/2,1/2,1/2),
X at 3c; antiperovskite X3BA: B at 1a, A at 1b, X at 3d (Li3OCl: O at 1a, Cl at 1b, Li at 3d).
Mixed sites carry partial occupancies; `ordered_supercell` turns them into an ordered cell. The
lattice parameter is estimated from Shannon radii, a = max(2 (rB + rX), sqrt(2) (rA + rX)): a
starting point for relaxation with a universal potential, not a prediction.
"""
from __future__ import annotations

import math

from pymatgen.core import Lattice, Species, Structure

from perovscreen.structures.space import CN, shannon_radius


def _mean_radius(occ: dict, states: dict, cn: str) -> float:
    total = sum(occ.values())
    return sum(x * shannon_radius(el, states[el], cn) for el, x in occ.items()) / total


def prototype(occupancies: dict, oxidation_states: dict, family: str = "ABX3") -> Structure:
    """Cubic perovskite or antiperovskite cell with the given site occupancies {site: {element: x}}."""
    rA = _mean_radius(occupancies["A"], oxidation_states, CN["A"])
    rB = _mean_radius(occupancies["B"], oxidation_states, CN["B"])
    rX = _mean_radius(occupancies["X"], oxidation_states, CN["X"])
    a = max(2 * (rB + rX), math.sqrt(2) * (rA + rX))

    def species(site):
        return {Species(el, oxidation_states[el]): x for el, x in occupancies[site].items()}

    if family == "antiperovskite":
        coords = {"B": [(0, 0, 0)], "A": [(0.5, 0.5, 0.5)], "X": [(0.5, 0, 0), (0, 0.5, 0), (0, 0, 0.5)]}
    else:
        coords = {"A": [(0, 0, 0)], "B": [(0.5, 0.5, 0.5)], "X": [(0.5, 0.5, 0), (0.5, 0, 0.5), (0, 0.5, 0.5)]}
    sp, xyz = [], []
    for site, pts in coords.items():
        for p in pts:
            sp.append(species(site))
            xyz.append(p)
    return Structure(Lattice.cubic(a), sp, xyz)
