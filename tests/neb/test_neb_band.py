"""Known answers of the band itself, on analytic one-atom potentials (no materials code involved)."""
import numpy as np
import pytest
from ase.constraints import FixCartesian

from model_potentials import MuellerBrown, SinSquared, one_atom

from perovscreen.neb.band import run_band, run_bands


@pytest.mark.parametrize("n_images", [3, 4])
def test_sin_squared_barrier_exact_and_climbing_image_at_half_period(n_images):
    eb, a = 0.3, 3.0
    r = run_band(one_atom(0.0), one_atom(a), SinSquared(eb, a), n_images=n_images, fmax=1e-3, steps=500)
    assert r.converged
    assert r.forward_barrier == pytest.approx(eb, abs=1e-3 * eb)
    assert r.reverse_barrier == pytest.approx(eb, abs=1e-3 * eb)
    assert r.positions[r.climbing_image][0][0] == pytest.approx(a / 2, abs=0.01 * a)
    # an even number of images puts none at a/2: only the climbing image gets there
    assert r.spline["used"] and r.spline["s"] == pytest.approx(0.5, abs=0.01)


def test_mueller_brown_climbs_to_the_higher_saddle():
    """From minimum A to minimum B the MEP crosses two saddles (-40.66 at (-0.822, 0.624) and -72.25); the
    climbing image must sit on the higher one."""
    fz = FixCartesian(0, mask=(False, False, True))
    start, end = one_atom(-0.558, 1.442, pbc=False), one_atom(0.623, 0.028, pbc=False)
    start.set_constraint(fz)
    r = run_band(start, end, MuellerBrown(), n_images=7, fmax=0.05, steps=2000)
    assert r.converged
    assert r.energies[r.climbing_image] == pytest.approx(-40.66, abs=0.01)
    np.testing.assert_allclose(r.positions[r.climbing_image][0][:2], [-0.822, 0.624], atol=5e-3)
    assert r.energies[0] == pytest.approx(-146.70, abs=0.01) and r.energies[-1] == pytest.approx(-108.17, abs=0.01)
    assert all(p[0][2] == 0.0 for p in r.positions)  # z frozen
    assert r.forward_barrier == pytest.approx(-40.66 + 146.70, abs=0.02)


def test_batch_refuses_bad_endpoints_and_goes_on():
    calc = SinSquared(0.3, 3.0)
    two = one_atom(3.0) + one_atom(6.0)
    rows = run_bands([(one_atom(0.0), two), (one_atom(0.0), one_atom(3.0))], calc, n_images=3, fmax=0.01)
    assert rows[0]["status"] == "error" and "atom count: 1 vs 2" in rows[0]["error"]
    assert rows[1]["status"] == "ok" and rows[1]["result"].forward_barrier == pytest.approx(0.3, rel=1e-2)


def test_seed_band_is_used_as_start():
    calc = SinSquared(0.3, 3.0)
    first = run_band(one_atom(0.0), one_atom(3.0), calc, n_images=3, fmax=1e-3)
    again = run_band(one_atom(0.0), one_atom(3.0), calc, n_images=3, fmax=1e-3, seed=first)
    assert again.settings["interpolation"] == "seed" and again.steps <= 1
    assert again.forward_barrier == pytest.approx(first.forward_barrier, abs=1e-6)
