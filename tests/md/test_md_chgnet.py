"""Real CHGNet MD on cubic Li3OCl: NVE energy conservation, and the md stage end to end (tiny, CI-sized)."""
import json

import numpy as np
import pytest
import torch
from ase import units
from pymatgen.core import Composition
from pymatgen.io.ase import AseAtomsAdaptor

from perovscreen.md.engine_ase import MDSettings, run_ase
from perovscreen.md.runner import AnalysisSettings, MDResult, run_md
from perovscreen.structures.examples import get_example

torch.set_num_threads(1)  # on a shared 2-core machine, 2 torch threads are ~10x slower under load

NVE_BOUND = 1.0  # meV/atom: max |E_tot(t) - E_tot(0)| over 40 fs at dt = 2 fs (measured ~0.1)


def li3ocl_atoms(n):
    s = get_example("Li3OCl")
    s.make_supercell([n, n, n])
    s.remove_oxidation_states()
    return AseAtomsAdaptor.get_atoms(s)


def test_nve_energy_drift_is_bounded():
    from perovscreen.potentials import get_calculator

    atoms = li3ocl_atoms(2)
    s = MDSettings(time_ps=0.04, equil_ps=0, timestep_fs=2.0, sample_fs=2.0, thermostat="nve", seed=1)
    tr = run_ase(atoms, get_calculator("chgnet"), 600.0, s)
    etot = tr.epot_series + 1.5 * len(atoms) * units.kB * tr.temperature_series
    drift = 1000 * np.abs(etot - etot[0]).max() / len(atoms)
    assert drift < NVE_BOUND, drift
    # and the dynamics is not trivial: energy flows between kinetic and potential
    assert 1000 * np.ptp(tr.epot_series) / len(atoms) > 5 * drift


def test_md_stage_end_to_end_on_li3ocl(tmp_path):
    s = MDSettings(time_ps=0.2, equil_ps=0.02, timestep_fs=2.0, sample_fs=10.0, checkpoint_steps=50)
    res = run_md(get_example("Li3OCl"), [1000.0], s, potential="chgnet", workdir=tmp_path, min_length=3.0,
                 analysis=AnalysisSettings(fit_window_ps=(0.02, 0.1)))
    assert not res.failed and len(res.temperatures) == 1
    r = res.temperatures[0]
    assert r.status in ("diffusing", "no_diffusion") and r.n_mobile == 3
    assert r.framework_rmsd < 1.0  # the crystal did not melt in 0.2 ps
    d = json.loads((tmp_path / "md_result.json").read_text())
    assert d["cell"]["supercell"] == [1, 1, 1] and d["provenance"]["params_hash"]
    assert res.identity["potential"] == "chgnet" and d["identity"] == res.identity
    assert json.dumps(MDResult.from_dict(d).to_dict()) == json.dumps(res.to_dict())
    assert (tmp_path / "msd.png").stat().st_size > 1000
    assert res.arrhenius is None and "at least 2" in res.arrhenius_error
    traj = np.load(tmp_path / "T1000K" / "trajectory.npz")
    assert traj["positions"].shape == (21, 3, 3)
    assert 300 < traj["temperature_series"].mean() < 2500


@pytest.mark.slow
def test_li_deficient_li3ocl_two_temperatures_in_parallel(tmp_path):
    s = MDSettings(time_ps=1.0, equil_ps=0.2, timestep_fs=2.0, sample_fs=20.0)
    res = run_md(get_example("Li3OCl"), [900.0, 1300.0], s, workdir=tmp_path, min_length=7.0, vacancies=1, jobs=2)
    assert not res.failed and [r.temperature for r in res.temperatures] == [900.0, 1300.0]
    assert res.cell.vacancies["removed"] == {"Li": 1, "Cl": 1} and res.temperatures[0].n_mobile == 23


def test_li_rich_antiperovskite_model_is_neutral_li3ocl_plus_one_dumbbell():
    from perovscreen.structures.examples import list_examples

    s = get_example("Li3OCl_Li_rich")
    assert s.composition.element_composition == Composition("Li25O9Cl7") and abs(s.charge) < 1e-9 and len(s) == 41
    assert "Li3OCl_Li_rich" not in list_examples()  # a derived model, not a published structure
    li = [i for i, x in enumerate(s) if x.specie.symbol == "Li"]
    d = s.distance_matrix
    np.fill_diagonal(d, np.inf)
    pair = d[np.ix_(li, li)]
    assert pair.min() == pytest.approx(2.0, abs=1e-6)  # the split dumbbell, 2 x 1.0 A along [011]
    i, j = np.unravel_index(np.argmin(pair), pair.shape)
    host = np.delete(np.delete(pair, [i, j], 0), [i, j], 1)
    assert host.min() == pytest.approx(3.909 / 2 ** 0.5, abs=1e-3)  # every other Li pair: the host's Li-Li
