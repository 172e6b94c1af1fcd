"""MD cell: supercell with every perpendicular width >= min_length, ordered, optional Li vacancies."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pymatgen.core import Structure

from perovscreen.core.errors import InputError
from perovscreen.core.results import Result
from perovscreen.md.settings import DEFAULTS
from perovscreen.structures.ordering import ordered_supercell, scaling_for


@dataclass
class CellReport(Result):
    """How the MD cell was built from the input structure (stated in every result)."""

    TYPE = "CellReport"

    formula_input: str
    formula_md: str
    supercell: list  # diagonal scaling
    n_atoms: int
    lattice_abc: list  # A
    ordering: dict | None = None
    vacancies: dict = field(default_factory=dict)


def build_md_cell(structure: Structure, min_length: float = DEFAULTS.min_length, mobile: str = "Li",
                  vacancies: int = DEFAULTS.vacancies, compensation: str = DEFAULTS.compensation,
                  anion: str | None = None, seed: int = DEFAULTS.seed) -> tuple:
    """Return (ordered supercell, CellReport). Disordered inputs go through the seeded ordered-supercell
    builder of perovscreen.structures.ordering."""
    if not any(sp.symbol == mobile for sp in structure.composition.elements):
        raise InputError(f"{structure.composition.reduced_formula} contains no {mobile}")
    scale = scaling_for(structure, min_length)
    ordering = None
    if structure.is_ordered:
        cell = structure * scale
    else:
        cell, rep = ordered_supercell(structure, min_length=min_length, seed=seed, scaling=scale)
        ordering = rep.to_dict()
    vac = create_vacancies(cell, vacancies, mobile, compensation, anion, seed) if vacancies else {}
    report = CellReport(structure.composition.reduced_formula, cell.composition.formula.replace(" ", ""),
                        [int(v) for v in scale], len(cell), [round(float(v), 4) for v in cell.lattice.abc], ordering,
                        vac)
    return cell, report


def _oxidation(structure: Structure) -> dict:
    ox = {}
    for site in structure:
        sp = site.specie
        if getattr(sp, "oxi_state", None) is None:
            break
        ox[sp.symbol] = sp.oxi_state
    else:
        return ox
    guess = structure.composition.oxi_state_guesses(max_sites=-50)
    if not guess:
        raise InputError(f"cannot assign oxidation states to {structure.composition.reduced_formula}")
    return dict(guess[0])


def create_vacancies(cell: Structure, n: int, mobile: str = "Li", compensation: str = DEFAULTS.compensation,
                     anion: str | None = None, seed: int = DEFAULTS.seed) -> dict:
    """Remove n mobile ions in place (seeded random sites). compensation="schottky" also removes the
    anions that keep the cell neutral (e.g. one Cl per Li: a LiCl Schottky pair, the dominant defect in
    Li3OCl; Emly et al., Chem. Mater. 25, 4663 (2013)); "none" leaves a formally charged cell (a
    universal potential sees it as hole-doped) and says so."""
    if n < 0:
        raise InputError(f"vacancies must be >= 0, got {n}")
    rng = np.random.default_rng(seed)
    li = [i for i, s in enumerate(cell) if s.specie.symbol == mobile]
    if n >= len(li):
        raise InputError(f"cannot remove {n} {mobile} from a cell with {len(li)}")
    ox = _oxidation(cell)
    q = ox.get(mobile, 1)
    out = {"removed": {mobile: n}, "compensation": compensation}
    remove = list(rng.choice(li, n, replace=False))
    if compensation == "schottky":
        anions = {el: z for el, z in ox.items() if z < 0}
        if anion is None:
            if not anions:
                raise InputError("no anion to remove for Schottky compensation")
            anion = min(anions, key=lambda el: (abs(abs(anions[el]) - q), -anions[el]))
        if anion not in anions:
            raise InputError(f"{anion} is not an anion of {cell.composition.reduced_formula}")
        k = n * q / abs(anions[anion])
        if abs(k - round(k)) > 1e-9:
            raise InputError(f"{n} {mobile} vacancies cannot be compensated by whole {anion} vacancies")
        sites = [i for i, s in enumerate(cell) if s.specie.symbol == anion]
        remove += list(rng.choice(sites, int(round(k)), replace=False))
        out["removed"][anion] = int(round(k))
    elif compensation == "none":
        out["net_charge"] = -n * q
    else:
        raise InputError(f"compensation must be 'schottky' or 'none', got {compensation!r}")
    cell.remove_sites(sorted(int(i) for i in remove))
    return out
