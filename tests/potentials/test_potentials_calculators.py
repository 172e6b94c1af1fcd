"""Calculator layer: CHGNet through the layer equals direct CHGNet; tasks; clear errors."""
import numpy as np
import pytest
from ase.calculators.emt import EMT
from pymatgen.core import Lattice, Structure

from perovscreen.core.errors import InputError, ModelError
from perovscreen.potentials import get_calculator
from perovscreen.potentials.tasks import relax, single_point, single_points
from perovscreen.structures.examples import get_example


@pytest.fixture(scope="module")
def chgnet_direct():
    from chgnet.model import CHGNet

    return CHGNet.load(verbose=False)


def test_chgnet_layer_equals_direct(chgnet_direct):
    s = get_example("SrTiO3")
    s.perturb(0.05, min_distance=0.01)  # non-zero forces
    direct = chgnet_direct.predict_structure(s, task="efs")
    sp = single_point(s, "chgnet")
    assert sp.backend == "chgnet" and sp.n_atoms == 5
    assert sp.energy_per_atom == pytest.approx(float(direct["e"]), abs=1e-5)
    assert np.allclose(sp.forces, direct["f"], atol=1e-4)
    assert np.abs(np.asarray(sp.forces)).max() > 1e-3
    # CHGNet's own ASE calculator: stress in eV/A^3 from GPa
    from ase.units import GPa

    s_gpa = np.asarray(direct["s"])
    assert np.allclose(sp.stress[:3], np.diag(s_gpa) * GPa, atol=1e-6)


def test_chgnet_computes_only_what_ase_asks(chgnet_direct):
    """MD and fixed-cell NEB ask for forces only: no stress pass; a later stress request computes it."""
    from pymatgen.io.ase import AseAtomsAdaptor

    from perovscreen.potentials.calculators import chgnet_task

    assert chgnet_task(["energy"]) == "e" and chgnet_task(["forces"]) == "ef"
    assert chgnet_task(["energy", "stress"]) == "efs" and chgnet_task(None) == "efsm"
    s = get_example("Li3OCl")
    s.perturb(0.05, min_distance=0.01)
    atoms = AseAtomsAdaptor.get_atoms(s)
    atoms.calc = get_calculator("chgnet")
    f = atoms.get_forces()
    assert "stress" not in atoms.calc.results and "magmoms" not in atoms.calc.results
    direct = chgnet_direct.predict_structure(s, task="efs")
    assert np.allclose(f, direct["f"], atol=1e-4)
    from ase.units import GPa

    assert np.allclose(atoms.get_stress(voigt=False), np.asarray(direct["s"]) * GPa, atol=1e-6)


def test_batched_equals_one_by_one():
    structs = [get_example(n) for n in ("SrTiO3", "Li3OCl", "LiNbO3")]
    one = [single_point(s) for s in structs]
    many = single_points(structs, batch_size=2)
    for a, b in zip(one, many):
        assert a.formula == b.formula
        assert b.energy == pytest.approx(a.energy, abs=1e-4 * a.n_atoms)
        assert np.allclose(a.forces, b.forces, atol=1e-4)
        assert np.allclose(a.stress, b.stress, atol=1e-6)


def test_relax_lowers_energy_and_keeps_cubic_srtio3():
    s = get_example("SrTiO3")
    r = relax(s, "chgnet", fmax=0.05, steps=60, optimizer="FIRE")
    assert r.converged and r.final_energy < r.initial_energy
    assert len(r.trajectory) == r.steps + 1 and r.trajectory[-1]["energy"] == pytest.approx(r.final_energy)
    a, b, c = r.structure.lattice.abc
    assert a == pytest.approx(b, abs=1e-3) and a == pytest.approx(c, abs=1e-3)
    assert np.allclose(r.structure.lattice.angles, 90, atol=0.05)
    assert 3.85 < a < 4.0  # CHGNet (PBE-like) lattice of SrTiO3; experiment 3.905 A
    assert r.structure.get_space_group_info()[1] == 221


def test_bfgs_positions_only_keeps_cell():
    s = get_example("Li3OCl")
    s.perturb(0.05, min_distance=0.01)
    r = relax(s, "chgnet", optimizer="bfgs", relax_cell=False, steps=50)
    assert r.final_volume == pytest.approx(r.initial_volume)
    assert r.final_energy < r.initial_energy


def test_ase_calculator_passthrough():
    calc = EMT()
    assert get_calculator(calc) is calc
    cu = Structure(Lattice.cubic(3.70), ["Cu"] * 4, [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])
    sp = single_point(cu, calc)
    assert sp.backend == "EMT" and np.allclose(sp.forces, 0, atol=1e-8)  # fcc: forces vanish by symmetry
    r = relax(cu, calc, fmax=0.001, steps=200)
    assert r.structure.lattice.a == pytest.approx(3.59, abs=0.02)  # EMT's Cu lattice constant


def test_missing_weight_files_give_clear_errors(tmp_path):
    with pytest.raises(ModelError, match="CHGNet weight file not found"):
        get_calculator("chgnet", model_path=tmp_path / "nope.pth.tar")
    bad = tmp_path / "bad.pth.tar"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match="not a compatible CHGNet checkpoint"):
        get_calculator("chgnet", model_path=bad)
    with pytest.raises(ModelError, match="SevenNet weight file not found"):
        get_calculator("sevenn", model_path=tmp_path / "nope.pth")
    with pytest.raises(ModelError, match="lacks model.json"):
        get_calculator("matgl", model_path=tmp_path)
    with pytest.raises(ModelError, match="unknown potential"):
        get_calculator("mace")


def test_bad_inputs():
    with pytest.raises(InputError, match="optimizer"):
        relax(get_example("SrTiO3"), optimizer="lbfgs-typo")
    with pytest.raises(InputError, match="partial occupancies"):
        single_point(get_example("LLTO_disordered"))


def test_sevenn_bundled_model_matches_direct():
    pytest.importorskip("sevenn")
    from sevenn.calculator import SevenNetCalculator

    from perovscreen.potentials.tasks import to_atoms

    s = get_example("Li3OCl")
    sp = single_point(s, "sevenn", model="7net-0")
    atoms = to_atoms(s)
    atoms.calc = SevenNetCalculator("7net-0", device="cpu")
    assert sp.backend == "sevenn"
    assert sp.energy == pytest.approx(atoms.get_potential_energy(), abs=1e-5)
    # CHGNet learned MP2020-corrected energies (O2-: -0.687, Cl-: -0.614 eV/anion; Wang et al., Sci. Rep. 11,
    # 15496 (2021)), SevenNet raw PBE: per atom of Li3OCl they differ by the corrections / 5 atoms
    diff = sp.energy_per_atom - single_point(s).energy_per_atom
    assert diff == pytest.approx((0.687 + 0.614) / 5, abs=0.03)


def test_backend_load_messages_stay_off_stdout(capsys):
    """CHGNet prints on load; batch commands print JSON lines on stdout, so the layer sends it to stderr."""
    from perovscreen.potentials import calculators

    calculators._chgnet.__wrapped__.cache_clear()
    calculators.get_calculator("chgnet")
    out = capsys.readouterr()
    assert out.out == "" and "CHGNet" in out.err
