"""Energy above hull against the shipped reference set relaxed with CHGNet."""
import json

import pytest
from ase.calculators.emt import EMT
from pymatgen.core import Lattice, Structure
from pymatgen.entries.computed_entries import ComputedEntry

from perovscreen.core.errors import InputError
from perovscreen.potentials.references import REFERENCES, REFERENCES_BY_NAME, build_reference, references_for
from perovscreen.potentials.stability import energy_above_hull, load_entries
from perovscreen.structures.examples import get_example


def test_reference_structures_match_their_formulas():
    for ref in REFERENCES:
        s = build_reference(ref)
        assert set(ref.species) == {el.symbol for el in s.composition.elements}, ref.name
        d = s.get_neighbor_list(6.0)[3]
        dmin = d[d > 1e-6].min()
        assert 1.7 < dmin < 5.0, (ref.name, dmin)  # no overlapping atoms from a wrong setting
    names = [n for n, _, _ in references_for({"Sr", "Ti", "O"})]
    assert {"O2-molecule", "Sr-fcc", "Ti-hcp", "SrO-rocksalt", "TiO2-rutile", "Sr2TiO4", "SrTiO3"} == set(names)


def test_ternary_references():
    by = {n: s for n, s, _ in references_for({"La", "Zr", "Li", "Ti", "Ca", "O"})}
    # pyrochlore La2Zr2O7: ZrO6 octahedra (Zr-O 2.11 A at a = 10.80, x = 0.333), 22-atom primitive cell
    pyro = by["La2Zr2O7-pyrochlore"]
    assert pyro.composition.reduced_formula == "La2Zr2O7" and len(pyro) == 22
    zr = [i for i, site in enumerate(pyro) if site.specie.symbol == "Zr"][0]
    assert sorted(round(n.nn_distance, 2) for n in pyro.get_neighbors(pyro[zr], 2.5)) == [2.11] * 6
    assert by["Li2TiO3"].composition.reduced_formula == "Li2TiO3"
    # La2Ti2O7 pyrochlore stand-in: TiO6 octahedra, Ti-O 2.00 A by hand (a = 10.36, x = 0.327)
    lto = by["La2Ti2O7-pyrochlore"]
    ti = [i for i, site in enumerate(lto) if site.specie.symbol == "Ti"][0]
    assert sorted(round(n.nn_distance, 2) for n in lto.get_neighbors(lto[ti], 2.5)) == [2.0] * 6
    # Li2ZrO3 (C2/c): Zr and both Li sites octahedral, Zr-O 2.11-2.22 A
    lzo = by["Li2ZrO3"]
    assert lzo.get_space_group_info(symprec=0.01)[1] == 15 and len(lzo) == 12
    for site in lzo:
        if site.specie.symbol != "O":
            d = [n.nn_distance for n in lzo.get_neighbors(site, 2.4)]
            assert len(d) == 6 and 2.10 < min(d) and max(d) < 2.30, (site.specie, d)
    # Li4Ti5O12: spinel approximant, 8a Li tetrahedral (4 x 1.99 A), 16d shared 1 Li : 5 Ti, the two 16d Li
    # as far apart as the 3 x 1 x 1 cell allows (lowest Ewald energy), not nearest 16d neighbours (2.96 A)
    sp = by["Li4Ti5O12-spinel"]
    assert sp.composition.reduced_formula == "Li4Ti5O12" and len(sp) == 42
    cn = {i: len(sp.get_neighbors(site, 2.2)) for i, site in enumerate(sp) if site.specie.symbol == "Li"}
    assert sorted(cn.values()) == [4] * 6 + [6] * 2
    li16d = [i for i, c in cn.items() if c == 6]
    assert sp.get_distance(*li16d) > 4.0
    # tilted-ground-state perovskites: rattled sqrt2 x sqrt2 x 2 cells, reproducible, symmetry broken
    cto = by["CaTiO3-perovskite"]
    assert len(cto) == 20 and cto.lattice.volume == pytest.approx(4 * 3.826 ** 3, rel=1e-6)
    assert cto.get_space_group_info(symprec=0.01)[1] < 221
    assert cto == build_reference(REFERENCES_BY_NAME["CaTiO3-perovskite"])
    # built-in examples with measured structures join the set; idealised LLTO approximants do not
    assert "Li3OCl" in [n for n, _, _ in references_for({"Li", "O", "Cl"})]
    assert not any(n.startswith("LLTO") for n in by)


def test_hull_arithmetic_by_hand_with_emt():
    """Al-O with EMT: the hull machinery against energies computed by hand."""
    from perovscreen.potentials.tasks import relax

    calc = EMT()
    al = Structure(Lattice.cubic(4.05), ["Al"] * 4, [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])
    bcc = Structure(Lattice.cubic(3.2), ["Al"] * 2, [[0, 0, 0], [0.5, 0.5, 0.5]])
    res = energy_above_hull(bcc, calc, relax_candidate=False, fmax=0.001)
    e_fcc = relax(al, calc, fmax=0.001).energy_per_atom
    from perovscreen.potentials.tasks import single_point

    assert res.e_above_hull == pytest.approx(single_point(bcc, calc).energy_per_atom - e_fcc, abs=2e-5)
    assert res.decomposition == {"Al": 1.0}


@pytest.mark.slow
def test_srtio3_on_hull_and_absurd_composition_far_above(ref_cache):
    r = energy_above_hull(get_example("SrTiO3"), "chgnet", cache=ref_cache, steps=150)
    assert r.e_above_hull < 0.05
    assert r.formation_energy_per_atom == pytest.approx(-3.47, abs=0.35)  # exp. -17.3 eV per SrTiO3
    # Sr and O swapped in the perovskite cell: Sr3TiO with Sr-Ti 1.95 A
    absurd = Structure(Lattice.cubic(3.9), ["O", "Ti", "Sr", "Sr", "Sr"],
                       [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    bad = energy_above_hull(absurd, "chgnet", cache=ref_cache, relax_candidate=False)
    assert bad.e_above_hull > 1.0
    assert set(bad.decomposition) <= {"Sr", "Ti", "SrO", "TiO2", "Sr2TiO4", "O2"}
    assert any((ref_cache / d).is_dir() for d in [p.name for p in ref_cache.iterdir()])  # cached on disk


@pytest.mark.slow
def test_linbo3_near_hull(ref_cache):
    r = energy_above_hull(get_example("LiNbO3"), "chgnet", cache=ref_cache, steps=150)
    assert r.e_above_hull < 0.05 and r.formation_energy_per_atom < -2.0
    assert "NbO2-rutile" in r.stand_ins


def test_user_entries_json(tmp_path):
    """A bare ComputedEntry far below everything makes the candidate unstable (energies used as given)."""
    calc = EMT()
    al = Structure(Lattice.cubic(4.05), ["Al"] * 4, [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])
    entries = [ComputedEntry("Al", -100.0, entry_id="mp-fake").as_dict()]
    p = tmp_path / "entries.json"
    p.write_text(json.dumps(entries))
    assert load_entries(p)[0].energy == -100.0
    r = energy_above_hull(al, calc, entries=p, use_references=False, relax_candidate=False)
    from perovscreen.potentials.tasks import single_point

    assert r.e_above_hull == pytest.approx(single_point(al, calc).energy_per_atom + 100.0, abs=1e-6)
    with pytest.raises(InputError, match="no elemental reference"):
        energy_above_hull(al, calc, entries=[], use_references=False)
    with pytest.raises(InputError, match="not found"):
        load_entries(tmp_path / "missing.json")


@pytest.mark.slow
def test_tilted_stand_in_relaxes_below_cubic():
    """The rattled CaTiO3 tilt cell relaxes into octahedral tilts (Pnma ground state) that CHGNet places
    below the relaxed cubic cell, so the stand-in is closer to the true ground state than cubic would be."""
    from perovscreen.potentials.tasks import relax

    ref = REFERENCES_BY_NAME["CaTiO3-perovskite"]
    tilted = relax(build_reference(ref), "chgnet", fmax=0.05, steps=300)
    cubic = relax(Structure.from_spacegroup("Pm-3m", Lattice.cubic(3.826), ["Ca", "Ti", "O"],
                                            [[0.5, 0.5, 0.5], [0, 0, 0], [0.5, 0, 0]]), "chgnet", fmax=0.05)
    assert tilted.energy_per_atom < cubic.energy_per_atom - 0.005
