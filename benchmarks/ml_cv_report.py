"""Grouped-CV report of the ML property models against the training-mean and plain magpie + RF baselines.

All methods share the folds (grouped by reduced composition, 5 folds x 3 seeds by default); the model's
hyper-parameters and conformal calibration are chosen inside each training fold (nested CV).
Writes cv_<setting>.json, parity and importance PNGs to --out (default results/ml_report).

    nice python benchmarks/ml_cv_report.py [--quick] [--out DIR]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))  # run from a checkout


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="results/ml_report")
    ap.add_argument("--data", default=None)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="1 seed, 100 trees, log10_sigma only")
    ap.add_argument("--markdown", metavar="JSON", help="only print markdown tables of an existing cv_report.json")
    ap.add_argument("--settings", default="composition_rf,composition_gbm,composition_rf_liverpool,structure_rf,"
                                          "structure_gbm",
                    help="comma-separated subset of the settings")
    args = ap.parse_args(argv)
    if args.markdown:
        from perovscreen.ml.evaluate import markdown_table

        for name, rep in json.loads(Path(args.markdown).read_text()).items():
            print(f"**{name}** ({rep['title'].split(': ', 1)[1]})\n\n{markdown_table(rep['summary'])}\n")
        return 0
    from perovscreen.features.descriptors import DiskCache
    from perovscreen.ml.dataset import obelix_table
    from perovscreen.ml.evaluate import cross_validate, format_table
    from perovscreen.ml.plots import importance_plot, parity_plot
    from perovscreen.ml.train import train_model, usable_features

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    seeds = (0,) if args.quick else tuple(range(args.seeds))
    n_est = 100 if args.quick else None
    all_targets = ["log10_sigma"] if args.quick else ["log10_sigma", "Ea", "n_li_sites"]
    settings = {
        "composition_rf": dict(structures=False, kind="rf", liverpool=False, targets=all_targets),
        "composition_gbm": dict(structures=False, kind="gbm", liverpool=False, targets=all_targets),
        "composition_rf_liverpool": dict(structures=False, kind="rf", liverpool=True, targets=["log10_sigma"]),
        "structure_rf": dict(structures=True, kind="rf", liverpool=False, targets=all_targets),
        "structure_gbm": dict(structures=True, kind="gbm", liverpool=False, targets=all_targets),
    }
    report = {}
    for name in args.settings.split(","):
        cfg = settings[name]
        t0 = time.perf_counter()
        table = obelix_table(args.data, structures=cfg["structures"], cache=DiskCache(),
                             with_liverpool=cfg["liverpool"])
        feats = usable_features(table, cfg["structures"])
        res = cross_validate(table, cfg["targets"], feats, cfg["kind"], seeds=seeds, n_estimators=n_est)
        title = (f"{name}: {int(table.evaluate.sum())} OBELiX rows scored ({len(table.X)} training rows), "
                 f"{len(feats)} features, grouped 5-fold CV x {len(seeds)} seeds, "
                 f"{time.perf_counter() - t0:.0f} s")
        print(format_table(res["summary"], title), "\n", flush=True)
        report[name] = {"title": title, "summary": res["summary"], "folds": res["folds"]}
        for method, per_t in res["oof"].items():
            for t, (y, yhat) in per_t.items():
                if len(y):
                    parity_plot(y, yhat, out / f"parity_{name}_{method}_{t}.png", f"{name} {method} {t}")
        model, _ = train_model(table, ["log10_sigma"], cfg["kind"], cfg["structures"], n_estimators=n_est)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            imp = model.heads[0]["estimator"].feature_importances_
        importance_plot(model.features, imp, out / f"importance_{name}_log10_sigma.png", f"{name} log10_sigma")
        (out / "cv_report.json").write_text(json.dumps(report, indent=1, default=float))  # after each setting
    print(f"wrote {out}/cv_report.json and PNGs", file=sys.stderr)
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
