"""Multi-fidelity strategies replayed at a cost on the augmented Branin (docs/learn.md): the target only,
cheap-everywhere + stacked surrogate, the fixed funnel, and the UCB1 bandit over fidelities x acquisitions.

    .venv/bin/python benchmarks/learn_mf.py [--n 400] [--budget 40] [--seeds 5] [--cost 0.01]
        [--surrogate gp] [--policy ei]

Prints, per strategy, the fraction of seeds that found a top-1% item, the median cost to find one, the mean
best value at the budget, the mean RMSE of the target surrogate over the pool at the end and the mean
spend per fidelity (cost unit = one target evaluation).
"""
from __future__ import annotations

import argparse
import time


def main(argv=None) -> None:
    from perovscreen.learn.fidelity import STRATEGIES, augmented_branin, run_strategy, summary

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--budget", type=float, default=40.0)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--cost", type=float, default=0.01, help="cost of the cheap fidelity (target = 1)")
    ap.add_argument("--surrogate", default="gp")
    ap.add_argument("--policy", default="ei")
    ap.add_argument("--strategies", default=",".join(STRATEGIES))
    a = ap.parse_args(argv)
    p = augmented_branin(a.n, costs=(a.cost, 1.0))
    print(f"augmented Branin, {a.n} candidates, cheap s=0 at {a.cost:g}, budget {a.budget:g}, {a.seeds} seeds, "
          f"{a.surrogate}/{a.policy}")
    print(f"{'strategy':>8} {'found':>6} {'cost to top 1%':>15} {'best at budget':>15} {'RMSE':>7} "
          f"{'cheap spent':>12} {'seconds':>8}")
    for s in a.strategies.split(","):
        t = time.perf_counter()
        tr = {s: [run_strategy(p, s, a.budget, seed=i, surrogate=a.surrogate, policy=a.policy)
                  for i in range(a.seeds)]}
        r = summary(p, tr, a.budget)[0]
        arms = {}
        for x in tr[s]:
            for arm in x.arms:
                arms[arm] = arms.get(arm, 0) + 1
        print(f"{s:>8} {r['found']:>6.2f} {r['cost_to_top']:>15.1f} {r['best_at_budget']:>15.3f} {r['rmse']:>7.2f} "
              f"{r['spent'][p.names[0]]:>12.2f} {time.perf_counter() - t:>8.1f}" + (f"  arms {arms}" if arms else ""))


if __name__ == "__main__":
    main()
