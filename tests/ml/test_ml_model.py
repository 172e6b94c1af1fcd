"""Training table and nested grouped CV on OBELiX: censored rows are never regression targets."""
import numpy as np
import pandas as pd
import pytest

from perovscreen.ml.dataset import obelix_table
from perovscreen.ml.evaluate import cross_validate
from perovscreen.core.results import Estimate, decode
from perovscreen.ml.model import Prediction, PropertyModel


def test_censored_rows_are_not_targets():
    t = obelix_table()
    cen = np.isfinite(t.censor_bound)
    assert cen.sum() == 29
    assert t.Y["log10_sigma"][cen].isna().all()
    assert t.Y["log10_sigma"][~cen].notna().all()
    assert set(np.round(t.censor_bound[cen])) <= {-10.0, -8.0}


def test_nested_cv_quick():
    t = obelix_table()
    feats = list(t.X.columns)
    res = cross_validate(t, ["log10_sigma"], feats, "rf", seeds=(0,), n_estimators=20, inner_splits=3)
    s = res["summary"]
    assert s["model"]["log10_sigma"]["n_rows"] == 449  # every uncensored row scored once, censored never
    assert "censored_point_below_bound" in s["model"]["log10_sigma"]
    assert 0.6 < s["model"]["log10_sigma"]["coverage"]["mean"] <= 1.0
    # the models must beat predicting the training mean
    assert s["model"]["log10_sigma"]["mae"]["mean"] < s["mean"]["log10_sigma"]["mae"]["mean"]
    assert s["magpie_rf"]["log10_sigma"]["mae"]["mean"] < s["mean"]["log10_sigma"]["mae"]["mean"]


def test_prediction_to_dict():
    p = Prediction("x", formula="Li3OCl", predictions={"Ea": Estimate(0.5, 0.3, 0.7, 0.9, "eV", "split-conformal")})
    d = p.to_dict()
    assert d == {"@type": "MLPrediction", "@version": 1, "id": "x", "formula": "Li3OCl", "file": None,
                 "status": "ok", "error": None,
                 "predictions": {"Ea": {"@type": "Estimate", "value": 0.5, "lower": 0.3, "upper": 0.7, "level": 0.9,
                                        "unit": "eV", "method": "split-conformal"}}}
    assert decode(d) == p


def test_bulk_composition_rows_equal_the_typed_path(tmp_path):
    """The 10^6-row serialiser writes what Prediction.to_dict() would (to 6 significant digits); bad
    formulas become error rows and the batch goes on; the same composition written twice has one key."""
    import json

    from perovscreen.features import featurize_compositions
    from perovscreen.features.composition import NAMES
    from perovscreen.ml.predict import composition_rows

    rng = np.random.default_rng(0)
    fs = [f"Li{x:.2f}La{(1 - x) / 1.5:.3f}TiO3" for x in rng.uniform(0.05, 0.5, 40)]
    X = featurize_compositions(fs)
    feats = [n for n in NAMES if np.isfinite(X[:, NAMES.index(n)]).all()][:30] + ["li_frac"]
    m = PropertyModel(feats, n_estimators=10, grid={"max_features": [1.0], "min_samples_leaf": [1],
                                                    "aggregate": ["mean"]})
    m.fit(pd.DataFrame(X, columns=NAMES), pd.DataFrame({"log10_sigma": X[:, NAMES.index("li_frac")] * 10}),
          np.array(fs), ["log10_sigma"])
    entries = [{"id": "a", "formula": "Li3OCl", "file": "f.json"}, {"id": "b", "formula": "LiXx"},
               {"id": "c", "formula": "ClOLi3"}]
    rows = composition_rows(m, {"units": {"log10_sigma": "log10(S/cm)"}}, entries)
    assert rows.errors[0] is None and "unknown element 'Xx'" in rows.errors[1] and rows.results[1] is None
    assert rows.keys[0] == rows.keys[2] != rows.keys[1]
    got = decode(json.loads(rows.lines[0]))
    x = featurize_compositions(["Li3OCl"])[:, [NAMES.index(f) for f in feats]]
    ref = m.predict(x, ids=["a"], formulas=["Li3OCl"], units={"log10_sigma": "log10(S/cm)"})[0]
    e, r = got.predictions["log10_sigma"], ref.predictions["log10_sigma"]
    assert (got.id, got.formula, got.file, e.level, e.unit, e.method) == ("a", "Li3OCl", "f.json", r.level, r.unit,
                                                                           r.method)
    assert (e.value, e.lower, e.upper) == pytest.approx((r.value, r.lower, r.upper), rel=1e-5)


def test_predict_bulk_chunks_equal_single_pass():
    from perovscreen.features import featurize_compositions
    from perovscreen.features.composition import NAMES
    from perovscreen.features.formula import encode_formulas
    from perovscreen.ml.model import PropertyModel
    from perovscreen.ml.predict import predict_bulk

    rng = np.random.default_rng(1)
    fs = [f"Li{x:.2f}La{(1 - x) / 1.5:.3f}TiO3" for x in rng.uniform(0.05, 0.5, 60)] + ["Li3OCl", "Li6PS5Cl"] * 10
    X = featurize_compositions(fs)
    y = X[:, NAMES.index("li_frac")] * 10 + rng.normal(0, 0.1, len(fs))
    feats = [n for n in NAMES if np.isfinite(X[:, NAMES.index(n)]).all()][:40] + ["li_frac"]
    m = PropertyModel(feats, n_estimators=20, grid={"max_features": [1.0], "min_samples_leaf": [1],
                                                    "aggregate": ["median"]})
    m.fit(pd.DataFrame(X, columns=NAMES), pd.DataFrame({"y": y}), np.array(fs), ["y"])
    ref = m.predict_arrays(X[:, [NAMES.index(f) for f in feats]])["y"]
    z, a = encode_formulas(fs)
    for got in (predict_bulk(m, formulas=fs, chunk=7)["y"], predict_bulk(m, z=z, amounts=a, chunk=13)["y"]):
        for g, r in zip(got, ref):
            np.testing.assert_allclose(g, r, rtol=1e-6)


def test_activation_energy_intervals_never_go_below_zero():
    """Ea > 0: every ML Ea interval over the OBELiX training formulas (and the BVSE calibration's lowest
    possible interval) lies in (0, inf): both are fitted on log Ea with conformal intervals in log space."""
    from perovscreen.bvse.calibrate import predict_ea
    from perovscreen.ml.train import train_model

    table = obelix_table(None, structures=False)
    m, _ = train_model(table, ["Ea"], n_estimators=20)
    v, lo, hi = m.predict_arrays(table.X[m.features].to_numpy(np.float32))["Ea"]
    assert (lo > 0).all() and (v >= lo).all() and (hi >= v).all()
    assert m.heads[0]["log_targets"] == ["Ea"]
    ea, _ = predict_ea({"E1D": 0.0, "E2D": 0.0, "E3D": 0.0})  # the smallest barrier gives the lowest interval
    assert ea.lower > 0
