"""Linear calibration of BVSE barriers to experimental activation energies (OBELiX training split).

    python -m perovscreen.bvse.calibrate [--root ../shared/data/obelix] [--cache results/bvse_obelix.csv]

Feature: E_eff = the BVSE barrier of the highest percolation dimensionality found (E3D, else E2D, else E1D),
fixed before looking at the data. Model: log Ea = a + b * E_eff (Huber loss, robust to mis-assigned Ea rows),
with a 90% split-conformal interval on log Ea (from grouped out-of-fold residuals), so Ea and both interval
ends are always > 0. Error: 5-fold GroupKFold grouped by reduced composition; MAE, Spearman and interval
coverage of the out-of-fold prediction, plus the training-median baseline. The raw barrier is always kept.
The combined model (barriers + site statistics + composition/structure descriptors) is in perovscreen.ml.ea.
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
METHOD = "bvse-log-linear: log Ea = a + b E_eff, split-conformal interval in log space"
LEVEL = 0.9
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
    """(calibrated Ea as an Estimate with its split-conformal interval, None) or (None, why not): no
    calibration file, no percolating path, or barriers computed with other settings than the fit's. The fit
    is in log space, so the value and both interval ends are > 0."""
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
    mu, q = cal["intercept"] + cal["slope"] * x, cal["q_log"]
    return Estimate(round(math.exp(mu), 4), round(math.exp(mu - q), 4), round(math.exp(mu + q), 4), cal["level"],
                    "eV", METHOD), None


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


SITE_STATS = ("n_sites_0p3", "site_e2", "vol_frac_0p5", "vol_frac_1p0")


def site_statistics(res) -> dict:
    """Site-energy statistics of a BVSE result (energies relative to the global minimum, eV): distinct
    minima within 0.3 eV, the second-lowest minimum, and the grid fraction within 0.5 / 1.0 eV (the volume
    open to Li at those energies)."""
    e = np.sort([m["energy"] for m in res.minima])
    rel = res.energy - res.e_min
    return {"n_sites_0p3": float((e <= 0.3).sum()), "site_e2": float(e[1]) if len(e) > 1 else np.nan,
            "vol_frac_0p5": float((rel <= 0.5).mean()), "vol_frac_1p0": float((rel <= 1.0).mean())}


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
            res = compute_bvse(s, ion="Li", with_paths=False, **params)
            rec.update({k: float(v) for k, v in res.barriers.items()})
            rec.update(site_statistics(res))
            rec["seconds"] = sum(res.timings.values())
            rec["error"] = ""
        except Exception as exc:  # recorded per structure, the batch goes on
            rec.update(E1D=np.nan, E2D=np.nan, E3D=np.nan, seconds=np.nan, **dict.fromkeys(SITE_STATS, np.nan),
                       error=f"{type(exc).__name__}: {exc}")
        out.append(rec)
        cache.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(out).to_csv(cache, index=False)
        print(f"{row.id} {rec.get('E1D')} {rec.get('E3D')} {rec['error']}", flush=True)
    return pd.DataFrame(out)


def conformal_q(abs_residuals, alpha: float) -> float:
    """Finite-sample (1 - alpha) split-conformal quantile: the ceil((n + 1)(1 - alpha))-th smallest."""
    r = np.sort(np.asarray(abs_residuals, float))
    k = math.ceil((len(r) + 1) * (1 - alpha))
    return float(r[min(k, len(r)) - 1])


def _huber(x, logy):
    from sklearn.linear_model import HuberRegressor

    m = HuberRegressor().fit(np.asarray(x, float)[:, None], logy)
    return float(m.intercept_), float(m.coef_[0])


def fit_log_linear(x, y, groups, alpha: float = 1 - LEVEL, n_splits: int = 5) -> dict:
    """log Ea = a + b x (Huber), with the conformal quantile of grouped out-of-fold |log residuals|."""
    from sklearn.model_selection import GroupKFold

    x, logy = np.asarray(x, float), np.log(np.asarray(y, float))
    oof = np.empty_like(logy)
    for tr, te in GroupKFold(n_splits=min(n_splits, len(set(groups)))).split(x, logy, groups):
        a, b = _huber(x[tr], logy[tr])
        oof[te] = a + b * x[te]
    a, b = _huber(x, logy)
    return {"intercept": a, "slope": b, "q_log": conformal_q(np.abs(logy - oof), alpha), "level": 1 - alpha}


def cross_validate(x, y, groups, n_splits=5, alpha: float = 1 - LEVEL):
    """Outer GroupKFold of the log-linear calibration (nested: its interval comes from inner folds);
    returns (pred, metrics) with MAE, Spearman, interval coverage and the training-median baseline."""
    from scipy.stats import spearmanr
    from sklearn.model_selection import GroupKFold
    pred, lo, hi, base = (np.empty_like(y) for _ in range(4))
    for tr, te in GroupKFold(n_splits=n_splits).split(x, y, groups):
        c = fit_log_linear(x[tr], y[tr], groups[tr], alpha)
        mu = c["intercept"] + c["slope"] * x[te]
        pred[te], lo[te], hi[te] = np.exp(mu), np.exp(mu - c["q_log"]), np.exp(mu + c["q_log"])
        base[te] = np.median(y[tr])
    metrics = {
        "n": int(len(y)), "n_groups": int(len(set(groups))), "folds": n_splits,
        "raw_mae": float(np.mean(np.abs(x - y))), "raw_spearman": float(spearmanr(x, y)[0]),
        "cv_mae": float(np.mean(np.abs(pred - y))), "cv_spearman": float(spearmanr(pred, y)[0]),
        "cv_coverage": float(((y >= lo) & (y <= hi)).mean()), "cv_min_lower": float(lo.min()),
        "baseline_median_cv_mae": float(np.mean(np.abs(base - y))),
    }
    return pred, metrics


def fit(rows: pd.DataFrame, bars: pd.DataFrame, params=DEFAULT_PARAMS) -> dict:
    d = rows.merge(bars, on="id")
    d["E_eff"] = [effective_barrier({"E1D": a, "E2D": b, "E3D": c}) for a, b, c in zip(d.E1D, d.E2D, d.E3D)]
    ok = np.isfinite(d["E_eff"].to_numpy(float))
    used = d[ok]
    x = used["E_eff"].to_numpy(float)
    y = used["activation_energy_eV"].to_numpy(float)
    groups = np.array([_composition_group(f) for f in used["formula"]])
    _, metrics = cross_validate(x, y, groups)
    cal = fit_log_linear(x, y, groups)
    metrics.update(n_rows_with_ea=int(len(d)), n_failed=int(d["E1D"].isna().sum()),
                   n_no_percolation=int((~ok).sum() - d["E1D"].isna().sum()))
    return {**cal, "method": METHOD, "feature": "E_eff = E3D if finite else E2D if finite else E1D (eV)",
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
    print(f"log Ea = {cal['intercept']:.4f} + {cal['slope']:.4f} * E_eff, 90% interval x/ exp({cal['q_log']:.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
