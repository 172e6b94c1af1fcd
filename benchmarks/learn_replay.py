"""Replay time vs table size and budget (docs/learn.md).

Synthetic tables of N formulas drawn from the OBELiX compositions with jittered stoichiometry (composition
features through the project's featuriser), a smooth target; each cell times one replay of `--seeds`
seeds of the given policies. Usage:

    .venv/bin/python benchmarks/learn_replay.py [--sizes 400 1500 5000] [--budgets 50 150] [--seeds 2]
        [--policies greedy,ei,thompson] [--surrogate forest]

Prints wall seconds and CPU seconds (this process and its workers: the honest figure on a shared machine)
per replay, wall seconds per refit (one refit per batch per campaign), and the projection to the 20-seed,
all-policies run of the performance target. With `--jobs 2` the campaigns run in two spawned processes.
"""
from __future__ import annotations

import argparse
import resource
import time

import numpy as np


def synthetic_table(n: int, seed: int = 0):
    from perovscreen.features.composition import featurize_compositions
    from perovscreen.learn.oracle import oracle_from_arrays

    rng = np.random.default_rng(seed)
    els = ["La", "Ti", "Zr", "Nb", "Ta", "Al", "Ga", "Ge", "P", "S", "Cl", "Br", "Sr", "Y", "In", "Sc"]
    formulas = []
    for _ in range(n):
        a, b = rng.choice(len(els), 2, replace=False)
        formulas.append(f"Li{rng.uniform(0.2, 7):.2f}{els[a]}{rng.uniform(0.1, 3):.2f}{els[b]}{rng.uniform(0.1, 3):.2f}"
                        f"O{rng.uniform(1, 12):.2f}")
    X = featurize_compositions(formulas)
    w = rng.standard_normal(X.shape[1])
    Z = (X - np.nanmean(X, 0)) / (np.nanstd(X, 0) + 1e-9)
    y = np.sin(np.nan_to_num(Z) @ w / np.sqrt(X.shape[1])) + 0.1 * rng.standard_normal(n)
    return oracle_from_arrays(X, y, names=formulas, target="synthetic")


def cpu_seconds() -> float:
    """User + system CPU of this process and of its finished children (the replay's workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main(argv=None) -> None:
    from perovscreen.learn.replay import run_replay

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[400, 1500, 5000])
    ap.add_argument("--budgets", type=int, nargs="+", default=[50, 150])
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--batch", type=int, default=5)
    ap.add_argument("--policies", default="greedy,ei,thompson")
    ap.add_argument("--surrogate", default="forest")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (one campaign per task)")
    a = ap.parse_args(argv)
    n_pol = len(a.policies.split(","))
    print(f"surrogate {a.surrogate}, policies {a.policies}, {a.seeds} seeds, batch {a.batch}")
    print(f"{'N':>6} {'budget':>6} {'seconds':>8} {'CPU s':>8} {'s/refit':>8} "
          f"{f'20 seeds x {n_pol} policies (min)':>28}")
    for n in a.sizes:
        oracle = synthetic_table(n)
        for b in a.budgets:
            if b > n:
                continue
            t, c = time.perf_counter(), cpu_seconds()
            run_replay(oracle, budget=b, batch=a.batch, seeds=a.seeds, init=10, policies=a.policies,
                       surrogate=a.surrogate, jobs=a.jobs)
            dt, cpu = time.perf_counter() - t, cpu_seconds() - c
            refits = a.seeds * n_pol * -(-(b - 10) // a.batch)
            full = dt / refits * 20 * n_pol * -(-(b - 10) // a.batch) / 60
            print(f"{n:>6} {b:>6} {dt:>8.1f} {cpu:>8.1f} {dt / refits:>8.3f} {full:>28.1f}", flush=True)


if __name__ == "__main__":
    main()
