"""The CHGNet-transfer ensemble member and the weighted ensemble average (hand-computed and exact cases)."""
import numpy as np
import pytest

from perovscreen.ml.gnn.calibrate import fit_calibration, fit_weights
from perovscreen.ml.gnn.predict import combine, weighted
from perovscreen.ml.gnn.transfer import fit_references, fractions


def test_fitted_references_are_exact_when_energies_are_heat_plus_references():
    rng = np.random.default_rng(0)
    x = rng.dirichlet(np.ones(6), size=40)
    mu, heat = rng.normal(-5, 2, 6), rng.normal(1, 0.5, 40)
    assert np.allclose(fit_references(x, heat + x @ mu, heat), mu, atol=1e-10)


def test_fractions_mark_unseen_elements():
    from pymatgen.core import Lattice, Structure

    s = Structure(Lattice.cubic(3.9), ["Sr", "Ti", "O", "O", "O"],
                  [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    x, known = fractions([s], ["O", "Sr", "Ti"])
    assert np.allclose(x, [[0.6, 0.2, 0.2]]) and known.all()
    x, known = fractions([s], ["O", "Ti"])
    assert not known[0] and np.allclose(x, [[0.6, 0.2]])


def test_weighted_mean_and_spread_skip_nan_members():
    x = np.array([[1.0, 2.0], [3.0, np.nan], [5.0, 4.0]])
    m, sd = weighted(x, [0.5, 0.25, 0.25])
    assert m[0] == pytest.approx(0.5 * 1 + 0.25 * 3 + 0.25 * 5)  # 2.5
    assert sd[0] == pytest.approx(np.sqrt(0.5 * 1.5**2 + 0.25 * 0.5**2 + 0.25 * 2.5**2))
    assert m[1] == pytest.approx((0.5 * 2 + 0.25 * 4) / 0.75)  # the NaN member's weight is dropped
    m, sd = weighted(x[[0, 2]])
    assert np.allclose(m, [3, 3]) and np.allclose(sd, [2, 1])  # equal weights = plain mean and std


def test_member_weights_are_fitted_on_validation_errors():
    rng = np.random.default_rng(1)
    y = np.stack([rng.normal(1, 0.5, 300), np.zeros(300)], axis=1)
    good, bad = y[:, 0] + rng.normal(0, 0.01, 300), y[:, 0] + rng.normal(0, 0.3, (3, 300))
    d = np.zeros((4, 300, 3))
    d[0, :, 0], d[1:, :, 0] = good, bad
    d[:, :, 2] = 0.9
    w = fit_weights(d, y, np.array([True, False, False, False]))
    assert w[0] == pytest.approx(1.0) and sum(w) == pytest.approx(1.0)
    d[0, :, 0], d[1:, :, 0] = bad[0], good  # now the networks are the accurate ones: the transfer share goes to 0
    assert fit_weights(d, y, np.array([True, False, False, False]))[0] == pytest.approx(0.0)
    assert fit_weights(d, y, np.zeros(4, bool)) is None  # networks only: equal weights
    d[2:, :, 0] = bad[1:]
    cal = fit_calibration(d, y, weights=[0.0, 1.0, 0.0, 0.0])
    c = combine(d, cal)
    assert np.allclose(c["heat"], good) and cal["weights"][1] == 1.0
    assert np.mean((y[:, 0] >= c["heat_lo"]) & (y[:, 0] <= c["heat_hi"])) >= 0.9


def test_site_roles_and_pooling_keep_a_and_b_sites_apart():
    from perovscreen.ml.gnn.transfer import pool, site_roles
    from perovscreen.structures.examples import get_example

    srtio3 = get_example("SrTiO3")
    assert list(site_roles(srtio3)) == [0, 1, 2, 2, 2]  # Sr (12 O at a/sqrt2) A, Ti (6 O at a/2) B
    distorted = srtio3.copy()
    distorted.translate_sites([0], [0.08, 0.03, 0.0])  # an off-centre A cation, as in relaxed Perov-5 cells
    assert list(site_roles(distorted)) == [0, 1, 2, 2, 2]
    assert set(site_roles(get_example("Li3OCl"))) == {1, 2}  # one cation kind: all B-like (octahedral Li)
    feats = np.arange(15.0).reshape(5, 3)
    z = pool(feats, np.array([0, 1, 2, 2, 2]))
    assert np.allclose(z, [0, 1, 2, 3, 4, 5, 9, 10, 11, 6, 7, 8, 12, 13, 14])  # A, B, anion mean/min/max
    assert np.allclose(pool(feats, np.array([1, 1, 1, 2, 2]))[:3], 0)  # no A-like cation: zeros
