"""Conformal intervals: finite-sample quantile and coverage on synthetic data with known noise."""
import numpy as np
import pandas as pd
import pytest

from perovscreen.ml.conformal import calibrate, conformal_quantile, interval
from perovscreen.ml.model import PropertyModel


def test_quantile_finite_sample():
    s = np.arange(1, 20)  # n = 19: ceil(20 * 0.9) = 18th smallest
    assert conformal_quantile(s, 0.1) == 18
    assert conformal_quantile([1.0, 2.0], 0.1) == np.inf  # too few points for a 90% guarantee


def test_absolute_calibration_recovers_gaussian_width():
    rng = np.random.default_rng(0)
    y = rng.normal(0, 0.5, 20000)
    cal = calibrate(y, np.zeros_like(y), None, 0.1)
    lo, hi = interval(np.zeros(1), 0.0, cal)
    assert hi[0] == pytest.approx(1.6449 * 0.5, rel=0.03)  # z(0.95) sigma


@pytest.mark.parametrize("kind", ["rf", "gbm"])
def test_coverage_synthetic_known_noise(kind):
    rng = np.random.default_rng(1)

    def make(n):
        X = rng.uniform(-2, 2, size=(n, 4))
        sigma = np.where(X[:, 1] > 0, 0.6, 0.2)  # heteroscedastic, known
        return X, 2 * np.sin(X[:, 0]) + X[:, 2] + rng.normal(size=n) * sigma

    X, y = make(500)
    Xt, yt = make(5000)
    groups = np.arange(500) // 2
    cols = [f"f{i}" for i in range(4)]
    m = PropertyModel(cols, kind=kind, n_estimators=100, grid={}, seed=0)
    m.fit(pd.DataFrame(X, columns=cols), pd.DataFrame({"y": y}), groups, ["y"])
    v, lo, hi = m.predict_arrays(Xt)["y"]
    cov = ((yt >= lo) & (yt <= hi)).mean()
    assert 0.85 <= cov <= 0.95, cov
    # intervals are no narrower than the irreducible noise allows: 2 * 1.645 * 0.2 at the quiet points
    assert (hi - lo).mean() > 2 * 1.645 * 0.2
