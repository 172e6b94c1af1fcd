"""Split-conformal intervals from out-of-fold residuals (Vovk et al. 2005; Lei et al., JASA 113, 1094 (2018)).

Scores are |y - yhat| / (s(x) + eps), where s(x) is the spread of the forest's trees (normalised, locally
adaptive) or 1 (absolute). The (1 - alpha) interval is yhat +/- q (s(x) + eps), with q the
ceil((n + 1)(1 - alpha)) / n empirical quantile of the scores. The scores come from grouped out-of-fold
predictions while the deployed model is refitted on all rows (the usual CV approximation); coverage is
therefore measured, not assumed, under outer grouped CV (see perovscreen.ml.cv).
"""
from __future__ import annotations

import math

import numpy as np


def conformal_quantile(scores, alpha: float = 0.1) -> float:
    """Finite-sample-corrected (1 - alpha) quantile of nonconformity scores (inf if n is too small)."""
    s = np.sort(np.asarray(scores, dtype=float)[np.isfinite(scores)])
    n = len(s)
    k = math.ceil((n + 1) * (1 - alpha))
    return float(s[k - 1]) if 0 < k <= n else math.inf


def calibrate(y, yhat, spread=None, alpha: float = 0.1) -> dict:
    """Calibration record {level, q, eps, normalized} from out-of-fold predictions (and spreads)."""
    y, yhat = np.asarray(y, float), np.asarray(yhat, float)
    if spread is None:
        return {"level": 1 - alpha, "q": conformal_quantile(np.abs(y - yhat), alpha), "eps": 1.0,
                "normalized": False}
    spread = np.asarray(spread, float)
    eps = 0.1 * float(np.median(spread)) + 1e-9
    q = conformal_quantile(np.abs(y - yhat) / (spread + eps), alpha)
    return {"level": 1 - alpha, "q": q, "eps": eps, "normalized": True}


def interval(yhat, spread, cal: dict) -> tuple[np.ndarray, np.ndarray]:
    width = cal["q"] * ((np.asarray(spread) if cal["normalized"] else 0.0) + cal["eps"])
    return yhat - width, yhat + width
