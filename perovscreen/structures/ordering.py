"""Seeded ordered supercells of disordered structures (for MD and universal potentials).

Sites with the same species-and-occupancy dictionary form a sublattice. On each sublattice of the
supercell the number of atoms of every species is its occupancy times the number of sites, rounded
by the largest-remainder method (so totals are as close as the cell allows); species are then placed
on randomly permuted sites with a seeded generator, vacancies removed. Random placement is the
ideal-solution model: it is reproducible and fast, but carries no short-range order.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from pymatgen.core import Composition, Structure


@dataclass
class OrderingReport:
    scaling: list[int]
    n_sites: int
    seed: int
    target_composition: dict
    achieved_composition: dict
    max_abs_deviation: float  # largest |achieved - target| in atoms per supercell
    max_rel_deviation: float  # relative to the target amount of that element
    net_charge: float

    def to_dict(self) -> dict:
        return asdict(self)


def scaling_for(structure: Structure, min_length: float) -> list[int]:
    """Diagonal multipliers so that every perpendicular cell width is >= min_length."""
    lat = structure.lattice
    widths = lat.volume / np.linalg.norm(np.cross(lat.matrix[[1, 2, 0]], lat.matrix[[2, 0, 1]]), axis=1)
    return [max(1, math.ceil(min_length / w - 1e-9)) for w in widths]


def _largest_remainder(fractions: dict, n: int) -> dict:
    """Integer counts per key summing to round(sum(fractions) * n), closest to fractions * n."""
    exact = {k: v * n for k, v in fractions.items()}
    counts = {k: int(math.floor(x + 1e-9)) for k, x in exact.items()}
    total = int(round(sum(exact.values())))
    for k in sorted(exact, key=lambda k: exact[k] - counts[k], reverse=True)[: max(0, total - sum(counts.values()))]:
        counts[k] += 1
    return counts


def ordered_supercell(structure: Structure, min_length: float = 10.0, seed: int = 0,
                      scaling: list[int] | None = None) -> tuple[Structure, OrderingReport]:
    """An ordered supercell with every perpendicular width >= min_length, reproducible for a seed."""
    rng = np.random.default_rng(seed)
    scaling = list(scaling or scaling_for(structure, min_length))
    sc = structure * scaling
    groups: dict[tuple, list[int]] = {}
    for i, site in enumerate(sc):
        key = tuple(sorted((str(sp), round(x, 6)) for sp, x in site.species.items()))
        groups.setdefault(key, []).append(i)
    species_of = {}
    for i, site in enumerate(sc):
        for sp in site.species:
            species_of[str(sp)] = sp
    new_species, new_coords = [], []
    for key, idx in groups.items():
        counts = _largest_remainder(dict(key), len(idx))
        order = rng.permutation(idx)
        pos = 0
        for name, c in counts.items():
            for i in order[pos:pos + c]:
                new_species.append(species_of[name])
                new_coords.append(sc[i].frac_coords)
            pos += c
    out = Structure(sc.lattice, new_species, new_coords)
    out = out.get_sorted_structure()
    target = (structure.composition * int(np.prod(scaling))).get_el_amt_dict()
    achieved = out.composition.get_el_amt_dict()
    dev = {el: achieved.get(el, 0.0) - amt for el, amt in target.items()}
    charge = sum(getattr(sp, "oxi_state", 0) or 0 for sp in out.species)
    report = OrderingReport(
        scaling=scaling, n_sites=len(out), seed=seed,
        target_composition={k: round(v, 6) for k, v in target.items()},
        achieved_composition=achieved,
        max_abs_deviation=float(max(abs(v) for v in dev.values())),
        max_rel_deviation=float(max(abs(v) / target[k] for k, v in dev.items() if target[k] > 0)),
        net_charge=float(charge),
    )
    return out, report


def composition_distance(a: Composition, b: Composition) -> float:
    """Largest difference in atomic fraction between two compositions."""
    fa, fb = a.fractional_composition, b.fractional_composition
    return max(abs(fa[el] - fb[el]) for el in set(fa.elements) | set(fb.elements))
