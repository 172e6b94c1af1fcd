"""ASE engine: sampling, checkpoint/restart after a kill, settings guard (cheap EMT Cu3Au cell)."""
import os
import time

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT

from md_helpers import kill_after_checkpoint

from perovscreen.core.errors import InputError
from perovscreen.md.engine_ase import MDSettings, RunStopped, run_ase

SETTINGS = dict(time_ps=0.3, equil_ps=0.06, timestep_fs=2.0, sample_fs=10.0, checkpoint_steps=20, mobile="Au")


def cu3au():
    a = bulk("Cu", "fcc", a=3.75, cubic=True).repeat((2, 2, 2))
    for i in range(0, len(a), 4):
        a[i].symbol = "Au"
    return a


def test_sampling_grid_and_thermostat():
    s = MDSettings(**SETTINGS)
    tr = run_ase(cu3au(), EMT(), 500.0, s)
    n_eq, n_prod, every = s.steps
    assert (n_eq, n_prod, every) == (30, 150, 5)
    assert tr.n_frames == n_prod // every + 1 and tr.n_mobile == 8
    assert tr.times_ps[-1] == pytest.approx(0.3)
    assert tr.framework_rmsd[0] == 0.0 and 0 < tr.framework_rmsd[-1] < 1.0  # a vibrating solid
    assert 150 < tr.temperature_series.mean() < 900


def test_stopped_run_resumes_to_identical_result(tmp_path):
    s = MDSettings(**SETTINGS, thermostat="langevin")
    ref = run_ase(cu3au(), EMT(), 600.0, s, tmp_path / "ref")
    with pytest.raises(RunStopped):
        run_ase(cu3au(), EMT(), 600.0, s, tmp_path / "b", stop_after_steps=50)  # mid-equilibration
    with pytest.raises(RunStopped):
        run_ase(cu3au(), EMT(), 600.0, s, tmp_path / "b", stop_after_steps=73)  # mid-production
    tr = run_ase(cu3au(), EMT(), 600.0, s, tmp_path / "b")
    assert tr.n_frames == ref.n_frames
    np.testing.assert_allclose(tr.positions, ref.positions, atol=1e-10)
    np.testing.assert_allclose(tr.framework_rmsd, ref.framework_rmsd, atol=1e-10)
    # a finished run is reused, not rerun
    t0 = time.perf_counter()
    again = run_ase(cu3au(), EMT(), 600.0, s, tmp_path / "b")
    assert time.perf_counter() - t0 < 0.5 and np.array_equal(again.positions, tr.positions)


def test_killed_process_restarts_from_checkpoint_not_zero(tmp_path):
    """SIGKILL a real run after its first checkpoints, then resume: same steps, same (NHC) trajectory."""
    kw = dict(SETTINGS, time_ps=0.6)
    s = MDSettings(**kw)
    ref = run_ase(cu3au(), EMT(), 700.0, s, tmp_path / "ref")
    code = ("import sys; sys.path.insert(0, %r); from tests.md.test_md_engine import cu3au;"
            "from ase.calculators.emt import EMT; from perovscreen.md.engine_ase import MDSettings, run_ase;"
            "run_ase(cu3au(), EMT(), 700.0, MDSettings(**%r), %r)") % (os.getcwd(), kw, str(tmp_path / "k"))
    ckpt = tmp_path / "k" / "checkpoint.npz"
    killed_at = kill_after_checkpoint(code, ckpt, 100)
    assert ckpt.exists() and not (tmp_path / "k" / "trajectory.npz").exists()
    assert 0 < killed_at < sum(s.steps[:2])
    tr = run_ase(cu3au(), EMT(), 700.0, s, tmp_path / "k")
    assert int(np.load(ckpt)["step"]) == sum(s.steps[:2])
    assert tr.n_frames == ref.n_frames
    np.testing.assert_allclose(tr.positions, ref.positions, atol=1e-8)


def test_checkpoint_of_other_settings_is_refused(tmp_path):
    s = MDSettings(**SETTINGS)
    with pytest.raises(RunStopped):
        run_ase(cu3au(), EMT(), 600.0, s, tmp_path, stop_after_steps=25)
    with pytest.raises(InputError, match="other settings"):
        run_ase(cu3au(), EMT(), 650.0, s, tmp_path)


def test_bad_settings_and_missing_mobile_ion():
    with pytest.raises(InputError, match="thermostat"):
        MDSettings(thermostat="berendsen")
    with pytest.raises(InputError, match="no Li"):
        run_ase(cu3au(), EMT(), 300.0, MDSettings(time_ps=0.02, equil_ps=0, sample_fs=2))


def test_production_starts_without_centre_of_mass_momentum():
    """Langevin equilibration (fixcm=False) leaves the cell a net momentum; production removes it once, so
    the whole cell's centre of mass stays put (before the fix it drifted ~0.1 A here, 8 A in 3.5 ps of CHGNet)."""
    atoms = cu3au()
    tr = run_ase(atoms, EMT(), 600.0, MDSettings(**SETTINGS))
    m = atoms.get_masses()
    mob = np.array([a == "Au" for a in atoms.get_chemical_symbols()])
    com = (m[~mob].sum() * tr.framework_com + m[mob][0] * tr.positions.sum(axis=1)) / m.sum()
    assert np.abs(com - com[0]).max() < 1e-6
    assert np.abs(tr.framework_com[-1] - tr.framework_com[0]).max() > 1e-4  # the parts do move
