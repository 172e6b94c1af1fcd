"""Interface reactions and the electrochemical window: hand-computed phase diagrams, then CHGNet."""
import pytest
from pymatgen.analysis.phase_diagram import PhaseDiagram
from pymatgen.core import Composition, Lattice, Structure
from pymatgen.entries.computed_entries import ComputedEntry

from perovscreen.core.errors import InputError
from perovscreen.core.results import decode
from perovscreen.potentials.interface import interface_screen, li_window, reaction, window_of
from perovscreen.potentials.references import REFERENCES_BY_NAME, build_reference
from perovscreen.structures.examples import get_example


def li_o_diagram(extra=()):
    """Li-O with elements at 0 and formation energies Li2O -2.0, Li2O2 -1.6 eV/atom (both on the hull)."""
    entries = [ComputedEntry("Li", 0.0), ComputedEntry("O2", 0.0), ComputedEntry("Li2O", -6.0),
               ComputedEntry("Li2O2", -6.4), *extra]
    return PhaseDiagram(entries)


def test_window_by_hand():
    """Facet (Li, Li2O): mu_Li = 0; facet (Li2O, Li2O2): 2 mu_Li + mu_O = -6.0, 2 mu_Li + 2 mu_O = -6.4, so
    mu_Li = -2.8; facet (Li2O2, O2): mu_O = 0, mu_Li = -3.2. V = -mu_Li (Li metal at 0)."""
    pd = li_o_diagram()
    assert li_window(pd, Composition("Li2O")) == pytest.approx((0.0, 2.8))
    assert li_window(pd, Composition("Li2O2")) == pytest.approx((2.8, 3.2))


def test_window_of_a_metastable_phase_is_that_of_its_decomposition():
    meta = ComputedEntry("Li2O", -6.0 + 3 * 0.1)  # a polymorph 0.1 eV/atom above the hull
    pd = li_o_diagram([meta])
    w, of = window_of(pd, meta)
    assert of == "decomposition" and w == pytest.approx([0.0, 2.8])
    w, of = window_of(pd, [e for e in pd.stable_entries if e.composition.reduced_formula == "Li2O2"][0])
    assert of == "phase" and w == pytest.approx([2.8, 3.2])


def test_reaction_energy_by_hand():
    """Li2O2 + 2 Li -> 2 Li2O: dE = 2(-6.0) - (-6.4) = -5.6 eV over 6 atoms, at x = 4/6 (Li2O2 atoms);
    Li2O is stable against Li (0)."""
    pd = li_o_diagram()
    r = reaction(pd, Composition("Li2O2"), Composition("Li"), "Li")
    assert r["reaction_energy"] == pytest.approx(-5.6 / 6, abs=1e-6)
    assert r["mixing_ratio"] == pytest.approx(4 / 6, abs=1e-6)
    assert r["products"] == ["Li2O"]
    assert reaction(pd, Composition("Li2O"), Composition("Li"), "Li")["reaction_energy"] == 0.0


def test_bad_input(ref_cache):
    s = build_reference(REFERENCES_BY_NAME["MgO-rocksalt"])
    with pytest.raises(InputError, match="no Li"):
        interface_screen(s, "chgnet", cache=ref_cache)
    with pytest.raises(InputError, match="unknown cathode"):
        interface_screen(build_reference(REFERENCES_BY_NAME["LiF-rocksalt"]), "chgnet", cathode="LiMn2O4")


def test_chgnet_lif_against_li(ref_cache):
    """LiF is stable against Li metal (reaction energy 0, reduction limit 0 V). Its oxidation
    limit is, by the facet (LiF, F2), minus its formation energy per formula unit: 6.20 V with CHGNet
    (PBE: 6.4 V, Zhu, He, Mo, ACS AMI 7, 23685 (2015))."""
    r = interface_screen(build_reference(REFERENCES_BY_NAME["LiF-rocksalt"]), "chgnet", cathode="",
                         cache=ref_cache)
    assert r.e_above_hull == 0.0 and r.window_of == "phase"
    assert r.reactions[0]["against"] == "Li" and r.reactions[0]["reaction_energy"] == 0.0
    assert r.window[0] == pytest.approx(0.0, abs=1e-9)
    assert r.window[1] == pytest.approx(-2 * r.formation_energy_per_atom, abs=1e-9)
    assert 5.8 < r.window[1] < 6.6
    assert decode(r.to_dict()) == r
    # CsCl-type LiF lies above the hull; its decomposition (rocksalt LiF) has the window above
    cscl = interface_screen(Structure(Lattice.cubic(2.45), ["Li", "F"], [[0, 0, 0], [0.5, 0.5, 0.5]]), "chgnet",
                            cathode="", relax_candidate=False, cache=ref_cache)
    assert cscl.e_above_hull > 0.02 and cscl.window_of == "decomposition"
    assert cscl.window == pytest.approx(r.window, abs=1e-6)


def test_stages_through_the_runner(tmp_path, ref_cache):
    """The interface stage as the CLI and the funnel run it: stored, resumed, bad input final."""
    from perovscreen.jobs.runner import RunOptions, execute_batch
    from perovscreen.potentials.advanced_stage import INTERFACE
    from perovscreen.potentials.interface import InterfaceResult

    lif, mgo = tmp_path / "LiF.cif", tmp_path / "MgO.cif"
    build_reference(REFERENCES_BY_NAME["LiF-rocksalt"]).to(filename=str(lif))
    build_reference(REFERENCES_BY_NAME["MgO-rocksalt"]).to(filename=str(mgo))
    opts = RunOptions(db=str(tmp_path / "r.db"), executor="serial", quiet=True, ion="none")
    params = INTERFACE.make(cathode="", cache=str(ref_cache))
    rows = {r["id"]: r for r in execute_batch(INTERFACE, [str(lif), str(mgo)], params, opts)}
    assert rows["MgO"]["status"] == "error" and "no Li" in rows["MgO"]["error"]
    res = decode(rows["LiF"]["result"])
    assert isinstance(res, InterfaceResult) and res.window[0] == pytest.approx(0.0, abs=1e-9)
    assert execute_batch(INTERFACE, [str(lif)], params, opts)[0]["resumed"]


@pytest.mark.slow
def test_chgnet_reactive_pairs(ref_cache):
    """Li2O is stable against Li and LiCoO2 (0); LiNbO3 is reduced by Li metal to Li2O + Nb (CHGNet: -0.37
    eV/atom at x = 0.5); LiCoO2 + Li -> Li2O + Co/CoO reacts."""
    from perovscreen.potentials.interface import cathode_phases, extra_entries
    from perovscreen.potentials.stability import reference_entries

    r = interface_screen(build_reference(REFERENCES_BY_NAME["Li2O-fluorite"]), "chgnet", cache=ref_cache)
    assert [x["reaction_energy"] for x in r.reactions] == [0.0, 0.0] and r.window[0] == pytest.approx(0.0, abs=1e-9)
    r = interface_screen(get_example("LiNbO3"), "chgnet", cathode="", cache=ref_cache)
    assert r.reactions[0]["reaction_energy"] < -0.2 and r.reactions[0]["products"] == ["Li2O", "Nb"]
    assert r.window[0] > 0.3  # Nb5+ is reduced above 0 V
    pd = PhaseDiagram(reference_entries({"Li", "Co", "O"}, "chgnet", cache=ref_cache)
                      + extra_entries(cathode_phases("LiCoO2", {"Li", "Co", "O"}), "chgnet", cache=ref_cache))
    assert reaction(pd, Composition("LiCoO2"), Composition("Li"), "Li")["reaction_energy"] < -0.3


def test_chgnet_chloride_against_licoo2_sees_cobalt_chloride(ref_cache):
    """A chloride's hull against LiCoO2 holds CoCl2 (an oxide's does not). Experiment: dHf(CoCl2) = -312.5 kJ/mol
    = -1.08 eV/atom (CHGNet: -0.94), and Li2O + CoCl2 -> 2 LiCl + CoO releases 145 kJ/mol (NBS tables), so
    Li3OCl (~Li2O + LiCl) next to LiCoO2 must not form CoCl2."""
    from perovscreen.potentials.interface import cathode_phases, extra_entries
    from perovscreen.potentials.stability import reference_entries

    pd = PhaseDiagram(reference_entries({"Co", "Cl"}, "chgnet", cache=ref_cache)  # Cl2 (Co metal is a cathode phase)
                      + extra_entries(cathode_phases("LiCoO2", {"Co", "Cl"}), "chgnet", cache=ref_cache))
    e = min((x for x in pd.all_entries if x.composition.reduced_formula == "CoCl2"), key=lambda x: x.energy_per_atom)
    assert pd.get_e_above_hull(e) == 0.0 and pd.get_form_energy_per_atom(e) == pytest.approx(-1.08, abs=0.2)
    names = lambda system: {r.name for r in cathode_phases("LiCoO2", system)}  # noqa: E731
    assert "CoCl2" in names({"Li", "O", "Cl", "Co"}) and "CoCl2" not in names({"Li", "O", "Co"})
    r = interface_screen(get_example("Li3OCl"), "chgnet", cache=ref_cache)
    vs_cathode = r.reactions[1]
    assert vs_cathode["against"] == "LiCoO2" and "CoCl2" not in vs_cathode["products"]
