"""Throughput of composition-only predictions with 90% conformal intervals (target: 10^6 in < 60 s, 2 cores).

Trains the default composition RF on OBELiX (log10_sigma, hyper-parameters by grouped inner CV), generates N distinct
perovskite-like formulas (Li_x A_y B O3 / Li_x A_y B B' X3 families), then times featurisation +
prediction + intervals. The peer figure is matminer's ElementProperty("magpie") featurizer (the usual
route) measured on a sample in the same run and extrapolated to N.

    nice python benchmarks/ml_predict_throughput.py [--n 1000000]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))  # run from a checkout

A_SITE = ["La", "Sr", "Ca", "Ba", "Nd", "Pr", "Sm", "Y", "Na", "K"]
B_SITE = ["Ti", "Nb", "Ta", "Zr", "Hf", "Sn", "Al", "Ga", "Fe", "Mg", "W", "Mo", "Sc", "In"]
X_SITE = ["O3", "O3", "O3", "F3", "Cl3", "O2F", "O2.5N0.5"]


def formulas(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.02, 0.6, n)
    a = rng.integers(len(A_SITE), size=n)
    b = rng.integers(len(B_SITE), size=n)
    b2 = rng.integers(len(B_SITE), size=n)
    f = rng.uniform(0.05, 0.95, n)
    xs = rng.integers(len(X_SITE), size=n)
    return [f"Li{x[i]:.3f}{A_SITE[a[i]]}{(1 - x[i]) * 0.9:.3f}{B_SITE[b[i]]}{f[i]:.2f}{B_SITE[b2[i]]}{1 - f[i]:.2f}"
            f"{X_SITE[xs[i]]}" for i in range(n)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--trees", type=int, default=None, help="default: the shipped default (model.DEFAULT_TREES)")
    ap.add_argument("--chunk", type=int, default=100_000)
    ap.add_argument("--peer-sample", type=int, default=2000)
    args = ap.parse_args(argv)
    from pymatgen.core import Composition

    from perovscreen.features.composition import featurize_compositions
    from perovscreen.ml.dataset import obelix_table
    from perovscreen.ml.model import DEFAULT_TREES
    from perovscreen.ml.train import train_model

    trees = args.trees or DEFAULT_TREES["rf"]
    table = obelix_table()
    model, _ = train_model(table, ["log10_sigma"], "rf", n_estimators=trees)  # the shipped default, tuned by CV
    print(f"model: {model.heads[0]['params']}, inner-CV MAE {model.heads[0]['inner_cv_mae'][0]:.3f}")
    cols = [table.X.columns.get_loc(f) for f in model.features]
    featurize_compositions(["Li3OCl"])
    model.predict_arrays(table.X.to_numpy()[:10, cols])  # compile / warm up
    fs = formulas(args.n)
    t_feat = t_pred = 0.0
    c0 = time.process_time()
    lows = []
    for s in range(0, args.n, args.chunk):  # the loop of perovscreen.ml.predict.predict_bulk, timed by part
        t0 = time.perf_counter()
        X = featurize_compositions(fs[s:s + args.chunk])
        t1 = time.perf_counter()
        v, lo, hi = model.predict_arrays(X[:, cols])["log10_sigma"]
        t_pred += time.perf_counter() - t1
        t_feat += t1 - t0
        assert np.isfinite(v).all() and (lo < v).all() and (hi > v).all()
        lows.append(hi - lo)
    cpu = time.process_time() - c0
    total = t_feat + t_pred
    # peers, measured on samples in the same run and extrapolated to N
    from matminer.featurizers.composition import ElementProperty

    ep = ElementProperty.from_preset("magpie")
    sample = fs[: args.peer_sample]
    t3 = time.perf_counter()
    for f in sample:
        ep.featurize(Composition(f))
    peer_feat = (time.perf_counter() - t3) / len(sample) * args.n
    Xs = featurize_compositions(fs[:20_000])[:, cols]
    est = model.heads[0]["estimator"]
    t4 = time.perf_counter()
    per_tree = np.stack([t.predict(Xs) for t in est.estimators_])
    per_tree.mean(0), per_tree.std(0)
    peer_pred = (time.perf_counter() - t4) / len(Xs) * args.n
    print(f"{'step (N = %d, %d trees, chunks of %d)' % (args.n, trees, args.chunk):<52}{'seconds':>9}{'per second':>13}")
    print(f"{'perovscreen featurise (%d descriptors)' % X.shape[1]:<52}{t_feat:>9.1f}{args.n / t_feat:>13.0f}")
    print(f"{'perovscreen compiled forest: value + 90% interval':<52}{t_pred:>9.1f}{args.n / t_pred:>13.0f}")
    print(f"{'perovscreen total':<52}{total:>9.1f}{args.n / total:>13.0f}")
    print(f"{'peer: matminer magpie featurise (extrapolated)':<52}{peer_feat:>9.1f}{args.n / peer_feat:>13.0f}")
    print(f"{'peer: scikit-learn per-tree predict (extrapolated)':<52}{peer_pred:>9.1f}{args.n / peer_pred:>13.0f}")
    print(f"CPU time of the perovscreen steps (all threads): {cpu:.1f} s; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores; mean interval width {np.mean(np.concatenate(lows)):.2f}")
    print(f"ratios: featurise {peer_feat / t_feat:.0f}x faster than matminer, predict {peer_pred / t_pred:.1f}x "
          f"faster than scikit-learn; target < 60 s: {'PASS' if total < 60 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
