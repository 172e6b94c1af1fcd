"""Easy (composition-grouped) vs hard (leave-cluster-out) CV of conductivity models against plain magpie + RF.

For every candidate setting, the same folds (5 x seeds) score the training mean, plain magpie + RF
(scikit-learn defaults, 500 trees) and the perovscreen model (hyper-parameters and conformal calibration
chosen by inner CV on the same grouping). Per seed the out-of-fold MAE is pooled over all rows; the table
gives the mean and the standard deviation over seeds (the seed-to-seed spread), the paired difference
model - baseline per seed, and the 90 % interval coverage.

    nice python benchmarks/ml_hard_split.py [--seeds 3] [--settings default,gbm,...] [--out results/ml_hard_split.json]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from perovscreen.features.composition import MAGPIE_NAMES  # noqa: E402

SETTINGS = {  # name -> (kind, features ('all' = every composition descriptor, 'magpie'), grid or None)
    "default": ("rf", "all", None),
    "gbm": ("gbm", "all", None),
    "rf_magpie": ("rf", "magpie", None),
    "rf_mean": ("rf", "all", {"max_features": [0.33, 1.0], "min_samples_leaf": [1, 3], "aggregate": ["mean"]}),
}


def per_seed(records, method, target="log10_sigma"):
    """{seed: pooled MAE, coverage} from per-fold records."""
    out = {}
    for s in sorted({r["seed"] for r in records}):
        rs = [r for r in records if r["seed"] == s and r["method"] == method and r["target"] == target]
        n = np.array([r["n_test"] for r in rs], float)
        mae = float((np.array([r["mae"] for r in rs]) * n).sum() / n.sum())
        cov = float((np.array([r["coverage"] for r in rs]) * n).sum() / n.sum()) if "coverage" in rs[0] else None
        out[s] = (mae, cov)
    return out


def summarise(records) -> dict:
    base = per_seed(records, "magpie_rf")
    res = {}
    for method in ("mean", "median", "magpie_rf", "model"):
        ps = per_seed(records, method)
        mae = np.array([v[0] for v in ps.values()])
        diff = np.array([ps[s][0] - base[s][0] for s in ps])
        cov = [v[1] for v in ps.values() if v[1] is not None]
        res[method] = {"mae_mean": float(mae.mean()), "mae_sd_seeds": float(mae.std(ddof=1)) if len(mae) > 1 else 0.0,
                       "diff_vs_magpie_rf": float(diff.mean()),
                       "diff_sd_seeds": float(diff.std(ddof=1)) if len(diff) > 1 else 0.0,
                       "coverage90": float(np.mean(cov)) if cov else None, "per_seed": ps}
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=None)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--settings", default="default,gbm")
    ap.add_argument("--splits", default="composition,cluster")
    ap.add_argument("--out", default="results/ml_hard_split.json")
    args = ap.parse_args(argv)
    from perovscreen.ml.dataset import obelix_table
    from perovscreen.ml.evaluate import cross_validate
    from perovscreen.ml.train import usable_features

    table = obelix_table(args.data)
    print(f"{len(table.X)} rows, {len(set(table.groups))} composition groups, {len(set(table.clusters))} clusters "
          f"(largest {np.bincount(table.clusters).max()} rows)", flush=True)
    out = Path(args.out)
    report = json.loads(out.read_text()) if out.exists() else {}
    for name in args.settings.split(","):
        kind, feats, grid = SETTINGS[name]
        features = list(MAGPIE_NAMES) if feats == "magpie" else usable_features(table, False)
        for split in args.splits.split(","):
            t0 = time.perf_counter()
            cv = cross_validate(table, ["log10_sigma"], features, kind, seeds=tuple(range(args.seeds)), split=split,
                                grid=grid)
            s = summarise(cv["folds"])
            report[f"{name}/{split}"] = s
            m, b = s["model"], s["magpie_rf"]
            print(f"{name:<10}{split:<12} model {m['mae_mean']:.3f}+-{m['mae_sd_seeds']:.3f}  magpie_rf "
                  f"{b['mae_mean']:.3f}+-{b['mae_sd_seeds']:.3f}  diff {m['diff_vs_magpie_rf']:+.3f}+-"
                  f"{m['diff_sd_seeds']:.3f}  cov90 {m['coverage90']:.3f}  mean {s['mean']['mae_mean']:.3f}  "
                  f"median {s['median']['mae_mean']:.3f}  "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(report, indent=1, default=str))
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
