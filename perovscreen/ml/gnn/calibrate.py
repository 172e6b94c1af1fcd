"""Ensemble calibration on the validation cells of the training split (written to ``calibration.json``).

- Intervals: normalised split-conformal. Score = |ensemble mean - target| / max(member sd, floor); the
  factor is the ceil((n+1) 0.9)/n quantile of the validation scores, so mean +- factor x max(sd, floor)
  holds ~90% of held-out errors even though a few-member spread alone is far too narrow. The floor is the
  one giving the narrowest mean interval (a constant width when the spread does not track the error). The
  gap interval is fitted on the cells called (possibly) non-metal; a cell called metal gets [0, the 90%
  quantile of the gaps of validation cells called metal].
- Member weights: with a CHGNet-transfer member beside networks, its share w of the ensemble average (the
  networks share 1 - w equally) is the grid value (steps of 0.05) with the lowest validation heat MAE.
- Non-metal call: 96% of Perov-5 cells are metals, so the accuracy-optimal call (P(metal) < 0.5) finds almost
  none. The threshold on the ensemble P(metal) is the lowest that recalls ``target_recall`` of the validation
  non-metals; precision at it is reported, and both are re-measured on the untouched test cells.
The validation cells also chose each member's early-stopping epoch; the test cells were used for nothing.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from perovscreen.ml.gnn.predict import (CALIBRATION, Z90, PropertyEnsemble, ensemble_metrics, split_outputs,
                                        weighted)
from perovscreen.ml.gnn.train import METAL_GAP
from perovscreen.ml.gnn.transfer import ARCH

HEAT_FLOOR = 0.01  # eV/atom; a floor on the member sd so that near-identical members still get an interval
GAP_FLOOR = 0.05  # eV


def _conformal_quantile(scores: np.ndarray, level: float) -> float:
    n = len(scores)
    if n == 0:
        return math.nan
    return float(np.quantile(scores, min(1.0, math.ceil((n + 1) * level) / n), method="higher"))


def _fit_scale(err: np.ndarray, sd: np.ndarray, floor: float, level: float) -> tuple[float, float]:
    """(factor, floor) of the narrowest mean interval factor x max(sd, floor) holding ``level`` of ``err``.
    The floors tried run from ``floor`` through quantiles of sd to a constant width (when the member
    spread does not track the error, a constant interval is the narrowest)."""
    best = (math.inf, math.nan, floor)
    for f in sorted({floor, *np.quantile(sd, [0.25, 0.5, 0.75, 0.9]).tolist(), 1e3}):
        scale = np.maximum(sd, max(f, floor))
        k = _conformal_quantile(err / scale, level)
        width = float(np.mean(k * scale))
        if width < best[0]:
            best = (width, k, max(f, floor))
    return best[1], best[2]


def fit_weights(d: np.ndarray, y: np.ndarray, transfer: np.ndarray) -> list[float] | None:
    """Member weights (see the module doc); None (equal weights) unless both kinds of member are present."""
    if transfer.all() or not transfer.any():
        return None
    best = (math.inf, None)
    for share in np.linspace(0, 1, 21):
        w = np.where(transfer, share / transfer.sum(), (1 - share) / (~transfer).sum())
        mae = float(np.nanmean(np.abs(weighted(d[:, :, 0], w)[0] - y[:, 0])))
        if mae < best[0] - 1e-12:
            best = (mae, w)
    return [float(x) for x in best[1]]


def fit_calibration(d: np.ndarray, y: np.ndarray, target_recall: float = 0.9, level: float = 0.9,
                    weights=None) -> dict:
    """Calibration from validation member outputs ``d`` (members, n, 3) and targets ``y`` (n, 2), for members
    averaged with ``weights`` (equal when None)."""
    p = weighted(d[:, :, 2], weights)[0]
    nm = y[:, 1] > METAL_GAP
    ps = np.sort(p[nm])
    t = float(ps[max(math.ceil(target_recall * len(ps)), 1) - 1]) if len(ps) else 0.5
    called = (p <= t) | (p < 0.5)  # the cells whose gap interval reaches the regressed gap (see combine)
    heat, hsd = weighted(d[:, :, 0], weights)
    ok = ~np.isnan(heat)
    heat_scale, heat_floor = _fit_scale(np.abs(heat - y[:, 0])[ok], hsd[ok], HEAT_FLOOR, level)
    gap, gsd = weighted(d[:, called, 1], weights)
    gap_scale, gap_floor = (_fit_scale(np.abs(gap - y[called, 1]), gsd, GAP_FLOOR, level)
                            if called.any() else (Z90, GAP_FLOOR))
    return {"level": level, "weights": weights, "target_recall": target_recall, "nonmetal_threshold": t,
            "heat_scale": heat_scale, "heat_floor": heat_floor, "gap_scale": gap_scale, "gap_floor": gap_floor,
            "metal_gap_upper": _conformal_quantile(y[~called, 1], level) if (~called).any() else 0.0}


def calibrate(model_dir=None, root=None, seed: int = 0, limit: int | None = None, target_recall: float = 0.9,
              level: float = 0.9, log=None) -> dict:
    """Fit on the validation cells, measure on the test cells, write ``<model_dir>/calibration.json``."""
    ens = PropertyEnsemble(model_dir, calibrated=False)
    out = split_outputs(ens, ("val", "test"), root, seed, limit)
    transfer = np.array([n.arch == ARCH for n, _ in ens.members])
    weights = fit_weights(*out["val"], transfer)
    cal = fit_calibration(*out["val"], target_recall=target_recall, level=level, weights=weights)
    cards = [c for _, c in ens.members]
    cal.update({"format": "perovscreen.gnn_calibration/1", "members": sorted(c["sha256"] for c in cards),
                "member_files": sorted(c["model_file"] for c in cards),
                "data_sha256": cards[0].get("data_sha256"), "seed": seed, "limit": limit,
                "command": cards[0].get("command"), "train_elements": out["elements"],
                "validation": ensemble_metrics(*out["val"], cal), "test": ensemble_metrics(*out["test"], cal),
                "test_uncalibrated": ensemble_metrics(*out["test"], None)})
    path = Path(ens.model_dir) / CALIBRATION
    path.write_text(json.dumps(cal, indent=2, sort_keys=True, default=float))
    if log:
        log(f"calibration written to {path}")
    return cal


def summary(cal: dict) -> str:
    """One paragraph of the held-out figures of a calibration."""
    t, u = cal["test"], cal["test_uncalibrated"]
    return (f"test cells {t['n']}: heat MAE {t['heat_mae']:.3f} eV/atom, 90% interval coverage {t['heat_coverage_90']:.2f} "
            f"(uncalibrated spread {u['heat_coverage_90']:.2f}; {cal['heat_scale']:.2f} x max(member sd, "
            f"{cal['heat_floor']:.3f})), "
            f"mean width {t['heat_interval_mean_width']:.3f}; gap coverage {t['gap_coverage_90']:.2f}; non-metal call "
            f"P(metal) <= {cal['nonmetal_threshold']:.3f}: recall {t['nonmetal_recall']:.2f}, precision "
            f"{t['nonmetal_precision']:.2f} (validation {cal['validation']['nonmetal_recall']:.2f} / "
            f"{cal['validation']['nonmetal_precision']:.2f}), AUC {t['nonmetal_auc']:.2f}; accuracy-optimal call: "
            f"recall {u['nonmetal_recall']:.2f}")
