"""OpenMM engine: units (hand pair sum, Madelung), same energy and lattice as LAMMPS, diffusion, kill/restart."""
import dataclasses
import sys

import numpy as np
import pytest
from ase import Atoms
from ase.neighborlist import neighbor_list
from scipy.optimize import minimize_scalar
from md_helpers import kill_after_checkpoint
from test_md_lammps import lammps_energy, lammps_lattice_minimum, li2o, needs_lammps

from perovscreen.core.errors import InputError, ModelError
from perovscreen.md.analysis import analyse
from perovscreen.md.classical import POTENTIALS
from perovscreen.md.engine_ase import MDSettings
from perovscreen.md.engine_openmm import openmm_available

pytestmark = pytest.mark.skipif(not openmm_available(), reason="OpenMM not installed")
TETER = POTENTIALS["buckingham-li2o"]
SHORT = dict(TETER, cutoff=6.0)  # fits a 3x3x3 Li2O cell (13.5 A >= 2 x 6 A)


class Static:
    """OpenMM potential energy (eV) of configurations of one cell shape family."""

    def __init__(self, atoms, pot, device="cpu"):
        import openmm as mm

        from perovscreen.md.engine_openmm import _platform, build_system

        self.mm, self.pot = mm, pot
        system, _ = build_system(atoms, pot, sorted(set(atoms.get_chemical_symbols())))
        platform, props = _platform(device, 1)
        self.ctx = mm.Context(system, mm.VerletIntegrator(0.001), platform, props)

    def energy(self, atoms) -> float:
        from perovscreen.md.engine_openmm import KJMOL, NM, openmm_cell

        cell = openmm_cell(atoms.cell.array)
        self.ctx.setPeriodicBoxVectors(*[self.mm.Vec3(*(v * NM)) for v in cell])
        self.ctx.setPositions(atoms.get_scaled_positions() @ cell * NM)
        return self.ctx.getState(getEnergy=True).getPotentialEnergy()._value / KJMOL


def rattled(a=4.5, n=3, seed=0):
    at = li2o(a, n)
    at.positions += np.random.default_rng(seed).normal(scale=0.1, size=at.positions.shape)
    return at


def test_buckingham_units_against_a_hand_pair_sum():
    pot = dict(SHORT, charges={"Li": 0.0, "O": 0.0})  # Buckingham only
    at = rattled()
    i, j, d = neighbor_list("ijd", at, pot["cutoff"])
    sym = np.array(at.get_chemical_symbols())
    e = 0.0
    for (si, sj), (a, rho, c) in pot["pairs"].items():
        m = ((sym[i] == si) & (sym[j] == sj)) | ((sym[i] == sj) & (sym[j] == si) & (si != sj))
        e += 0.5 * np.sum(a * np.exp(-d[m] / rho) - c / d[m] ** 6)  # each pair appears twice in i, j
    assert Static(at, pot).energy(at) == pytest.approx(e, rel=2e-6)


def test_coulomb_units_against_the_fluorite_madelung_constant():
    """Antifluorite Li2O, charges +0.6/-1.2: E = -M (0.6)^2 e^2/(4 pi eps0 r0) per Li2O, M = 5.03878
    (fluorite, unit charges, r0 = nearest cation-anion distance; 5.04 in wiredchemist.com's table)."""
    pot = dict(SHORT, pairs={("Li", "O"): (0, 1, 0), ("O", "O"): (0, 1, 0), ("Li", "Li"): (0, 1, 0)})
    at = li2o(4.5, 3)
    r0 = np.sqrt(3) / 4 * 4.5
    expected = -5.03878 * 0.36 * 14.3996454784 / r0 * (len(at) / 3)
    assert Static(at, pot).energy(at) == pytest.approx(expected, rel=2e-5)


@needs_lammps
@pytest.mark.parametrize("pot,n", [(SHORT, 3), (TETER, 5)])
def test_same_energy_as_lammps(pot, n, tmp_path):
    at = rattled(n=n)
    e_omm, e_lmp = Static(at, pot).energy(at), lammps_energy(at, pot, tmp_path)
    assert abs(e_omm - e_lmp) / len(at) < 2e-5  # eV/atom; the energy is -4.1 eV/atom


@needs_lammps
def test_static_lattice_minimum_same_as_lammps(tmp_path):
    static = Static(li2o(4.5, 5), TETER)  # 22.5 A cell: the full 10 A cutoff
    res = minimize_scalar(lambda a: static.energy(li2o(a, 5)), bounds=(4.3, 4.7), method="bounded",
                          options={"xatol": 1e-4})
    assert abs(res.x - lammps_lattice_minimum(TETER, tmp_path)) < 0.003


def test_cold_crystal_does_not_diffuse_hot_one_does(tmp_path):
    from perovscreen.md.engine_openmm import run_openmm

    s = MDSettings(time_ps=2.0, equil_ps=0.4, timestep_fs=1.0, sample_fs=20.0, checkpoint_steps=1000)
    s_cold = dataclasses.replace(s, time_ps=1.0)
    cold = analyse(run_openmm(li2o(4.51, 3), SHORT, 300.0, s_cold, tmp_path / "cold", threads=1))
    assert cold.status == "no_diffusion" and cold.D_upper > 0
    tr = run_openmm(li2o(4.51, 3), SHORT, 1500.0, s, tmp_path / "hot", threads=1)
    assert tr.n_frames == 101 and tr.meta["engine"] == "openmm"
    assert abs(tr.temperature_series[len(tr.temperature_series) // 2:].mean() - 1500) < 150
    hot = analyse(tr)
    assert hot.status == "diffusing" and hot.framework_rmsd < 1.0  # superionic Li2O: O sublattice stays
    assert 1e-6 < hot.D.value < 1e-3


def test_killed_openmm_run_restarts_from_its_checkpoint(tmp_path):
    """SIGKILL a real run, resume: same steps; the first frames after the restart follow the uninterrupted
    run to float32 rounding (checkpoint restores positions, velocities, NHC chain), then diverge chaotically."""
    from perovscreen.md.engine_openmm import run_openmm

    kw = dict(time_ps=1.5, equil_ps=0.3, timestep_fs=1.0, sample_fs=20.0, checkpoint_steps=200)
    s = MDSettings(**kw)
    ref = run_openmm(li2o(4.51, 3), SHORT, 1500.0, s, tmp_path / "ref", threads=1)
    code = ("from test_md_lammps import li2o; from perovscreen.md.engine_ase import MDSettings;"
            "from perovscreen.md.classical import POTENTIALS; from perovscreen.md.engine_openmm import run_openmm;"
            f"run_openmm(li2o(4.51, 3), dict(POTENTIALS['buckingham-li2o'], cutoff=6.0), 1500.0, "
            f"MDSettings(**{kw!r}), {str(tmp_path / 'k')!r}, threads=1)")
    killed_at = kill_after_checkpoint(code, tmp_path / "k" / "checkpoint.npz", 600)
    total = sum(s.steps[:2])
    assert 600 <= killed_at < total and not (tmp_path / "k" / "trajectory.npz").exists()
    tr = run_openmm(li2o(4.51, 3), SHORT, 1500.0, s, tmp_path / "k", threads=1)
    assert tr.meta["resumed_from"] == killed_at and int(np.load(tmp_path / "k" / "checkpoint.npz")["step"]) == total
    assert tr.n_frames == ref.n_frames == s.steps[1] // s.steps[2] + 1
    k = (killed_at - s.steps[0]) // s.steps[2] + 1  # frames sampled before the kill
    np.testing.assert_array_equal(tr.positions[:k], ref.positions[:k])
    np.testing.assert_allclose(tr.positions[k:k + 2], ref.positions[k:k + 2], atol=1e-4)


def test_reduced_cell_is_the_same_lattice():
    from ase.cell import Cell

    from perovscreen.md.engine_openmm import openmm_cell

    cell = Cell.fromcellpar([5.15, 5.15, 13.86, 90, 90, 120]).array @ np.array([[1, 0, 0], [1, 1, 0], [0, 2, 1]])
    r = openmm_cell(cell)
    assert np.allclose(np.triu(r, 1), 0) and np.all(np.diag(r) > 0)
    assert r[0, 0] >= 2 * abs(r[1, 0]) - 1e-9 and r[0, 0] >= 2 * abs(r[2, 0]) - 1e-9
    assert r[1, 1] >= 2 * abs(r[2, 1]) - 1e-9
    m = np.linalg.solve(Cell(cell).standard_form()[0].array.T, r.T).T  # r = m @ standard form
    assert np.allclose(m, np.round(m), atol=1e-9) and abs(abs(np.linalg.det(m)) - 1) < 1e-9


def test_clear_errors(tmp_path, monkeypatch):
    from perovscreen.md.engine_openmm import run_openmm
    from perovscreen.md.runner import run_md

    s = MDSettings(time_ps=0.04, equil_ps=0, sample_fs=2)
    with pytest.raises(InputError, match="2 x cutoff"):
        run_openmm(li2o(4.51, 2), "buckingham-li2o", 300.0, s)  # 9 A cell, 10 A cutoff
    with pytest.raises(InputError, match="no parameters for Na"):
        run_openmm(Atoms("Na2O", [[0, 0, 0], [2, 0, 0], [0, 2, 0]], cell=[14] * 3, pbc=True), SHORT, 300.0, s)
    from pymatgen.io.ase import AseAtomsAdaptor

    with pytest.raises(InputError, match="--min-length"):
        run_md(AseAtomsAdaptor.get_structure(li2o(4.61, 1)), [900], s, "buckingham-li2o", "openmm", tmp_path)
    monkeypatch.setitem(sys.modules, "openmm", None)
    with pytest.raises(ModelError, match="pip install openmm"):
        run_openmm(li2o(4.51, 3), SHORT, 300.0, s)
