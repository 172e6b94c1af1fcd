"""Built-in example structures, built from published lattice parameters and Wyckoff positions.

Every entry cites its source. Structures carry formal oxidation states. Positions are the
published ones (or, for the LLTO models, an idealised cubic-perovskite geometry with the
published lattice parameter and Li placed on the A-site bottleneck as found by neutron
diffraction); see each citation.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pymatgen.core import Lattice, Structure


@dataclass(frozen=True)
class Example:
    name: str
    description: str
    citation: str
    spacegroup: str | int
    lattice: tuple  # (a, b, c, alpha, beta, gamma)
    species: tuple  # per Wyckoff site: element symbol or {symbol: occupancy}
    coords: tuple
    oxidation_states: dict


_EXAMPLES = [
    Example(
        "Li3OCl", "cubic antiperovskite Li3OCl (Pm-3m), Li on 3d, O on 1a, Cl on 1b",
        "Y. Zhao, L. L. Daemen, J. Am. Chem. Soc. 134, 15042 (2012), a = 3.9090 A",
        "Pm-3m", (3.9090, 3.9090, 3.9090, 90, 90, 90),
        ("Li", "O", "Cl"), ((0.5, 0, 0), (0, 0, 0), (0.5, 0.5, 0.5)),
        {"Li": 1, "O": -2, "Cl": -1},
    ),
    Example(
        "LiNbO3", "ferroelectric lithium niobate (R3c, hexagonal setting)",
        "S. C. Abrahams, J. M. Reddy, J. L. Bernstein, J. Phys. Chem. Solids 27, 997 (1966); "
        "a = 5.14829, c = 13.8631 A",
        "R3c", (5.14829, 5.14829, 13.8631, 90, 90, 120),
        ("Li", "Nb", "O"), ((0, 0, 0.2829), (0, 0, 0), (0.0492, 0.3446, 0.0647)),
        {"Li": 1, "Nb": 5, "O": -2},
    ),
    Example(
        "LiTaO3", "ferroelectric lithium tantalate (R3c, hexagonal setting)",
        "S. C. Abrahams, J. L. Bernstein, J. Phys. Chem. Solids 28, 1685 (1967); a = 5.1543, c = 13.7835 A",
        "R3c", (5.1543, 5.1543, 13.7835, 90, 90, 120),
        ("Li", "Ta", "O"), ((0, 0, 0.2790), (0, 0, 0), (0.0534, 0.3407, 0.0697)),
        {"Li": 1, "Ta": 5, "O": -2},
    ),
    Example(
        "LLTO_ordered",
        "Li0.5La0.5TiO3 layered approximant (Pmmm, a x a x 2a): La-full and Li-rich A-site layers "
        "alternate along c; Li on one O4 window of the Li layer",
        "Idealised from Y. Inaguma et al., Solid State Commun. 86, 689 (1993) (a = 3.87 A) and the A-site "
        "layer ordering and Li bottleneck sites of M. Yashima et al., J. Am. Chem. Soc. 127, 3491 (2005)",
        "Pmmm", (3.87, 3.87, 7.74, 90, 90, 90),
        ("La", "Li", "Ti", "O", "O", "O", "O"),
        ((0, 0, 0), (0.5, 0, 0.5), (0.5, 0.5, 0.25), (0.5, 0.5, 0), (0.5, 0.5, 0.5), (0.5, 0, 0.25),
         (0, 0.5, 0.25)),
        {"La": 3, "Li": 1, "Ti": 4, "O": -2},
    ),
    Example(
        "LLTO_disordered",
        "cubic Li0.3La0.567TiO3 (x = 0.1, Pm-3m) with La and vacancies disordered on the A site (1a) and "
        "Li disordered over the A-site bottlenecks (3d)",
        "Y. Inaguma et al., Solid State Commun. 86, 689 (1993) (cubic, a = 3.8710 A); Li on the bottleneck "
        "positions after M. Yashima et al., J. Am. Chem. Soc. 127, 3491 (2005)",
        "Pm-3m", (3.8710, 3.8710, 3.8710, 90, 90, 90),
        ({"La": 17 / 30}, {"Li": 0.1}, "Ti", "O"),
        ((0, 0, 0), (0.5, 0, 0), (0.5, 0.5, 0.5), (0.5, 0.5, 0)),
        {"La": 3, "Li": 1, "Ti": 4, "O": -2},
    ),
    Example(
        "SrTiO3", "cubic strontium titanate (Pm-3m), Li-free control",
        "Y. A. Abramov et al., Acta Cryst. B51, 942 (1995); a = 3.905 A",
        "Pm-3m", (3.905, 3.905, 3.905, 90, 90, 90),
        ("Sr", "Ti", "O"), ((0, 0, 0), (0.5, 0.5, 0.5), (0.5, 0.5, 0)),
        {"Sr": 2, "Ti": 4, "O": -2},
    ),
    Example(
        "LiFePO4", "olivine triphylite LiFePO4 (Pnma), 1D Li channels along b",
        "A. Streltsov et al., Acta Cryst. B49, 147 (1993); a = 10.332, b = 6.010, c = 4.692 A",
        "Pnma", (10.332, 6.010, 4.692, 90, 90, 90),
        ("Li", "Fe", "P", "O", "O", "O"),
        ((0, 0, 0), (0.28222, 0.25, 0.97472), (0.09486, 0.25, 0.41820), (0.09678, 0.25, 0.74279),
         (0.45710, 0.25, 0.20602), (0.16558, 0.04646, 0.28478)),
        {"Li": 1, "Fe": 2, "P": 5, "O": -2},
    ),
]
EXAMPLES = {e.name: e for e in _EXAMPLES}


def li_rich_li3ocl() -> Structure:
    """Li3+xO1+xCl1-x, x = 1/8: the 2x2x2 supercell of the Li3OCl example (Li24O8Cl8) with one extra Li as a
    <011> split dumbbell on the Li site at (1/4, 0, 0) (two Li at +-1.0 A along [011]), charge-compensated by
    O on the Cl site at (3/4, 3/4, 3/4), the farthest from it. Li25O9Cl7, neutral."""
    s = get_example("Li3OCl") * (2, 2, 2)
    s.remove_oxidation_states()
    i = next(k for k, x in enumerate(s) if x.specie.symbol == "Li" and _at(x.frac_coords, (0.25, 0, 0)))
    j = next(k for k, x in enumerate(s) if x.specie.symbol == "Cl" and _at(x.frac_coords, (0.75, 0.75, 0.75)))
    shift = [0.0, 1.0 / 2 ** 0.5, 1.0 / 2 ** 0.5]  # 1.0 A along [011]
    centre = s[i].coords
    s.replace(i, "Li", coords=centre + shift, coords_are_cartesian=True)
    s.append("Li", centre - shift, coords_are_cartesian=True)
    s.replace(j, "O")
    s.add_oxidation_state_by_element({"Li": 1, "O": -2, "Cl": -1})
    return s


def _at(frac, target, tol=1e-4) -> bool:
    d = (frac - target + 0.5) % 1 - 0.5
    return bool(abs(d).max() < tol)


@dataclass(frozen=True)
class Model:
    """A defect model derived from an example (not a measured structure): how it is built is its builder."""
    name: str
    description: str
    citation: str
    build: object  # () -> Structure


# Derived defect models: buildable by name like the examples, but not in `list_examples()` (the examples are
# the published structures that other code iterates over).
MODELS = {m.name: m for m in [
    Model("Li3OCl_Li_rich",
          "Li-rich antiperovskite model Li3+xO1+xCl1-x (x = 1/8, Li25O9Cl7): Li3OCl 2x2x2 with one Li interstitial "
          "(split dumbbell) compensated by O on a Cl site",
          "Host: Y. Zhao, L. L. Daemen, J. Am. Chem. Soc. 134, 15042 (2012), a = 3.9090 A. Li interstitials in Li3OCl "
          "form split dumbbells that migrate with a lower barrier than vacancies: A. Emly, E. Kioupakis, A. Van der "
          "Ven, Chem. Mater. 25, 4663 (2013)",
          li_rich_li3ocl),
]}


def list_examples() -> list[str]:
    return list(EXAMPLES)


def get_example(name: str) -> Structure:
    """Build the named example with pymatgen from its space group and Wyckoff positions (or a defect model of
    `MODELS` with its builder)."""
    if name in MODELS:
        return MODELS[name].build()
    try:
        ex = EXAMPLES[name]
    except KeyError:
        raise KeyError(f"unknown example {name!r}; choose from {', '.join([*EXAMPLES, *MODELS])}") from None
    a, b, c, al, be, ga = ex.lattice
    s = Structure.from_spacegroup(ex.spacegroup, Lattice.from_parameters(a, b, c, al, be, ga),
                                  list(ex.species), list(ex.coords))
    s.add_oxidation_state_by_element(ex.oxidation_states)
    return s


def write_examples(directory: str | Path, names=None) -> list[Path]:
    """Write examples as CIFs (with their citation in the file name's sidecar)."""
    from pymatgen.io.cif import CifWriter

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names or EXAMPLES:
        p = out / f"{name}.cif"
        CifWriter(get_example(name)).write_file(p)
        paths.append(p)
    return paths
