"""Counterfactuals: the linear-model known answer and chemical validity of every answer."""
import numpy as np

from perovscreen.dashboard.counterfactual import (DEFAULT_SITES, assign_sites, check, find_counterfactuals,
                                                  formula_of, neighbours, smact_valid)

W = {"Li": 0.0, "La": 0.1, "Sr": 0.05, "Ti": 0.0, "Zr": 0.8, "Hf": 0.6, "Sn": 0.3, "Nb": 0.2, "Ta": 0.25, "O": 0.0}


def _linear(formulas):
    from pymatgen.core import Composition

    y = np.array([sum(W.get(el.symbol, -1.0) * float(x) for el, x in Composition(f).items()) for f in formulas])
    return {"log10_sigma": (y, y - 0.01, y + 0.01)}


def test_linear_model_gives_the_single_best_substitution():
    base = "Li0.5La0.5TiO3"
    y0 = _linear([base])["log10_sigma"][0][0]
    others = tuple(np.array([[x]]) for x in (y0 + 0.5, y0 + 0.5, y0 + 0.5, 0.9))  # one rival, ahead by 0.5
    own = {"ml:log10_sigma": (y0, y0 - .01, y0 + .01, 0.9)}
    cfs, _ = find_counterfactuals(base, _linear, ["ml:log10_sigma"], [True], own, others)
    assert cfs and cfs[0].n_subs == 1
    # brute force over valid single substitutions: the largest predicted gain that crosses the rival
    sites = assign_sites(base)
    one = [(formula_of(s), subs) for s, subs in neighbours(sites, DEFAULT_SITES["ABX3"], 0.25, 1)
           if check(s)["valid"] and "Li" in formula_of(s)]
    ys = _linear([f for f, _ in one])["log10_sigma"][0]
    best = one[int(np.argmax(ys))]
    assert ys.max() > y0 + 0.5
    assert cfs[0].formula == best[0] and cfs[0].substitutions == best[1]


def test_every_counterfactual_is_neutral_and_smact_valid():
    for base in ("Li0.5La0.5TiO3", "Li3OCl", "LiNbO3"):
        y0 = _linear([base])["log10_sigma"][0][0]
        others = tuple(np.array([[x]]) for x in (y0 + 0.05, y0 + 0.05, y0 + 0.05, 0.9))
        own = {"ml:log10_sigma": (y0, y0 - .01, y0 + .01, 0.9)}
        cfs, _ = find_counterfactuals(base, _linear, ["ml:log10_sigma"], [True], own, others, limit=50)
        for cf in cfs:
            info = check(assign_sites(cf.formula))
            assert info["neutral"] and info["tolerance"] and smact_valid(cf.formula), cf.formula
            assert cf.p_front > 0.5


def test_tree_shap_adds_up_to_the_lightgbm_prediction(tiny_ml_model):
    """Exact tree SHAP: base value + contributions = the booster's own prediction (local accuracy)."""
    from perovscreen.dashboard.explain import tree_shap
    from perovscreen.features.composition import NAMES, featurize_compositions
    from perovscreen.ml.train import load_property_model

    from perovscreen.features.formula import encode_formulas

    model = load_property_model(tiny_ml_model)[0]
    # a training composition (trees alone) and one far from OBELiX (shrunk halfway to the training median)
    for formula, inside in (("Li0.33La0.56TiO3", True), ("Li2MgGeO4", False)):
        info = tree_shap(model, formula, top=1000)
        x = featurize_compositions([formula])[:, [NAMES.index(f) for f in model.features]]
        assert bool(model.in_domain(model.heads[0], encode_formulas([formula]))[0]) == inside
        value = model.predict_arrays(x, encode_formulas([formula]))["log10_sigma"][0][0]
        assert model.kind == "gbm" and info["aggregate"] == "boosted"
        assert abs(info["prediction"] - value) < 1e-3
        assert abs(info["base"] + sum(s for _, _, s in info["contributions"]) - value) < 1e-3
