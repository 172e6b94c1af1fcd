"""Activation-energy models on the OBELiX rows with a measured Ea and a Li-containing CIF.

Ea is positive and its errors scale with it, so every model here is fitted on log(Ea) and its
split-conformal interval is built in log space: exp(log Ea_hat -/+ q) is always > 0 and keeps the
coverage measured in log space (exp is monotonic). Methods compared in the same grouped folds:

- median: the training-fold median;
- bvse: the BVSE-only calibration (perovscreen.bvse.calibrate: log Ea = a + b E_eff, Huber);
- ml: random forest on the composition descriptors (the shipped conductivity model's descriptor set);
- combined: random forest on the composition descriptors + cheap structure descriptors + the BVSE barriers
  (E1D, E2D, E3D, E_eff) and site-energy statistics (perovscreen.bvse.calibrate.SITE_STATS).

    python -m perovscreen.ml.ea [--cache results/bvse_obelix.csv] [--seeds 3] [--json out.json]
    python -m perovscreen.ml.ea --train perovscreen/ml/data/ea_combined.skops   # the shipped model

The combined model won on both splits (docs/ml.md, "Activation energy"), so it is shipped and the ML stage
reports it as the `Ea` of every structure it can run BVSE on (`predict_ea_structure`); compositions without
a structure keep the composition model's Ea.
"""
from __future__ import annotations

import argparse
import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from perovscreen.bvse.calibrate import (DEFAULT_PARAMS, SITE_STATS, compute_barriers, effective_barrier,
                                        fit_log_linear, obelix_rows, site_statistics)
from perovscreen.core.errors import InputError
from perovscreen.core.results import Estimate
from perovscreen.features.composition import NAMES as COMPOSITION_NAMES, featurize_compositions
from perovscreen.features.structure import NAMES as STRUCTURE_NAMES, structure_descriptors
from perovscreen.ml.cv import cluster_labels, grouped_folds, metrics
from perovscreen.ml.dataset import composition_group
from perovscreen.ml.model import FORMAT, PropertyModel

BVSE_NAMES = ("E1D", "E2D", "E3D", "E_eff") + SITE_STATS
SHIPPED_EA = Path(__file__).parent / "data" / "ea_combined.skops"
EA_METHOD = "ea-combined: forest on log Ea (BVSE barriers + site energies + composition + structure), " \
            "split-conformal in log space"
CHEAP_STRUCTURE = tuple(n for n in STRUCTURE_NAMES if not n.startswith("s_bvse"))
ENERGY_CAP = 10.0  # a non-percolating dimension is placed at the BVSE energy cap (eV)
METHODS = ("median", "bvse", "ml", "combined")


@dataclass
class EaTable:
    X: pd.DataFrame
    y: np.ndarray  # Ea (eV)
    groups: np.ndarray
    clusters: np.ndarray
    ids: list
    formulas: list


def bvse_columns(barriers: dict, stats: dict) -> dict:
    """BVSE feature values: barriers (inf -> energy cap), E_eff and the site-energy statistics."""
    e = {k: min(float(barriers[k]), ENERGY_CAP) for k in ("E1D", "E2D", "E3D")}
    eff = effective_barrier(barriers)
    return {**e, "E_eff": min(eff, ENERGY_CAP), **{k: float(stats.get(k, math.nan)) for k in SITE_STATS}}


def _cheap_structure(structure) -> list[float]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = structure_descriptors(structure, bvse=False)
    except (InputError, ValueError):  # e.g. no charge-balanced oxidation states: NaN (the forest handles it)
        s = {}
    return [s.get(k, math.nan) for k in CHEAP_STRUCTURE]


def ea_table(root=None, cache="results/bvse_obelix.csv") -> EaTable:
    """OBELiX rows with Ea, a Li CIF and a percolating BVSE barrier (barriers cached in `cache`)."""
    from pymatgen.core import Structure

    rows = obelix_rows(root)
    bars = compute_barriers(rows, Path(cache))
    d = rows.merge(bars, on="id")
    d = d[[math.isfinite(effective_barrier(r)) for r in d[["E1D", "E2D", "E3D"]].to_dict("records")]]
    d = d.reset_index(drop=True)
    comp = pd.DataFrame(featurize_compositions(d["formula"]), columns=list(COMPOSITION_NAMES))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        struct = pd.DataFrame([_cheap_structure(Structure.from_file(p)) for p in d["cif_path"]],
                              columns=list(CHEAP_STRUCTURE))
    bv = pd.DataFrame([bvse_columns(r, r) for r in d.to_dict("records")])[list(BVSE_NAMES)]
    X = pd.concat([comp, struct, bv], axis=1)
    return EaTable(X, d["activation_energy_eV"].to_numpy(float), np.array([composition_group(f) for f in d["formula"]]),
                   cluster_labels(d["formula"], d["doi"]), d["id"].tolist(), d["formula"].tolist())


def feature_set(method: str) -> list[str]:
    if method == "ml":
        return list(COMPOSITION_NAMES)
    if method == "combined":
        return list(COMPOSITION_NAMES) + list(CHEAP_STRUCTURE) + list(BVSE_NAMES)
    raise ValueError(method)


def fit_model(X: pd.DataFrame, y, groups, method: str = "combined", seed: int = 0, alpha: float = 0.1,
              n_estimators: int | None = None) -> PropertyModel:
    """PropertyModel on log Ea (target 'log_Ea'), tuned and calibrated by grouped inner CV on `groups`."""
    m = PropertyModel(feature_set(method), kind="rf", seed=seed, alpha=alpha, n_estimators=n_estimators)
    m.fit(X, pd.DataFrame({"log_Ea": np.log(np.asarray(y, float))}), np.asarray(groups), ["log_Ea"])
    return m


def predict_log_model(model: PropertyModel, X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Ea, lower, upper) in eV: exp of the log-space prediction and conformal interval (all > 0)."""
    v, lo, hi = model.predict_arrays(X)["log_Ea"]
    return np.exp(v), np.exp(lo), np.exp(hi)


def _bvse_fold(X, y, groups, tr, te, alpha):
    e = X["E_eff"].to_numpy(float)
    cal = fit_log_linear(e[tr], y[tr], groups[tr], alpha)
    mu = cal["intercept"] + cal["slope"] * e[te]
    return np.exp(mu), np.exp(mu - cal["q_log"]), np.exp(mu + cal["q_log"])


def cross_validate(t: EaTable, split: str = "composition", seeds=(0, 1, 2), n_splits: int = 5,
                   alpha: float = 0.1, methods=METHODS) -> dict:
    """{method: {"per_seed": [{mae, spearman, coverage, width, min_lower}], "mae", "mae_sd", ...}}."""
    groups = t.groups if split == "composition" else t.clusters
    out = {m: [] for m in methods}
    for seed in seeds:
        pred = {m: [np.empty(len(t.y)) for _ in range(3)] for m in methods}
        for tr, te in grouped_folds(groups, n_splits, seed):
            for m in methods:
                if m == "median":
                    v = np.full(len(te), np.median(t.y[tr]))
                    lo = hi = np.full(len(te), np.nan)
                elif m == "bvse":
                    v, lo, hi = _bvse_fold(t.X, t.y, groups, tr, te, alpha)
                else:
                    model = fit_model(t.X.iloc[tr], t.y[tr], groups[tr], m, seed, alpha)
                    v, lo, hi = predict_log_model(model, t.X.iloc[te])
                for arr, val in zip(pred[m], (v, lo, hi)):
                    arr[te] = val
        for m in methods:
            v, lo, hi = pred[m]
            rec = metrics(t.y, v)
            if np.isfinite(lo).all():
                rec.update(coverage=float(((t.y >= lo) & (t.y <= hi)).mean()), width=float(np.median(hi - lo)),
                           min_lower=float(lo.min()))
            out[m].append(rec)
    summary = {}
    for m, recs in out.items():
        s = {"per_seed": recs}
        for k in ("mae", "spearman", "coverage", "width", "min_lower"):
            vals = [r[k] for r in recs if k in r]
            if vals:
                s[k] = float(np.mean(vals) if k != "min_lower" else np.min(vals))
                s[k + "_sd"] = float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0
        summary[m] = s
    return summary


def train_ea_model(out=SHIPPED_EA, root=None, cache="results/bvse_obelix.csv", cv: dict | None = None) -> Path:
    """Fit the combined model on every row (inner CV by leave-cluster-out groups) and save it with its card."""
    import shlex
    import sys

    from perovscreen.core.provenance import provenance
    from perovscreen.ml.cards import save_model

    t = ea_table(root, cache)
    model = fit_model(t.X, t.y, t.clusters, "combined")
    h = model.heads[0]
    card = {"name": "perovscreen-ea-combined-rf", "model_format": FORMAT, "targets": model.targets,
            "units": {"log_Ea": "ln(eV)"}, "features": model.features, "method": EA_METHOD,
            "bvse_params": DEFAULT_PARAMS, "energy_cap_feature": ENERGY_CAP, "inner_cv_split": "cluster",
            "training_data": {"rows": len(t.y), "ids_sha256": _ids_hash(t.ids), "bvse_cache": str(cache)},
            "heads": [{k: h[k] for k in ("targets", "params", "calibration", "n_train", "inner_cv_mae")}],
            "cv": cv, "training_command": "python -m perovscreen.ml.ea " + shlex.join(sys.argv[1:]),
            "provenance": provenance({"method": "combined", **DEFAULT_PARAMS})}
    return save_model(model.to_state(), out, card)


def _ids_hash(ids) -> str:
    import hashlib

    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()


_EA_MODEL: dict = {}


def load_ea_model(path=SHIPPED_EA) -> tuple[PropertyModel, dict]:
    """The combined Ea model (verified against its card), loaded once per process."""
    from perovscreen.ml.cards import load_model

    key = str(path)
    if key not in _EA_MODEL:
        state, card = load_model(path, expect={"model_format": FORMAT})
        _EA_MODEL[key] = (PropertyModel.from_state(state), card)
    return _EA_MODEL[key]


def ea_features(structure, cache=None) -> dict | None:
    """Feature values of one structure for the combined model (BVSE at the calibration's settings, cached
    in `cache` when given); None when BVSE finds no percolating path or cannot run (e.g. missing softBV
    parameters, no Li)."""
    from perovscreen.bvse.core import compute_bvse
    from perovscreen.features.descriptors import formula_of, structure_key

    key = structure_key(structure, {"ea_features": 1, **DEFAULT_PARAMS})
    hit = cache.get(key) if cache is not None else None
    if isinstance(hit, dict) and "E_eff" in hit:
        return hit if math.isfinite(hit["E_eff"]) else None
    try:
        res = compute_bvse(structure, ion="Li", with_paths=False, **DEFAULT_PARAMS)
    except (InputError, ValueError):  # e.g. no softBV pair, no charge balance: the composition Ea stays
        return None
    comp = featurize_compositions([formula_of(structure)])[0]
    feats = {**dict(zip(COMPOSITION_NAMES, map(float, comp))),
             **dict(zip(CHEAP_STRUCTURE, _cheap_structure(structure))),
             **bvse_columns(res.barriers, site_statistics(res))}
    feats["E_eff"] = feats["E_eff"] if math.isfinite(effective_barrier(res.barriers)) else math.nan
    if cache is not None:
        cache.put(key, feats)
    return feats if math.isfinite(feats["E_eff"]) else None


def predict_ea_structure(structure, cache=None, path=SHIPPED_EA) -> Estimate | None:
    """Combined-model Ea (eV) of a structure with its 90% interval (> 0), or None where it does not apply."""
    if not any(el.symbol == "Li" for el in structure.composition.elements):
        return None
    feats = ea_features(structure, cache)
    if feats is None:
        return None
    model, _ = load_ea_model(path)
    X = np.array([[feats.get(f, math.nan) for f in model.features]], dtype=np.float32)
    v, lo, hi = predict_log_model(model, X)
    return Estimate(float(v[0]), float(lo[0]), float(hi[0]), round(1 - model.alpha, 6), "eV", EA_METHOD)


def markdown(results: dict, n: int) -> str:
    lines = ["| split | method | MAE (eV) | Spearman | 90% coverage | median width (eV) | lowest lower end (eV) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for split, summ in results.items():
        for m, s in summ.items():
            cov = f"{s['coverage']:.3f}" if "coverage" in s else "-"
            wid = f"{s['width']:.2f}" if "width" in s else "-"
            low = f"{s['min_lower']:.3f}" if "min_lower" in s else "-"
            lines.append(f"| {split} | {m} | {s['mae']:.3f} +- {s['mae_sd']:.3f} | {s['spearman']:.3f} +- "
                         f"{s['spearman_sd']:.3f} | {cov} | {wid} | {low} |")
    return f"{n} rows; mean +- sd over seeds\n\n" + "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=None)
    ap.add_argument("--cache", default="results/bvse_obelix.csv")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--json", default=None)
    ap.add_argument("--train", metavar="OUT", default=None,
                    help="fit the combined model on all rows and write OUT (.skops + card); CV from --json if given")
    args = ap.parse_args(argv)
    if args.train:
        cv = json.loads(Path(args.json).read_text()) if args.json and Path(args.json).exists() else None
        print(train_ea_model(args.train, args.root, args.cache, cv))
        return 0
    t = ea_table(args.root, args.cache)
    res = {split: cross_validate(t, split, tuple(range(args.seeds))) for split in ("composition", "cluster")}
    print(markdown(res, len(t.y)))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
