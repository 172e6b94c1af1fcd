"""Median shrinkage outside the training domain: the near-duplicate test and the blend, by hand."""
import numpy as np

from perovscreen.features.formula import encode_formulas
from perovscreen.ml.cv import NEAR_DUPLICATE_L1, fraction_vectors
from perovscreen.ml.domain import fraction_matrix, near_duplicates


def test_near_duplicates_equal_the_l1_distance_test():
    train = ["Li3OCl", "LiNbO3", "Li0.33La0.56TiO3", "Li7La3Zr2O12"]
    # the last one repeats O: merged
    query = ["Li3ClO", "Li3.02OCl", "Li2OCl", "NbLiO3", "Li0.34La0.55TiO3", "LiTaO3", "Li6La3Zr2O12", "LiNbO2O"]
    near = near_duplicates(*encode_formulas(query), fraction_matrix(*encode_formulas(train)), NEAR_DUPLICATE_L1)
    V = fraction_vectors(train + query)  # dense L1 over all elements, no overlap identity, no early exit
    d = np.abs(V[len(train):, None] - V[None, :len(train)]).sum(-1).min(1)
    assert near.tolist() == (d <= NEAR_DUPLICATE_L1 + 1e-12).tolist()
    # by hand: Li2OCl is 0.2 away from Li3OCl (|2/4-3/5| + |1/4-1/5| * 2 = 0.1 + 0.1), LiTaO3 0.4 from LiNbO3
    assert near.tolist() == [True, True, False, True, True, False, False, True]


def test_outside_the_domain_the_prediction_is_halfway_to_the_training_median(tiny_ml_model):
    from perovscreen.features.composition import NAMES, featurize_compositions
    from perovscreen.ml.model import _predict_raw
    from perovscreen.ml.train import load_property_model

    model, card = load_property_model(tiny_ml_model)
    head = model.heads[0]
    assert card["shrink"]["weight"] == 0.5 and head["shrink"][0]["weight"] == 0.5
    formulas = ["Li0.33La0.56TiO3", "Li2MgGeO4"]  # in OBELiX / far from it
    X = featurize_compositions(formulas)[:, [NAMES.index(f) for f in model.features]]
    trees = _predict_raw(model.kind, head["estimator"], X.astype(np.float32))[0][:, 0]
    value, lo, hi = model.predict_arrays(X, encode_formulas(formulas))["log10_sigma"]
    median = head["shrink"][0]["median"]
    np.testing.assert_allclose(value, [trees[0], 0.5 * trees[1] + 0.5 * median], rtol=1e-6)
    # without compositions every row is treated as outside (the cautious side)
    np.testing.assert_allclose(model.predict_arrays(X)["log10_sigma"][0], 0.5 * trees + 0.5 * median, rtol=1e-6)
    assert (lo < value).all() and (value < hi).all()
