"""Training table and nested grouped CV on OBELiX: censored rows are never regression targets."""
import numpy as np
import pytest

from perovscreen.ml.dataset import obelix_table
from perovscreen.ml.evaluate import cross_validate
from perovscreen.ml.model import Prediction, TargetPrediction


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
    p = Prediction("x", formula="Li3OCl", predictions={"Ea": TargetPrediction(0.5, 0.3, 0.7, 0.9, "eV")})
    d = p.to_dict()
    assert d == {"id": "x", "formula": "Li3OCl", "status": "ok", "error": None,
                 "predictions": {"Ea": {"value": 0.5, "lower": 0.3, "upper": 0.7, "level": 0.9, "unit": "eV"}}}
