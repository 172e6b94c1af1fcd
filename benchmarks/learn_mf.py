"""Multi-fidelity strategies replayed at a cost on the augmented Branin (docs/learn.md): the target only,
cheap-everywhere + stacked surrogate, the fixed funnel, the UCB1 bandit over fidelities x acquisitions, and
`kg` (per-candidate fidelity choice: knowledge gradient per cost under the BoTorch multi-fidelity GP).

    .venv/bin/python benchmarks/learn_mf.py [--n 400] [--budget 40] [--seeds 5] [--cost 0.01]
        [--surrogate gp] [--policy ei] [--strategies single,stacked,funnel,bandit,kg]
    .venv/bin/python benchmarks/learn_mf.py --models --n 200 --targets 10 20 40 --seeds 5

Prints, per strategy, the fraction of seeds that found a top-1% item, the median cost to find one, the mean
best value at the budget, the median regret averaged over the cost axis (from seed set + one cheap pass to the budget),
the mean RMSE of the target surrogate over the pool at the end and the mean spend per fidelity (cost unit
= one target evaluation). `kg` always uses the mfgp surrogate.

`--models`: the surrogates alone at equal cost on random designs: m random target evaluations, plus the
cheap fidelity on every candidate for the multi-fidelity models (n x cost): RMSE over the pool at the
target fidelity, median over seeds, for the GP on x (target only), the stacked GP on [x, f_cheap(x)], the
stacked forest, and the BoTorch multi-fidelity GP with and without the cheap data.
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def models(a) -> None:
    from perovscreen.learn.fidelity import augmented_branin
    from perovscreen.learn.surrogates import make_surrogate

    p = augmented_branin(a.n, costs=(a.cost, 1.0))
    kinds = [("gp", False), ("gp", True), ("forest", True), ("mfgp", False), ("mfgp", True)]
    print(f"augmented Branin, {a.n} candidates, cheap s=0 at {a.cost:g} (all of them: {a.n * a.cost:g}); "
          f"RMSE at s=1 over the pool (target std {p.target.std():.1f}), median over {a.seeds} designs")
    print(f"{'targets':>7} " + " ".join(f"{k + (' +cheap' if c else ''):>13}" for k, c in kinds) + "  seconds")
    for m in a.targets:
        t = time.perf_counter()
        err = {k: [] for k in kinds}
        for s in range(a.seeds):
            idx = np.random.default_rng([s, 5]).choice(a.n, m, replace=False)
            for name, cheap in kinds:
                mod = make_surrogate(name, seed=s)
                mod.prepare(p.X)
                if cheap and name == "mfgp":
                    mod.set_low(p.Y[:, :1], same_scale=[True])
                elif cheap:
                    mod.set_extra(p.Y[:, :1])
                mod.fit(idx, p.target[idx])
                err[(name, cheap)].append(float(np.sqrt(np.mean((mod.predict()[0] - p.target) ** 2))))
        print(f"{m:>7} " + " ".join(f"{np.median(err[k]):>13.2f}" for k in kinds)
              + f"  {time.perf_counter() - t:>7.1f}", flush=True)


def main(argv=None) -> None:
    from perovscreen.learn.fidelity import STRATEGIES, augmented_branin, run_strategy, summary

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--budget", type=float, default=40.0)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--init", type=int, default=5)
    ap.add_argument("--cost", type=float, default=0.01, help="cost of the cheap fidelity (target = 1)")
    ap.add_argument("--surrogate", default="gp")
    ap.add_argument("--policy", default="ei")
    ap.add_argument("--strategies", default=",".join(STRATEGIES))
    ap.add_argument("--models", action="store_true", help="compare the surrogates' RMSE at equal cost")
    ap.add_argument("--targets", type=int, nargs="+", default=[10, 20, 40])
    a = ap.parse_args(argv)
    if a.models:
        return models(a)
    p = augmented_branin(a.n, costs=(a.cost, 1.0))
    best = float(p.target.max())
    lo = a.init + a.n * a.cost      # from the cost at which every strategy has measured its seed set
    print(f"augmented Branin, {a.n} candidates, cheap s=0 at {a.cost:g}, budget {a.budget:g}, {a.seeds} seeds, "
          f"{a.surrogate}/{a.policy}")
    print(f"{'strategy':>8} {'found':>6} {'cost to top 1%':>15} {'best at budget':>15} {'regret/cost':>12} "
          f"{'RMSE':>7} {'cheap spent':>12} {'seconds':>8}")
    for s in a.strategies.split(","):
        t = time.perf_counter()
        tr = {s: [run_strategy(p, s, a.budget, seed=i, init=a.init, surrogate=a.surrogate, policy=a.policy)
                  for i in range(a.seeds)]}
        r = summary(p, tr, a.budget)[0]
        auc = np.median([x.regret_per_cost(best, lo, a.budget) for x in tr[s]])
        arms = {}
        for x in tr[s]:
            for arm in x.arms:
                arms[arm] = arms.get(arm, 0) + 1
        print(f"{s:>8} {r['found']:>6.2f} {r['cost_to_top']:>15.1f} {r['best_at_budget']:>15.3f} {auc:>12.3f} "
              f"{r['rmse']:>7.2f} {r['spent'][p.names[0]]:>12.2f} {time.perf_counter() - t:>8.1f}"
              + (f"  arms {arms}" if arms else ""), flush=True)


if __name__ == "__main__":
    main()
