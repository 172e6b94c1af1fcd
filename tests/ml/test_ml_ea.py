"""Activation energies: every Ea interval is > 0 (log-space models), over all OBELiX CIFs with Li."""
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from perovscreen.bvse.calibrate import conformal_q, effective_barrier, predict_ea

# BVSE barriers + site statistics of the OBELiX CIFs with Li (0.2 A, calibration settings), made by
# compute_barriers (see docs/bvse.md); a cache so that this test needs no BVSE run
BARRIERS = Path(__file__).parent / "data" / "obelix_bvse_barriers.csv"


def test_conformal_q_finite_sample():
    r = np.arange(1, 10)  # n = 9: ceil(10 * 0.9) = 9th smallest
    assert conformal_q(r, 0.1) == 9
    assert conformal_q(np.arange(1, 20), 0.1) == 18  # n = 19: ceil(20 * 0.9) = 18


def test_bvse_calibration_is_positive_for_every_barrier():
    """log Ea = a + b E_eff: value and 90% interval > 0 for any barrier in [0, cap], interval contains value."""
    for e in np.linspace(0.0, 10.0, 101):
        ea, why = predict_ea({"E1D": e, "E2D": math.inf, "E3D": math.inf})
        assert why is None and 0 < ea.lower < ea.value < ea.upper and ea.level == pytest.approx(0.9)
        assert ea.upper / ea.value == pytest.approx(ea.value / ea.lower, rel=1e-3)  # symmetric in log space
    assert predict_ea({"E1D": math.inf, "E2D": math.inf, "E3D": math.inf}) == (None, "no percolating path")


def test_every_obelix_cif_gets_a_positive_ea_interval():
    bars = pd.read_csv(BARRIERS)
    assert len(bars) >= 240
    n = 0
    for r in bars.to_dict("records"):
        if not math.isfinite(effective_barrier(r)):
            continue  # failed BVSE (named error) or no percolation: no Ea reported
        ea, _ = predict_ea(r)
        assert 0 < ea.lower <= ea.value <= ea.upper
        n += 1
    assert n >= 230


def _obelix_cif_features():
    """Combined-model features of every OBELiX CIF with Li and a percolating barrier, from the cache."""
    import warnings

    from pymatgen.core import Structure

    from perovscreen.data import load_obelix
    from perovscreen.features.composition import NAMES, featurize_compositions
    from perovscreen.ml.ea import CHEAP_STRUCTURE, _cheap_structure, bvse_columns

    df = load_obelix().merge(pd.read_csv(BARRIERS), on="id")
    df = df[[math.isfinite(effective_barrier(r)) for r in df.to_dict("records")]].reset_index(drop=True)
    comp = pd.DataFrame(featurize_compositions(df["formula"]), columns=list(NAMES))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        struct = pd.DataFrame([_cheap_structure(Structure.from_file(p)) for p in df["cif_path"]],
                              columns=list(CHEAP_STRUCTURE))
    bv = pd.DataFrame([bvse_columns(r, r) for r in df.to_dict("records")])
    return pd.concat([comp, struct, bv], axis=1)


def test_combined_ea_model_is_positive_over_every_obelix_cif():
    """The shipped combined model (log Ea): value and 90% interval > 0 for all 235 CIFs it applies to."""
    from perovscreen.ml.ea import load_ea_model, predict_log_model

    X = _obelix_cif_features()
    model, card = load_ea_model()
    assert card["inner_cv_split"] == "cluster" and model.features == card["features"]
    v, lo, hi = predict_log_model(model, X[model.features].to_numpy(np.float32))
    assert len(v) >= 230 and (lo > 0).all() and (lo <= v).all() and (v <= hi).all()
    assert 0.05 < np.median(v) < 1.0  # eV: the range of measured Li-ion activation energies


@pytest.mark.slow
def test_ml_stage_reports_the_combined_ea_for_a_structure(tmp_path):
    """Through the ML stage (as the funnel runs it): an OBELiX CIF gets the combined model's Ea, > 0."""
    from types import SimpleNamespace

    from pymatgen.core import Structure

    from perovscreen.data import load_obelix
    from perovscreen.ml.ea import EA_METHOD
    from perovscreen.ml.stage import ML, run_ml

    row = load_obelix().query("id == 'jqc'").iloc[0]  # a garnet with a 3D BVSE path
    rec = SimpleNamespace(id="jqc", structure=Structure.from_file(row["cif_path"]), file=row["cif_path"])
    p = run_ml(rec, ML.make(cache=str(tmp_path / "cache")))
    ea = p.predictions["Ea"]
    assert ea.method == EA_METHOD and 0 < ea.lower < ea.value < ea.upper and ea.level == pytest.approx(0.9)
    again = run_ml(rec, ML.make(cache=str(tmp_path / "cache")))  # features come back from the cache
    assert again.predictions["Ea"] == ea
