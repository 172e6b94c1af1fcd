"""LAMMPS engine, Teter potential, Li2O: lattice, no diffusion cold, diffusion hot, kill/restart."""

import numpy as np
import pytest
from ase.spacegroup import crystal
from scipy.optimize import minimize_scalar

from md_helpers import kill_after_checkpoint

from perovscreen.md.analysis import analyse
from perovscreen.md.classical import POTENTIALS
from perovscreen.md.engine_ase import MDSettings
from perovscreen.md.engine_lammps import lammps_available
from perovscreen.md.trajectory import unwrap

needs_lammps = pytest.mark.skipif(not lammps_available(), reason="LAMMPS Python module not installed")


def li2o(a=4.61, n=2):
    return crystal(["Li", "O"], [(0.25, 0.25, 0.25), (0, 0, 0)], spacegroup=225, cellpar=[a] * 3 + [90] * 3).repeat(n)


def lammps_energy(atoms, pot, tmp_path) -> float:
    from perovscreen.md.engine_lammps import _import_lammps, _setup

    lmp = _import_lammps()(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    _setup(lmp, atoms, pot, tmp_path / "x.data", sorted(set(atoms.get_chemical_symbols())))
    lmp.command("run 0")
    e = lmp.get_thermo("pe")
    lmp.close()
    return e


def lammps_lattice_minimum(pot, tmp_path) -> float:
    res = minimize_scalar(lambda a: lammps_energy(li2o(a), pot, tmp_path), bounds=(4.3, 4.7), method="bounded",
                          options={"xatol": 1e-4})
    return res.x


@needs_lammps
def test_static_lattice_parameter_near_experiment(tmp_path):
    a0 = lammps_lattice_minimum(POTENTIALS["buckingham-li2o"], tmp_path)
    assert abs(a0 - 4.508) < 0.003  # the figure quoted in docs/md.md
    assert abs(a0 - 4.61) / 4.61 < 0.03  # Li2O a = 4.61 A at room temperature


@needs_lammps
def test_cold_crystal_does_not_diffuse_hot_one_does(tmp_path):
    from perovscreen.md.engine_lammps import run_lammps

    s = MDSettings(time_ps=2.0, equil_ps=0.4, timestep_fs=1.0, sample_fs=20.0, checkpoint_steps=1000)
    cold = analyse(run_lammps(li2o(), "buckingham-li2o", 300.0, s, tmp_path / "cold"))
    assert cold.status == "no_diffusion" and cold.D_upper > 0
    tr = run_lammps(li2o(), "buckingham-li2o", 1500.0, s, tmp_path / "hot")
    assert abs(tr.temperature_series[len(tr.temperature_series) // 2:].mean() - 1500) < 150
    hot = analyse(tr)
    assert hot.status == "diffusing" and hot.framework_rmsd < 1.0  # superionic Li2O: O sublattice stays
    assert 1e-6 < hot.D.value < 1e-3 and hot.D.contains(hot.D.value)
    with np.load(tmp_path / "hot" / "checkpoint.npz") as z:
        assert int(z["step"]) == sum(s.steps[:2]) and len(z["state"]) > 1000  # the LAMMPS restart file


@needs_lammps
def test_killed_lammps_run_restarts_from_checkpoint_not_zero(tmp_path):
    kw = dict(time_ps=2.5, equil_ps=0.3, timestep_fs=1.0, sample_fs=20.0, checkpoint_steps=200)
    s = MDSettings(**kw)
    code = ("from test_md_lammps import li2o; from perovscreen.md.engine_ase import MDSettings;"
            "from perovscreen.md.engine_lammps import run_lammps;"
            f"run_lammps(li2o(), 'buckingham-li2o', 1500.0, MDSettings(**{kw!r}), {str(tmp_path)!r})")
    killed_at = kill_after_checkpoint(code, tmp_path / "checkpoint.npz", 600)
    total = sum(s.steps[:2])
    assert 600 <= killed_at < total and not (tmp_path / "trajectory.npz").exists()
    with np.load(tmp_path / "checkpoint.npz") as z:
        before = z["frac"].copy()
    from perovscreen.md.engine_lammps import run_lammps

    tr = run_lammps(li2o(), "buckingham-li2o", 1500.0, s, tmp_path)
    assert tr.meta["resumed_from"] == killed_at and int(np.load(tmp_path / "checkpoint.npz")["step"]) == total
    assert tr.n_frames == s.steps[1] // s.steps[2] + 1 and tr.times_ps[-1] == pytest.approx(2.5)
    # the frames written before the kill are kept, not recomputed
    n_before = len(before)
    assert n_before > 0
    li = np.array(li2o().get_chemical_symbols()) == "Li"
    np.testing.assert_allclose(tr.positions[:n_before], unwrap(before, tr.cell)[:, li], atol=1e-9)
    assert abs(tr.temperature_series[n_before:].mean() - 1500) < 200  # the resumed part is still thermostatted
