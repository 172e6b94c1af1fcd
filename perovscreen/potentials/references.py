"""Reference competing phases for energy-above-hull, built from published structures.

Each entry gives a space group, lattice parameters (A, deg), Wyckoff species and coordinates and a citation;
``build_reference`` expands it with pymatgen. The structures are starting points: stability.py relaxes them
with the chosen potential (and caches the result). Gaseous/molecular elements (O2, F2, Cl2, Br2) are
molecules in a 12 A periodic box with the experimental bond length (NIST CCCBDB); solid P is black phosphorus.
"Stand-in" entries are simpler polymorphs used where the ground state is a large or disordered cell; they
sit at or above the true ground state, so a hull built with them can only under-estimate a candidate's
energy above hull (see docs/potentials.md for the list of known missing phases). Perovskites whose ground
state is tilted (Pnma, R-3c) are cubic stand-ins built as a seeded, slightly rattled sqrt2 x sqrt2 x 2
supercell, so the relaxation can find octahedral tilts the potential favours. The ordered built-in
examples with measured structures (EXAMPLE_REFERENCES) are references too.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from pymatgen.core import Lattice, Molecule, Structure

WYCKOFF63 = "R. W. G. Wyckoff, Crystal Structures, 2nd ed., vol. 1, Interscience (1963)"
KITTEL = "C. Kittel, Introduction to Solid State Physics, 8th ed., Wiley (2005), table 1.3 (room-temperature a)"
WYCKOFF64 = "R. W. G. Wyckoff, Crystal Structures, 2nd ed., vol. 2, Interscience (1964)"
PSEUDOCUBIC = ("pseudo-cubic a = (V/Z)^(1/3) of the room-temperature cell, cubic stand-in for the tilted "
               "ground state; " + WYCKOFF64)
CCCBDB = "NIST Computational Chemistry Comparison and Benchmark Database (CCCBDB), experimental bond length"


@dataclass(frozen=True)
class Reference:
    name: str  # unique label, e.g. "TiO2-rutile"
    spacegroup: str | int
    lattice: tuple  # (a, b, c, alpha, beta, gamma)
    species: tuple
    coords: tuple
    citation: str
    stand_in: bool = False
    # (supercell, host, guest, n): in that supercell of the primitive cell, n host sites become guest,
    # the choice of lowest Ewald energy (ordered approximant of a site shared by two species)
    ordering: tuple = ()


def _cubic(name, sg, a, species, coords, cite, stand_in=False):
    return Reference(name, sg, (a, a, a, 90, 90, 90), species, coords, cite, stand_in)


def _hex(name, sg, a, c, species, coords, cite, stand_in=False):
    return Reference(name, sg, (a, a, c, 90, 90, 120), species, coords, cite, stand_in)


def _rocksalt(f, a, m, x):
    return _cubic(f + "-rocksalt", "Fm-3m", a, (m, x), ((0, 0, 0), (0.5, 0.5, 0.5)), WYCKOFF63)


def _fluorite(f, a, m, x):  # also antifluorite (Li2O): m on 4a, x on 8c
    return _cubic(f + "-fluorite", "Fm-3m", a, (m, x), ((0, 0, 0), (0.25, 0.25, 0.25)), WYCKOFF63)


def _rutile(f, a, c, x, m, o, cite=WYCKOFF63, stand_in=False):
    return Reference(f + "-rutile", "P4_2/mnm", (a, a, c, 90, 90, 90), (m, o), ((0, 0, 0), (x, x, 0)), cite, stand_in)


def _corundum(f, a, c, z, x, m, o, cite):
    return _hex(f + "-corundum", "R-3c", a, c, (m, o), ((0, 0, z), (x, 0, 0.25)), cite)


def _perovskite(f, a, A, B, X, cite=WYCKOFF64, stand_in=False):  # B on 1a, A on 1b, X on 3d
    return _cubic(f + "-perovskite", "Pm-3m", a, (A, B, X), ((0.5, 0.5, 0.5), (0, 0, 0), (0.5, 0, 0)), cite,
                  stand_in)


def _bcc(el, a):
    return _cubic(el + "-bcc", "Im-3m", a, (el,), ((0, 0, 0),), KITTEL)


def _fcc(el, a, stand_in=False, cite=KITTEL):
    return _cubic(el + "-fcc", "Fm-3m", a, (el,), ((0, 0, 0),), cite, stand_in)


def _hcp(el, a, c):
    return _hex(el + "-hcp", "P6_3/mmc", a, c, (el,), ((1 / 3, 2 / 3, 0.25),), KITTEL)


def _pyrochlore(f, a, A, B, x, cite, stand_in=False):  # origin choice 1: x(48f) = x(choice 2) + 1/8
    return _cubic(f + "-pyrochlore", "Fd-3m", a, (A, B, "O", "O"),
                  ((0.625, 0.625, 0.625), (0.125, 0.125, 0.125), (x + 0.125, 0.25, 0.25), (0.5, 0.5, 0.5)), cite,
                  stand_in)


def _zro2_mono(f, lat, m, cite):  # baddeleyite positions of Howard et al. (1988)
    return Reference(f + "-monoclinic", "P2_1/c", lat, (m, "O", "O"),
                     ((0.2754, 0.0395, 0.2083), (0.0700, 0.3317, 0.3447), (0.4496, 0.7569, 0.4792)), cite)


MOLECULES = {  # element: bond length (A), ground-state molecule of the element
    "O": 1.2075, "F": 1.4119, "Cl": 1.9879, "Br": 2.2810, "N": 1.0977, "H": 0.7414,
}

REFERENCES: list[Reference] = [
    # elements (solids)
    _bcc("Li", 3.51), _bcc("Na", 4.29), _bcc("K", 5.23), _bcc("Ba", 5.02), _bcc("Nb", 3.30), _bcc("Ta", 3.31),
    _bcc("Fe", 2.87), _fcc("Ca", 5.58), _fcc("Sr", 6.08), _fcc("Al", 4.05),
    _fcc("La", 5.303, stand_in=True, cite="beta-La (fcc), stand-in for dhcp alpha-La; " + WYCKOFF63),
    _hcp("Mg", 3.21, 5.21), _hcp("Ti", 2.95, 4.68), _hcp("Zr", 3.23, 5.15), _hcp("Hf", 3.19, 5.05),
    _hcp("Y", 3.65, 5.73),
    Reference("Ga-alpha", "Cmce", (4.5197, 7.6633, 4.5260, 90, 90, 90), ("Ga",), ((0, 0.1549, 0.0810),),
              "B. D. Sharma, J. Donohue, Z. Kristallogr. 117, 293 (1962)"),
    Reference("P-black", "Cmce", (3.3136, 10.478, 4.3763, 90, 90, 90), ("P",), ((0, 0.10168, 0.08056),),
              "A. Brown, S. Rundqvist, Acta Cryst. 19, 684 (1965)"),
    # rocksalt halides and oxides
    _rocksalt("LiF", 4.026, "Li", "F"), _rocksalt("LiCl", 5.130, "Li", "Cl"), _rocksalt("LiBr", 5.501, "Li", "Br"),
    _rocksalt("NaF", 4.634, "Na", "F"), _rocksalt("NaCl", 5.640, "Na", "Cl"), _rocksalt("NaBr", 5.977, "Na", "Br"),
    _rocksalt("KF", 5.347, "K", "F"), _rocksalt("KCl", 6.293, "K", "Cl"), _rocksalt("KBr", 6.600, "K", "Br"),
    _rocksalt("MgO", 4.211, "Mg", "O"), _rocksalt("CaO", 4.811, "Ca", "O"), _rocksalt("SrO", 5.160, "Sr", "O"),
    _rocksalt("BaO", 5.523, "Ba", "O"), _rocksalt("FeO", 4.332, "Fe", "O"),
    # fluorite / antifluorite
    _fluorite("Li2O", 4.611, "O", "Li"), _fluorite("Na2O", 5.55, "O", "Na"), _fluorite("K2O", 6.436, "O", "K"),
    _fluorite("CaF2", 5.463, "Ca", "F"), _fluorite("SrF2", 5.800, "Sr", "F"), _fluorite("BaF2", 6.200, "Ba", "F"),
    _fluorite("SrCl2", 6.977, "Sr", "Cl"),
    # rutile
    _rutile("TiO2", 4.5937, 2.9587, 0.30478, "Ti", "O",
            "J. K. Burdett, T. Hughbanks, G. J. Miller, J. W. Richardson, J. V. Smith, J. Am. Chem. Soc. 109, 3639 (1987)"),
    _rutile("MgF2", 4.621, 3.052, 0.303, "Mg", "F"),
    _rutile("NbO2", 4.846, 3.032, 0.292, "Nb", "O", "high-temperature rutile NbO2, stand-in for the I4_1/a "
            "ground state; A. A. Bolzan, C. Fong, B. J. Kennedy, C. J. Howard, J. Solid State Chem. 113, 9 (1994)",
            stand_in=True),
    _cubic("NbO", "Pm-3m", 4.2101, ("Nb", "O"), ((0, 0.5, 0.5), (0.5, 0, 0)), WYCKOFF63),
    # corundum and other sesquioxides
    _corundum("Al2O3", 4.7589, 12.991, 0.35216, 0.30624, "Al", "O",
              "E. N. Maslen et al., Acta Cryst. B49, 973 (1993)"),
    _corundum("Fe2O3", 5.0356, 13.7489, 0.35530, 0.3059, "Fe", "O",
              "R. L. Blake, R. E. Hessevick, T. Zoltai, L. W. Finger, Am. Mineral. 51, 123 (1966)"),
    _corundum("Ga2O3", 4.9825, 13.433, 0.35535, 0.3049, "Ga", "O",
              "alpha-Ga2O3 (corundum), stand-in for monoclinic beta; M. Marezio, J. P. Remeika, "
              "J. Chem. Phys. 46, 1862 (1967)"),
    _hex("La2O3-A", "P-3m1", 3.9381, 6.1361, ("La", "O", "O"), ((1 / 3, 2 / 3, 0.2467), (0, 0, 0), (1 / 3, 2 / 3, 0.6470)),
         "P. Aldebert, J. P. Traverse, Mater. Res. Bull. 14, 303 (1979)"),
    _cubic("Y2O3-bixbyite", "Ia-3", 10.604, ("Y", "Y", "O"),
           ((0.25, 0.25, 0.25), (-0.0327, 0, 0.25), (0.3907, 0.1520, 0.3804)),
           "M. G. Paton, E. N. Maslen, Acta Cryst. 19, 307 (1965)"),
    _zro2_mono("ZrO2", (5.1505, 5.2116, 5.3173, 90, 99.23, 90), "Zr",
               "C. J. Howard, R. J. Hill, B. E. Reichert, Acta Cryst. B44, 116 (1988)"),
    _zro2_mono("HfO2", (5.117, 5.175, 5.291, 90, 99.22, 90), "Hf",
               "lattice: R. Ruh, P. W. R. Corfield, J. Am. Ceram. Soc. 53, 126 (1970); positions of "
               "isostructural ZrO2 (Howard et al. 1988)"),
    # ternaries
    Reference("Sr2TiO4", "I4/mmm", (3.884, 3.884, 12.60, 90, 90, 90), ("Sr", "Ti", "O", "O"),
              ((0, 0, 0.355), (0, 0, 0), (0, 0.5, 0), (0, 0, 0.152)),
              "S. N. Ruddlesden, P. Popper, Acta Cryst. 10, 538 (1957)"),
    Reference("LaOCl", "P4/nmm", (4.119, 4.119, 6.883, 90, 90, 90), ("La", "O", "Cl"),
              ((0, 0.5, 0.1752), (0, 0, 0), (0, 0.5, 0.6366)), WYCKOFF63),  # origin choice 1
    # perovskites: cubic at room temperature
    _perovskite("BaZrO3", 4.193, "Ba", "Zr", "O"), _perovskite("BaHfO3", 4.171, "Ba", "Hf", "O"),
    _perovskite("KTaO3", 3.9885, "K", "Ta", "O"), _perovskite("KMgF3", 3.989, "K", "Mg", "F"),
    _perovskite("LiBaF3", 3.996, "Ba", "Li", "F"),  # inverse perovskite: Li on the B site
    # perovskites: tilted or polar ground states, cubic stand-ins (see module docstring)
    *[_perovskite(f, a, A, B, X, PSEUDOCUBIC, stand_in=True) for f, a, A, B, X in [
        ("CaTiO3", 3.826, "Ca", "Ti", "O"), ("BaTiO3", 4.007, "Ba", "Ti", "O"), ("SrZrO3", 4.101, "Sr", "Zr", "O"),
        ("CaZrO3", 4.011, "Ca", "Zr", "O"), ("SrHfO3", 4.087, "Sr", "Hf", "O"), ("LaAlO3", 3.790, "La", "Al", "O"),
        ("LaGaO3", 3.893, "La", "Ga", "O"), ("YAlO3", 3.705, "Y", "Al", "O"), ("NaNbO3", 3.91, "Na", "Nb", "O"),
        ("KNbO3", 4.00, "K", "Nb", "O"), ("NaTaO3", 3.89, "Na", "Ta", "O"), ("NaMgF3", 3.836, "Na", "Mg", "F")]],
    # other ternary oxides
    _pyrochlore("La2Zr2O7", 10.80, "La", "Zr", 0.333, "a = 10.80 A, x(O 48f) = 0.333 (origin choice 2); Y. Tabira, "
                "R. L. Withers, T. Yamada, N. Ishizawa, Z. Kristallogr. 216, 92 (2001)"),
    _pyrochlore("La2Ti2O7", 10.36, "La", "Ti", 0.327, "pyrochlore stand-in for the monoclinic (110)-layered "
                "perovskite La2Ti2O7 (P2_1, 44-atom cell), a from its measured volume per formula unit (M. Gasperin, "
                "Acta Cryst. B 31, 2129 (1975)), x(O 48f) of the titanate pyrochlores", stand_in=True),
    Reference("Li2ZrO3", "C2/c", (5.4163, 9.0262, 5.4156, 90, 112.615, 90), ("Li", "Li", "Zr", "O", "O"),
              ((0, 0.25782, 0.75), (0, 0.41950, 0.25), (0, 0.08610, 0.25), (0.24170, 0.08110, 0.99998), (0.25, 0.25, 0.5)),
              "ICSD 94894, as distributed in the OBELiX data set (entry t0h, CC-BY-4.0; F. Therrien et al., "
              "arXiv:2502.14234)"),
    Reference("Li4Ti5O12-spinel", "Fd-3m", (8.3595,) * 3 + (90,) * 3, ("Li", "Ti", "O"),
              ((0, 0, 0), (0.625, 0.625, 0.625), (0.3875, 0.3875, 0.3875)),
              "spinel Li[Li1/3Ti5/3]O4 (origin choice 1; x(O 32e) = 0.2625 in choice 2), a of T. Ohzuku, A. Ueda, "
              "N. Yamamoto, J. Electrochem. Soc. 142, 1431 (1995); ordered approximant: 1 in 6 Ti (16d) sites of a "
              "3 x 1 x 1 primitive supercell made Li, the lowest-Ewald arrangement", stand_in=True,
              ordering=((3, 1, 1), "Ti", "Li", 2)),
    Reference("Li2TiO3", "C2/m", (5.070, 8.788, 5.090, 90, 109.46, 90), ("Li", "Li", "Li", "Ti", "O", "O"),
              ((0, 0.5, 0), (0, 0, 0.5), (0, 0.6606, 0.5), (0, 0.1671, 0), (0.2189, 0, 0.2273), (0.2540, 0.3212, 0.2234)),
              "Li2MnO3-type honeycomb stacking (C2/m), stand-in for beta-Li2TiO3 (C2/c, same LiTi2 layers stacked "
              "differently); positions of Li2MnO3, P. Strobel, B. Lambert-Andron, J. Solid State Chem. 75, 90 "
              "(1988), cell scaled to beta-Li2TiO3 of K. Kataoka et al., Mater. Res. Bull. 44, 168 (2009)",
              stand_in=True),
]
EXAMPLE_REFERENCES = ("SrTiO3", "LiNbO3", "LiTaO3", "Li3OCl", "LiFePO4")  # measured structures, ordered
REFERENCES_BY_NAME = {r.name: r for r in REFERENCES}


def molecule_in_box(element: str, box: float = 12.0) -> Structure:
    """A diatomic molecule of ``element`` centred in a cubic box of side ``box`` A."""
    d = MOLECULES[element]
    mol = Molecule([element, element], [[0, 0, 0], [0, 0, d]])
    return mol.get_boxed_structure(box, box, box)


@lru_cache(maxsize=None)
def _built(ref: Reference) -> Structure:
    a, b, c, al, be, ga = ref.lattice
    s = Structure.from_spacegroup(ref.spacegroup, Lattice.from_parameters(a, b, c, al, be, ga),
                                  list(ref.species), list(ref.coords), tol=1e-3).get_primitive_structure()
    if ref.stand_in and ref.name.endswith("-perovskite"):
        s.make_supercell([[1, 1, 0], [-1, 1, 0], [0, 0, 2]])
        shift = np.random.default_rng(0).normal(0, 0.03, (len(s), 3))
        s = Structure(s.lattice, s.species, s.cart_coords + shift, coords_are_cartesian=True)
    if ref.ordering:
        s = _lowest_ewald(s, *ref.ordering)
    return s


def build_reference(ref: Reference) -> Structure:
    """Expand a reference entry to a pymatgen Structure (primitive cell; a rattled tilt cell for a
    stand-in perovskite; the ordered approximant for an entry with ``ordering``)."""
    return _built(ref).copy()


def _lowest_ewald(s: Structure, supercell, host: str, guest: str, n: int) -> Structure:
    """``n`` of the ``host`` sites of ``s * supercell`` turned into ``guest``: the arrangement of lowest Ewald
    energy (formal charges from pymatgen's oxidation-state guess); ties go to the first in site order."""
    from itertools import combinations

    from pymatgen.analysis.ewald import EwaldSummation

    from pymatgen.core import Composition

    s = s * supercell
    target = s.composition - Composition({host: n}) + Composition({guest: n})
    oxi = target.oxi_state_guesses(max_sites=-1)[0]
    sites = [i for i, site in enumerate(s) if site.specie.symbol == host]
    best, best_e = None, np.inf
    for combo in combinations(sites, n):
        t = s.copy()
        for i in combo:
            t.replace(i, guest)
        t.add_oxidation_state_by_element(oxi)
        e = EwaldSummation(t).total_energy
        if e < best_e - 1e-6:
            best, best_e = t, e
    best.remove_oxidation_states()
    return best


def _examples() -> list[tuple[str, Structure, str]]:
    from perovscreen.structures.examples import EXAMPLES, get_example

    out = []
    for name in EXAMPLE_REFERENCES:
        s, ex = get_example(name), EXAMPLES[name]
        s.remove_oxidation_states()
        out.append((name, s.get_primitive_structure(), ex.citation))
    return out


def references_for(elements) -> list[tuple[str, Structure, str]]:
    """(name, structure, citation) of every shipped reference whose elements are a subset of ``elements``."""
    elements = {str(e) for e in elements}
    out = [(f"{el}2-molecule", molecule_in_box(el), CCCBDB) for el in sorted(elements & set(MOLECULES))]
    for ref in REFERENCES:
        species = {sp for sp in ref.species}
        if species <= elements:
            out.append((ref.name, build_reference(ref), ref.citation + (" [stand-in]" if ref.stand_in else "")))
    return out + [(n, s, c) for n, s, c in _examples() if {el.symbol for el in s.composition} <= elements]
