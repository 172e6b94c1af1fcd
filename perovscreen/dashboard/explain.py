""""Why this prediction": exact tree SHAP (shap.TreeExplainer) for the tree heads (random forest or LightGBM)
of a composition model.

For a random forest, TreeExplainer explains the trees' mean; a head trained with the median aggregate is
explained through that mean (said on the page). The additivity check is off (shap #903, #1986: float32
rounding in sklearn trees trips it); the base value plus the contributions is shown beside the prediction.
A head shrunk toward the training median (w * trees + (1 - w) * median, for compositions outside the training
domain) is explained exactly by scaling the contributions by w and moving the base value to
w * base + (1 - w) * median.
"""
from __future__ import annotations

import numpy as np


def tree_shap(model, formula: str, target: str = "log10_sigma", top: int = 10) -> dict | None:
    """{target, base, prediction, aggregate, contributions: [(feature, value, shap)]} or None."""
    from perovscreen.features.composition import NAMES, featurize_compositions
    from perovscreen.features.formula import encode_formulas

    if any(f not in NAMES for f in model.features):
        return None
    head = next((h for h in model.heads if target in h["targets"]), None)
    if head is None or model.kind not in ("rf", "gbm") or target in head.get("log_targets", ()):
        return None
    import shap

    j = head["targets"].index(target)
    x = featurize_compositions([formula])[:, [NAMES.index(f) for f in model.features]].astype(np.float32)
    est = head["estimator"]
    if model.kind == "gbm" and hasattr(est, "estimators_"):  # one booster per target
        est, j = est.estimators_[j], 0
    ex = shap.TreeExplainer(est)
    sv = np.asarray(ex.shap_values(x, check_additivity=False))
    sv = sv[0, :, j] if sv.ndim == 3 else sv[0]
    base = np.atleast_1d(ex.expected_value)
    base = float(base[j] if len(base) > j else base[0])
    if head.get("shrink") and not np.any(model.in_domain(head, encode_formulas([formula]))):
        # w * trees + (1 - w) * median is still additive: scale the contributions by w
        c = head["shrink"][head["targets"].index(target)]
        w, med = c["weight"], c["median"]
        base, sv = w * base + (1 - w) * med, w * sv
    order = np.argsort(-np.abs(sv))[:top]
    return {"target": target, "base": base, "prediction": base + float(sv.sum()),
            "aggregate": "boosted" if model.kind == "gbm" else head["params"].get("aggregate", "mean"),
            "contributions": [(model.features[i], float(x[0, i]), float(sv[i])) for i in order]}
