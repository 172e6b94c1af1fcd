"""Li3OCl rigid-ion potential force-matched to CHGNet: the fitting model equals LAMMPS's, forces are the
gradient of the energy, the shipped file loads and its static lattice is a minimum near experiment."""

import json

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from perovscreen.md import forcefit as ff
from perovscreen.md.classical import load_potential
from perovscreen.md.engine_lammps import lammps_available

needs_lammps = pytest.mark.skipif(not lammps_available(), reason="LAMMPS Python module not installed")
SHIPPED = ff.DATA / "li3ocl_chgnet.json"


def lammps_energy_forces(atoms, pot, tmp_path):
    from perovscreen.md.engine_lammps import _import_lammps, _setup

    lmp = _import_lammps()(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    _setup(lmp, atoms, pot, tmp_path / "x.data", sorted(set(atoms.get_chemical_symbols())))
    lmp.command("run 0")
    e = lmp.get_thermo("pe")
    f = np.ctypeslib.as_array(lmp.gather_atoms("f", 1, 3)).reshape(-1, 3).copy()
    lmp.close()
    return e, f


def defect_cell():
    at, _ = ff.schottky(ff.li3ocl(2), seed=0)  # Li23O8Cl7, neutral
    at.rattle(0.05, seed=1)
    return at


@needs_lammps
def test_fitting_model_equals_lammps(tmp_path):
    at = defect_cell()
    coul_only = ff.potential(1.0, {p: (0.0, 1.0, 0.0) for p in ff.PAIRS})
    e_l, f_l = lammps_energy_forces(at, coul_only, tmp_path)
    e, f = ff.ewald_unit(at)
    assert abs(e - e_l) < 1e-5 * abs(e_l) and np.abs(f - f_l).max() < 1e-3
    pot = load_potential(SHIPPED)
    at.calc = ff.RigidIonCalculator(pot)
    e_l, f_l = lammps_energy_forces(at, pot, tmp_path)
    assert abs(at.get_potential_energy() - e_l) < 1e-5 * abs(e_l)
    assert np.abs(at.get_forces() - f_l).max() < 1e-3


def test_forces_are_minus_the_energy_gradient():
    at = defect_cell()
    at.calc = ff.RigidIonCalculator(ff.potential(0.8, {p: ff.X0[p] for p in ff.PAIRS}))
    f = at.get_forces()
    h = 1e-4
    for i, k in [(0, 0), (5, 1), (24, 2), (36, 0)]:  # Li, Li, O, Cl
        e = []
        for sign in (1, -1):
            x = at.copy()
            x.calc = at.calc
            x.positions[i, k] += sign * h
            e.append(x.get_potential_energy())
        assert abs(-(e[0] - e[1]) / (2 * h) - f[i, k]) < 1e-4 + 1e-4 * abs(f[i, k])


def test_shipped_potential_loads_and_is_physical():
    pot = load_potential(SHIPPED)
    d = json.loads(SHIPPED.read_text())
    q = pot["charges"]
    assert q["Li"] > 0 and abs(3 * q["Li"] + q["O"] + q["Cl"]) < 1e-5  # neutral Li3OCl
    assert pot["pairs"][("Li", "Li")][0] == 0.0 and "CHGNet" in pot["citation"]
    assert ff.collapse_free(pot, r_min=1.0)
    m = d["fit_metrics"]["test"]
    assert m["force_r2"] > 0.8 and m["force_mae_eV_A"] < 0.3  # held-out MD frames


@needs_lammps
def test_shipped_lattice_is_a_minimum_near_experiment(tmp_path):
    pot = load_potential(SHIPPED)
    a0 = json.loads(SHIPPED.read_text())["validation"]["a_static_A"]
    energy = lambda a: lammps_energy_forces(ff.li3ocl(2, a), pot, tmp_path)[0]  # noqa: E731
    e0 = energy(a0)
    assert energy(0.99 * a0) > e0 and energy(1.01 * a0) > e0
    res = minimize_scalar(energy, bounds=(0.97 * a0, 1.03 * a0), method="bounded", options={"xatol": 1e-4})
    assert abs(res.x - a0) < 2e-3
    assert abs(a0 - ff.A_EXP) / ff.A_EXP < 0.03  # Li3OCl a = 3.909 A


@pytest.mark.slow
def test_refit_reproduces_shipped_parameters(tmp_path):
    """Refit from the cached CHGNet set (recomputed with CHGNet, ~5 min, when the cache is absent)."""
    ref = ff.reference_set(ff.DATA / "li3ocl_chgnet_refs.npz")
    pot, metrics = ff.fit(ref)
    shipped = load_potential(SHIPPED)
    assert pot["charges"]["Li"] == pytest.approx(shipped["charges"]["Li"], rel=1e-3)
    for p in ff.PAIRS:
        assert np.allclose(pot["pairs"][p], shipped["pairs"][p], rtol=1e-2, atol=1e-2)


@needs_lammps
def test_schottky_doped_li3ocl_diffuses_faster_when_hotter(tmp_path):
    """What the demo relies on: with 4 LiCl Schottky pairs (127 atoms) the Li sublattice diffuses at 600 K
    and 900 K within 40 ps, D rises with T by the factor a ~0.3 eV barrier gives (exp(0.3/kB (1/600-1/900))
    = 6.4), and the O/Cl framework stays crystalline."""
    from perovscreen.md.engine_ase import MDSettings
    from perovscreen.md.runner import run_md
    from perovscreen.structures.examples import get_example

    res = run_md(get_example("Li3OCl"), [600.0, 900.0], MDSettings(time_ps=40, equil_ps=2, timestep_fs=2, sample_fs=50),
                 potential="li3ocl-chgnet", engine="lammps", workdir=tmp_path, vacancies=4, min_length=11.0)
    assert res.cell.n_atoms == 127 and not res.failed
    lo, hi = res.temperatures
    assert lo.status == hi.status == "diffusing"
    assert 2.0 < hi.D.value / lo.D.value < 30.0
    assert max(lo.framework_rmsd, hi.framework_rmsd) < 0.7
    assert 0.05 < res.arrhenius.Ea.value < 0.6
