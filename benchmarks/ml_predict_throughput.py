"""Throughput of composition-only predictions with 90% conformal intervals (target: 10^6 in < 60 s, 2 cores).

Trains the composition RF on OBELiX (log10_sigma, fixed hyper-parameters), generates N distinct
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
    ap.add_argument("--trees", type=int, default=300)
    ap.add_argument("--peer-sample", type=int, default=2000)
    args = ap.parse_args(argv)
    from pymatgen.core import Composition

    from perovscreen.features.composition import featurize_compositions
    from perovscreen.ml.dataset import obelix_table
    from perovscreen.ml.model import PropertyModel
    from perovscreen.ml.train import usable_features

    table = obelix_table()
    model = PropertyModel(usable_features(table, False), n_estimators=args.trees,
                          grid={"max_features": [0.33], "min_samples_leaf": [1]})
    model.fit(table.X, table.Y, table.groups, ["log10_sigma"])
    fs = formulas(args.n)
    c0, t0 = time.process_time(), time.perf_counter()
    X = featurize_compositions(fs)
    t1 = time.perf_counter()
    out = model.predict_arrays(X)["log10_sigma"]
    t2, c2 = time.perf_counter(), time.process_time()
    assert np.isfinite(out[0]).all() and (out[1] < out[0]).all() and (out[2] > out[0]).all()
    from matminer.featurizers.composition import ElementProperty

    ep = ElementProperty.from_preset("magpie")
    sample = fs[: args.peer_sample]
    t3 = time.perf_counter()
    for f in sample:
        ep.featurize(Composition(f))
    peer = (time.perf_counter() - t3) / len(sample) * args.n
    total = t2 - t0
    print(f"{'step':<44}{'seconds':>10}{'per second':>14}")
    print(f"{'perovscreen featurise (146 descriptors)':<44}{t1 - t0:>10.1f}{args.n / (t1 - t0):>14.0f}")
    print(f"{'perovscreen RF predict + 90% interval':<44}{t2 - t1:>10.1f}{args.n / (t2 - t1):>14.0f}")
    print(f"{'perovscreen total':<44}{total:>10.1f}{args.n / total:>14.0f}")
    print(f"{'matminer magpie featurise only (extrap.)':<44}{peer:>10.1f}{args.n / peer:>14.0f}")
    print(f"{'perovscreen CPU time (all threads)':<44}{c2 - c0:>10.1f}   load avg {os.getloadavg()[0]:.1f}")
    print(f"ratio matminer featurisation / perovscreen featurisation: {peer / (t1 - t0):.0f}x; "
          f"N = {args.n}, {args.trees} trees, target < 60 s: {'PASS' if total < 60 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
