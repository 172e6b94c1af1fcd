"""Outer grouped CV of PropertyModels against the training-mean and plain magpie + RF baselines.

All methods see the same folds. Hyper-parameters and conformal calibration are chosen inside each
training fold (nested), so the outer scores and interval coverage are honest held-out estimates.
Censored rows (upper bounds) are never scored as regression targets; for them we report how often the
prediction (and the interval's lower end) respects the bound.
"""
from __future__ import annotations

import numpy as np

from perovscreen.features.composition import MAGPIE_NAMES
from perovscreen.ml.cv import grouped_folds, metrics, summarize
from perovscreen.ml.dataset import TrainingTable
from perovscreen.features.formula import encode_formulas
from perovscreen.ml.model import SHRINK, PropertyModel, make_estimator

BASELINE_TREES = 500  # plain magpie + RF baseline: scikit-learn defaults except 500 trees (issue 13)


def _fit_predict(method: str, table: TrainingTable, tr, te, targets, features, seed, kind, multi_output,
                 n_estimators, inner_splits, groups, comps, grid=None, shrink=SHRINK):
    """{target: (value, lower|None, upper|None)} on rows te; comps: every row's encoded composition (z, a)."""
    Y = table.Y
    if method in ("mean", "median"):  # the best constants under squared and absolute error
        stat = np.nanmean if method == "mean" else np.nanmedian
        return {t: (np.full(len(te), stat(Y[t].to_numpy()[tr])), None, None) for t in targets}
    if method == "magpie_rf":
        out = {}
        Xm = table.X[list(MAGPIE_NAMES)].to_numpy(np.float32)
        for t in targets:
            y = Y[t].to_numpy()[tr]
            ok = np.isfinite(y)
            est = make_estimator("rf", {}, seed, BASELINE_TREES).fit(Xm[tr][ok], y[ok])
            out[t] = (est.predict(Xm[te]), None, None)
        return out
    m = PropertyModel(features, kind=kind, seed=seed, n_estimators=n_estimators, inner_splits=inner_splits, grid=grid,
                      shrink=shrink)
    z, a = comps
    m.fit(table.X.iloc[tr], Y.iloc[tr], groups[tr], targets, multi_output=multi_output, compositions=(z[tr], a[tr]))
    return m.predict_arrays(table.X.iloc[te], (z[te], a[te]))


def cross_validate(table: TrainingTable, targets, features, kind: str = "rf",
                   methods=("mean", "median", "magpie_rf", "model"),
                   seeds=(0,), n_splits: int = 5, multi_output: bool = False, n_estimators: int | None = None,
                   inner_splits: int = 5, progress=None, split: str = "composition", grid=None,
                   shrink: float | None = SHRINK) -> dict:
    """Returns {"folds": per-fold records, "summary": {method: {target: metric summaries}},
    "oof": {method: {target: (y, yhat) of seed 0}}}. `split`: 'composition' (easy) or 'cluster' (hard,
    leave-cluster-out); the model's inner CV uses the same grouping, so model selection sees the same
    difficulty as the outer score."""
    records, oof = [], {m: {t: ([], []) for t in targets} for m in methods}
    groups = table.split_groups(split)
    comps = encode_formulas(table.formulas)  # the model's training domain, per fold
    for seed in seeds:
        for k, (tr, te) in enumerate(grouped_folds(groups, n_splits, seed)):
            te = te[table.evaluate[te]]
            for method in methods:
                pred = _fit_predict(method, table, tr, te, targets, features, seed, kind, multi_output,
                                    n_estimators, inner_splits, groups, comps, grid, shrink)
                for t in targets:
                    v, lo, hi = pred[t]
                    y = table.Y[t].to_numpy()[te]
                    ok = np.isfinite(y)
                    rec = {"seed": seed, "fold": k, "method": method, "target": t, "n_test": int(ok.sum()),
                           **metrics(y[ok], v[ok])}
                    if lo is not None:
                        rec["coverage"] = float(((y[ok] >= lo[ok]) & (y[ok] <= hi[ok])).mean())
                        rec["width"] = float((hi[ok] - lo[ok]).mean())
                    if t == "log10_sigma":
                        b = table.censor_bound[te]
                        cen = np.isfinite(b)
                        if cen.any():
                            rec["censored_n"] = int(cen.sum())
                            rec["censored_point_below_bound"] = float((v[cen] <= b[cen]).mean())
                            if lo is not None:
                                rec["censored_interval_consistent"] = float((lo[cen] <= b[cen]).mean())
                    records.append(rec)
                    if seed == seeds[0]:
                        oof[method][t][0].extend(y[ok])
                        oof[method][t][1].extend(v[ok])
            if progress:
                progress(f"seed {seed} fold {k} done")
    summary = {}
    for method in methods:
        for t in targets:
            rs = [r for r in records if r["method"] == method and r["target"] == t]
            keys = [k for k in ("mae", "rmse", "r2", "spearman", "coverage", "width",
                                "censored_point_below_bound", "censored_interval_consistent") if k in rs[0]]
            s = {k: summarize([r.get(k, np.nan) for r in rs]) for k in keys}
            s["n_rows"] = int(sum(r["n_test"] for r in rs) / len(seeds))
            summary.setdefault(method, {})[t] = s
    return {"folds": records, "summary": summary,
            "oof": {m: {t: (np.array(a), np.array(b)) for t, (a, b) in d.items()} for m, d in oof.items()}}


def format_table(summary: dict, title: str = "") -> str:
    """Plain-text table: method x target with MAE, RMSE, R2, Spearman (mean [95% CI]) and coverage."""
    lines = [title] if title else []
    lines.append(f"{'method':<12}{'target':<13}{'n':>5}  {'MAE':<22}{'RMSE':<8}{'R2':<8}{'Spearman':<10}"
                 f"{'cov90':<8}{'width':<7}{'vs magpie_rf':>12}")
    for method, per_t in summary.items():
        for t, s in per_t.items():
            mae = s["mae"]
            ref = summary.get("magpie_rf", {}).get(t, {}).get("mae", {}).get("mean")
            ratio = f"{mae['mean'] / ref:.2f}x" if ref else ""
            cov = f"{s['coverage']['mean']:.3f}" if "coverage" in s else "-"
            wid = f"{s['width']['mean']:.2f}" if "width" in s else "-"
            lines.append(f"{method:<12}{t:<13}{s['n_rows']:>5}  {mae['mean']:.3f} [{mae['ci95'][0]:.3f},"
                         f"{mae['ci95'][1]:.3f}]   {s['rmse']['mean']:<8.3f}{s['r2']['mean']:<8.3f}"
                         f"{s['spearman']['mean']:<10.3f}{cov:<8}{wid:<7}{ratio:>12}")
    return "\n".join(lines)



def markdown_table(summary: dict) -> str:
    """Markdown table: method x target, mean [95% CI] of MAE, RMSE, R2, Spearman, 90% coverage, width."""
    def cell(s, k):
        m = s.get(k)
        if m is None or not np.isfinite(m["mean"]):
            return "-"
        return f"{m['mean']:.3f} [{m['ci95'][0]:.3f}, {m['ci95'][1]:.3f}]"

    lines = ["| method | target | n | MAE | RMSE | R2 | Spearman | cov90 | width | MAE / magpie_rf |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for method, per_t in summary.items():
        for t, s in per_t.items():
            ref = summary.get("magpie_rf", {}).get(t, {}).get("mae", {}).get("mean")
            ratio = f"{s['mae']['mean'] / ref:.2f}" if ref else "-"
            width = f"{s['width']['mean']:.2f}" if "width" in s else "-"
            cells = [method, t, str(s["n_rows"])] + [cell(s, k) for k in ("mae", "rmse", "r2", "spearman", "coverage")]
            lines.append("| " + " | ".join(cells + [width, ratio]) + " |")
    return "\n".join(lines)
