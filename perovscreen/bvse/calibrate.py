"""Linear calibration of BVSE barriers to experimental activation energies (OBELiX training split).

    python -m perovscreen.bvse.calibrate [--root ../shared/data/obelix] [--cache results/bvse_obelix.csv]

Feature: E_eff = the BVSE barrier of the highest percolation dimensionality found (E3D, else E2D, else E1D),
fixed before looking at the data. Model: Ea = a + b * E_eff (Huber loss, robust to mis-assigned Ea rows).
Error: 5-fold GroupKFold grouped by reduced composition; MAE and Spearman of the raw barrier and of the
out-of-fold calibrated prediction, plus the constant-mean baseline. The raw barrier is always kept.
"""
from __future__ import annotations

import argparse
import json
import math
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from perovscreen.core.provenance import provenance

from perovscreen.bvse.settings import DEFAULTS
from perovscreen.core.results import Estimate

CALIBRATION_FILE = Path(__file__).parent / "data" / "calibration.json"
# the settings a calibration is fitted with; a barrier computed with others is not calibrated
CALIBRATED = ("resolution", "cutoff", "screening", "d0_convention", "energy_cap")
DEFAULT_PARAMS = {k: getattr(DEFAULTS, k) for k in CALIBRATED}


def effective_barrier(barriers: dict) -> float:
    for k in ("E3D", "E2D", "E1D"):
        v = float(barriers[k])
        if math.isfinite(v):
            return v
    return math.inf


@lru_cache(maxsize=1)
def _load(path=str(CALIBRATION_FILE)):
    p = Path(path)
    return json.loads(p.read_text()) if p.exists() else None


def predict_ea(barriers: dict, params: dict | None = None) -> tuple[Estimate | None, str | None]:
    """(calibrated Ea as an Estimate with its cross-validated 68% interval, None) or (None, why not):
    no calibration file, no percolating path, or barriers computed with other settings than the fit's."""
    cal = _load()
    if cal is None:
        return None, "no BVSE calibration file"
    used = cal.get("bvse_params", {})
    differ = [f"{k} {params[k]} (calibrated at {used[k]})" for k in CALIBRATED
              if params is not None and k in used and k in params and params[k] != used[k]]
    if params is not None and params.get("tune_screening"):
        differ.append("tuned screening (calibrated at a fixed f)")
    if differ:
        return None, "Ea not calibrated for these BVSE settings: " + ", ".join(differ)
    x = effective_barrier(barriers)
    if not math.isfinite(x):
        return None, "no percolating path"
    y = cal["intercept"] + cal["slope"] * x
    q68 = cal["cv_abs_residual_q68"]
    return Estimate(round(y, 4), round(max(0.0, y - q68), 4), round(y + q68, 4), 0.68, "eV",  # Ea > 0
                    "linear calibration of E_eff, cross-validated absolute-residual quantile"), None


def obelix_rows(root=None) -> pd.DataFrame:
    """Training rows with a CIF that has Li sites and a matched Ea."""
    from perovscreen.data.obelix import load_obelix

    df = load_obelix(root)
    keep = df["cif_path"].notna() & df["cif_has_li"].astype(str).str.lower().eq("true") \
        & df["activation_energy_eV"].notna()
    return df[keep].reset_index(drop=True)


def _composition_group(formula: str) -> str:
    from pymatgen.core import Composition
    try:
        return Composition(formula.replace("[", "(").replace("]", ")")).reduced_formula
    except Exception:  # unparsable formula: its own group
        return formula


def compute_barriers(rows: pd.DataFrame, cache: Path, params=DEFAULT_PARAMS) -> pd.DataFrame:
    """BVSE barriers of every row (cached in a CSV keyed by id; errors recorded, not raised)."""
    from pymatgen.core import Structure
    from perovscreen.bvse.core import compute_bvse
    done = pd.read_csv(cache) if cache.exists() else pd.DataFrame(columns=["id"])
    out = [r for r in done.to_dict("records")]
    seen = set(done["id"])
    for row in rows.itertuples():
        if row.id in seen:
            continue
        rec = {"id": row.id}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                s = Structure.from_file(row.cif_path)
            res = compute_bvse(s, ion="Li", **params)
            rec.update({k: float(v) for k, v in res.barriers.items()})
            rec["seconds"] = sum(res.timings.values())
            rec["error"] = ""
        except Exception as exc:  # recorded per structure, the batch goes on
            rec.update(E1D=np.nan, E2D=np.nan, E3D=np.nan, seconds=np.nan, error=f"{type(exc).__name__}: {exc}")
        out.append(rec)
        cache.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(out).to_csv(cache, index=False)
        print(f"{row.id} {rec.get('E1D')} {rec.get('E3D')} {rec['error']}", flush=True)
    return pd.DataFrame(out)


def cross_validate(x, y, groups, n_splits=5):
    """Out-of-fold calibrated predictions with GroupKFold; returns (pred, metrics)."""
    from scipy.stats import spearmanr
    from sklearn.linear_model import HuberRegressor
    from sklearn.model_selection import GroupKFold
    pred = np.empty_like(y)
    base = np.empty_like(y)
    for tr, te in GroupKFold(n_splits=n_splits).split(x, y, groups):
        m = HuberRegressor().fit(x[tr, None], y[tr])
        pred[te] = m.predict(x[te, None])
        base[te] = np.median(y[tr])
    metrics = {
        "n": int(len(y)), "n_groups": int(len(set(groups))), "folds": n_splits,
        "raw_mae": float(np.mean(np.abs(x - y))), "raw_spearman": float(spearmanr(x, y)[0]),
        "cv_mae": float(np.mean(np.abs(pred - y))), "cv_spearman": float(spearmanr(pred, y)[0]),
        "baseline_median_cv_mae": float(np.mean(np.abs(base - y))),
    }
    return pred, metrics


def fit(rows: pd.DataFrame, bars: pd.DataFrame, params=DEFAULT_PARAMS) -> dict:
    from sklearn.linear_model import HuberRegressor
    d = rows.merge(bars, on="id")
    d["E_eff"] = [effective_barrier({"E1D": a, "E2D": b, "E3D": c}) for a, b, c in zip(d.E1D, d.E2D, d.E3D)]
    ok = np.isfinite(d["E_eff"].to_numpy(float))
    used = d[ok]
    x = used["E_eff"].to_numpy(float)
    y = used["activation_energy_eV"].to_numpy(float)
    groups = np.array([_composition_group(f) for f in used["formula"]])
    pred, metrics = cross_validate(x, y, groups)
    res = np.abs(pred - y)
    m = HuberRegressor().fit(x[:, None], y)
    metrics.update(n_rows_with_ea=int(len(d)), n_failed=int(d["E1D"].isna().sum()),
                   n_no_percolation=int((~ok).sum() - d["E1D"].isna().sum()))
    return {"slope": float(m.coef_[0]), "intercept": float(m.intercept_),
            "cv_abs_residual_q68": float(np.quantile(res, 0.68)),
            "cv_abs_residual_q95": float(np.quantile(res, 0.95)),
            "feature": "E_eff = E3D if finite else E2D if finite else E1D (eV)",
            "bvse_params": params, "metrics": metrics}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=None, help="OBELiX folder (default ../shared/data/obelix)")
    ap.add_argument("--cache", default="results/bvse_obelix.csv", help="per-structure barrier cache (CSV)")
    ap.add_argument("--out", default=str(CALIBRATION_FILE))
    args = ap.parse_args(argv)
    rows = obelix_rows(args.root)
    bars = compute_barriers(rows, Path(args.cache))
    cal = fit(rows, bars)
    cal["provenance"] = provenance(DEFAULT_PARAMS, files=[rows.attrs.get("source_file")] if
                                   rows.attrs.get("source_file") else ())
    cal["data"] = {"dataset": "OBELiX training split (Therrien et al., arXiv:2502.14234, CC-BY-4.0); Ea from "
                   "Laskowski et al. (2023) SI as joined in ../shared/data/obelix", "ids": sorted(rows["id"])}
    Path(args.out).write_text(json.dumps(cal, indent=1))
    print(json.dumps(cal["metrics"], indent=1))
    print(f"Ea = {cal['intercept']:.4f} + {cal['slope']:.4f} * E_eff")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
