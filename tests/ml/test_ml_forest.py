"""Compiled forest inference equals scikit-learn, including NaN routing, multi-output and the median."""
import numpy as np
from sklearn.ensemble import RandomForestRegressor

from perovscreen.ml.forest import forest_predict


def test_compiled_forest_matches_sklearn():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 12)).astype(np.float32)
    X[rng.random(X.shape) < 0.1] = np.nan
    y = np.nan_to_num(X[:, 0]) * 2 + rng.normal(size=300)
    Xt = rng.normal(size=(2000, 12)).astype(np.float32)
    Xt[rng.random(Xt.shape) < 0.2] = np.nan
    for Y in (y, np.column_stack([y, 1 - y])):
        rf = RandomForestRegressor(30, random_state=0, n_jobs=1).fit(X, Y)
        per = np.stack([t.predict(Xt).reshape(len(Xt), -1) for t in rf.estimators_])
        mean, std = forest_predict(rf, Xt)
        np.testing.assert_array_equal(mean, rf.predict(Xt).reshape(len(Xt), -1))
        np.testing.assert_allclose(std, per.std(0), atol=1e-10)
        np.testing.assert_array_equal(forest_predict(rf, Xt, "median")[0], np.median(per, 0))
