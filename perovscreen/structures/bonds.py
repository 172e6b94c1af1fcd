"""Bond-valence sums with Brese & O'Keeffe (1991) parameters, for checking structures."""
from __future__ import annotations

import numpy as np
from pymatgen.core import Structure

# R0 (A) for cation-anion pairs, b = 0.37 A. N. E. Brese, M. O'Keeffe, Acta Cryst. B47, 192 (1991);
# I. D. Brown, D. Altermatt, Acta Cryst. B41, 244 (1985).
R0 = {
    ("Li", "O"): 1.466, ("Li", "Cl"): 1.91, ("Li", "F"): 1.360, ("Li", "Br"): 2.02, ("Li", "S"): 1.94,
    ("Na", "O"): 1.803, ("K", "O"): 2.132, ("Mg", "O"): 1.693, ("Ca", "O"): 1.967, ("Sr", "O"): 2.118,
    ("Ba", "O"): 2.285, ("La", "O"): 2.172, ("Y", "O"): 2.019, ("Ti", "O"): 1.815, ("Zr", "O"): 1.937,
    ("Hf", "O"): 1.923, ("Nb", "O"): 1.911, ("Ta", "O"): 1.920, ("Al", "O"): 1.651, ("Ga", "O"): 1.730,
    ("Fe", "O"): 1.734, ("P", "O"): 1.604, ("W", "O"): 1.917, ("Sc", "O"): 1.849,
}
B = 0.37


def bond_valence_sums(structure: Structure, cutoff: float = 3.5) -> np.ndarray:
    """Bond-valence sum of every site (occupancy-weighted over neighbours; per unit occupancy).

    Cation sums are positive, anion sums negative, so they compare directly with formal charges.
    Pairs without parameters raise KeyError naming the pair.
    """
    sums = np.zeros(len(structure))
    for i, nbrs in enumerate(structure.get_all_neighbors(cutoff)):
        site = structure[i]
        for sp, occ in site.species.items():
            q = getattr(sp, "oxi_state", 0) or 0
            total = 0.0
            for nb in nbrs:
                for sp2, occ2 in nb.species.items():
                    q2 = getattr(sp2, "oxi_state", 0) or 0
                    if q * q2 >= 0:
                        continue
                    cat, an = (sp.symbol, sp2.symbol) if q > 0 else (sp2.symbol, sp.symbol)
                    if (cat, an) not in R0:
                        raise KeyError(f"no bond-valence parameters for {cat}-{an}")
                    total += occ2 * np.exp((R0[cat, an] - nb.nn_distance) / B)
            sums[i] += np.sign(q) * total * occ / site.species.num_atoms
    return sums
