"""Multi-fidelity campaigns replayed at a cost: when is the cheap fidelity worth computing?

A problem has N candidates, descriptors X and F fidelities (columns of Y, all maximised; the last is the
target, e.g. MD or measured sigma; the others cheap, e.g. BVSE barrier (negated), ML prediction), each
with a cost per evaluation (CPU-seconds). Strategies, all charged for every evaluation they make:

- `single`: the target fidelity only (random seed set, then the acquisition policy);
- `stacked`: every cheap fidelity on every candidate first, then the same policy on a surrogate whose
  inputs are the descriptors plus the cheap values (learn/campaign.py `aux`);
- `funnel`: the fixed screening funnel: cheap fidelities in order, each keeping the best `keep` fraction
  for the next, then the target in the order of the last cheap fidelity; no model;
- `bandit`: UCB1 over arms {target with greedy, EI, Thompson} + {each cheap fidelity on a batch of the
  most promising candidates that lack it}; the reward of a pull is the rise of the top-k posterior
  (mean of the k best values, observed where labelled, posterior mean elsewhere) per CPU-hour spent;
- `kg`: the acquisition picks (candidate, fidelity) pairs by expected gain in target units per unit cost,
  under the BoTorch multi-fidelity GP (learn/mfgp.py). A cheap pair's gain is its discrete knowledge
  gradient (misoKG: Poloczek, Wang & Frazier, NeurIPS 2017; discrete KG: Frazier, Powell & Dayanik,
  INFORMS J. Comput. 21, 599 (2009)): KG(i, f) = E[max_j mu'_j] - max_j mu_j, the expected rise of the
  best target-fidelity posterior mean over the pool once candidate i is measured at fidelity f. A target
  pair's gain is its expected improvement over the best *measured* target value (what a campaign is
  scored on: with the target scored by KG too, the policy declines to measure a candidate it is already
  sure of, and its best measured value lags; 7-seed Branin, regret per cost 4.2 vs 3.5 for target-only).
  A step measures the best pair's fidelity on the top pairs of that fidelity (`batch` target
  evaluations, or a cheap batch costing a tenth of a target batch).

Each run records the best target found and the surrogate's RMSE over the pool against the cumulative cost.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from perovscreen.core.errors import InputError
from perovscreen.learn.acquisition import UCB1Bandit, expected_improvement, top_q
from perovscreen.learn.campaign import Campaign

STRATEGIES = ("single", "stacked", "funnel", "bandit", "kg")
KG_NODES = 32      # normal quantiles over which E[max_j mu'_j] is averaged
BANDIT_ACQ = ("greedy", "ei", "thompson")


@dataclass
class MFProblem:
    X: np.ndarray
    Y: np.ndarray            # [N, F], maximised, target last
    cost: np.ndarray         # [F] CPU-seconds per evaluation
    names: list
    same_scale: list | None = None    # per cheap fidelity: in the target's units (the mfgp leaves it as is)

    def __post_init__(self):
        self.Y = np.asarray(self.Y, float).reshape(len(self.X), -1)
        self.cost = np.asarray(self.cost, float)
        if len(self.cost) != self.Y.shape[1] or len(self.names) != self.Y.shape[1]:
            raise InputError("one cost and one name per fidelity")

    @property
    def target(self) -> np.ndarray:
        return self.Y[:, -1]


def augmented_branin(n: int = 400, fidelities=(0.0, 1.0), costs=(0.01, 1.0), seed: int = 0) -> MFProblem:
    """The augmented Branin of multi-fidelity BO (BoTorch's AugmentedBranin; Kandasamy et al. 2017):
    f(x, s) = (x2 - (5.1/(4 pi^2) - 0.1 (1 - s)) x1^2 + 5 x1 / pi - 6)^2 + 10 (1 - 1/(8 pi)) cos x1 + 10,
    x1 in [-5, 10], x2 in [0, 15]; s = 1 is Branin (minimum 0.397887 at three points). Negated: maximised."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 2)) * [15.0, 15.0] + [-5.0, 0.0]
    cols = []
    for s in fidelities:
        b = 5.1 / (4 * math.pi ** 2) - 0.1 * (1 - s)
        f = (x[:, 1] - b * x[:, 0] ** 2 + 5 * x[:, 0] / math.pi - 6) ** 2 \
            + 10 * (1 - 1 / (8 * math.pi)) * np.cos(x[:, 0]) + 10
        cols.append(-f)
    return MFProblem(x, np.stack(cols, 1), np.asarray(costs, float), [f"s={s:g}" for s in fidelities],
                     [True] * (len(fidelities) - 1))


@dataclass
class Trace:
    strategy: str
    cost: list = field(default_factory=list)      # cumulative cost after each step
    best: list = field(default_factory=list)      # best target found so far
    rmse: list = field(default_factory=list)      # (cumulative cost, surrogate RMSE over the pool)
    spent: dict = field(default_factory=dict)     # fidelity -> cost spent
    arms: list = field(default_factory=list)
    queried: list = field(default_factory=list)   # target-fidelity queries in order

    def cost_to_reach(self, value: float) -> float:
        for c, b in zip(self.cost, self.best):
            if b >= value - 1e-12:
                return c
        return math.inf

    def best_at(self, cost: float) -> float:
        vals = [b for c, b in zip(self.cost, self.best) if c <= cost + 1e-12]
        return vals[-1] if vals else -math.inf

    def regret_per_cost(self, best: float, lo: float, hi: float, n: int = 50) -> float:
        """Mean simple regret (best - best found) over an even grid of costs in [lo, hi]: the area under
        the regret-vs-cost curve per unit cost (lower = better at every budget in the range)."""
        return float(np.mean([best - self.best_at(c) for c in np.linspace(lo, hi, n)]))


class _Run:
    """Book-keeping shared by the strategies: what is known at which fidelity, and what it cost."""

    def __init__(self, p: MFProblem, strategy: str, seed: int):
        self.p, self.rng = p, np.random.default_rng([seed, 17])
        self.aux = np.full((len(p.X), p.Y.shape[1] - 1), np.nan)
        self.trace = Trace(strategy, spent={n: 0.0 for n in p.names})
        self.total = 0.0
        self.best = -math.inf

    def cheap(self, f: int, idx) -> None:
        idx = [i for i in idx if not np.isfinite(self.aux[i, f])]
        self.aux[idx, f] = self.p.Y[idx, f]
        self._charge(f, len(idx))

    def target(self, c: Campaign, idx) -> None:
        c.observe(idx, self.p.target[idx])
        self.trace.queried += [int(i) for i in idx]
        self.best = max(self.best, float(self.p.target[idx].max())) if len(idx) else self.best
        self._charge(-1, len(idx))

    def _charge(self, f: int, n: int) -> None:
        c = float(self.p.cost[f]) * n
        self.total += c
        self.trace.spent[self.p.names[f]] += c
        self.trace.cost.append(self.total)
        self.trace.best.append(self.best)

    def rmse(self, c: Campaign) -> None:
        mean = c.predict()[0][:, 0]
        self.trace.rmse.append((self.total, float(np.sqrt(np.mean((mean - self.p.target) ** 2)))))


def run_strategy(p: MFProblem, strategy: str, budget: float, batch: int = 5, init: int = 5, seed: int = 0,
                 policy: str = "ei", surrogate: str = "forest", keep: float = 0.5, top_k: int = 5) -> Trace:
    """One replayed campaign of `strategy` until `budget` (cost units of `p.cost`) is spent."""
    if strategy not in STRATEGIES:
        raise InputError(f"unknown strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")
    r = _Run(p, strategy, seed)
    n_cheap = p.Y.shape[1] - 1
    if strategy == "funnel":
        alive = np.arange(len(p.X))
        for f in range(n_cheap):
            r.cheap(f, alive)
            order = alive[np.argsort(-p.Y[alive, f], kind="stable")]
            alive = order[:max(1, int(math.ceil(keep * len(order))))] if f < n_cheap - 1 else order
        c = Campaign(p.X, "random", seed=seed)
        for s in range(0, len(alive), batch):
            if r.total >= budget:
                break
            r.target(c, alive[s:s + batch])
        return r.trace
    if strategy == "kg":
        return _run_kg(r, p, budget, batch, init, seed)
    stacked = strategy in ("stacked", "bandit")
    c = Campaign(p.X, "greedy" if strategy == "bandit" else policy, surrogate, seed=seed,
                 aux=r.aux if stacked and n_cheap else None)
    if strategy == "stacked":
        for f in range(n_cheap):
            r.cheap(f, range(len(p.X)))
    r.target(c, np.random.default_rng([seed, 1]).choice(len(p.X), init, replace=False))
    bandit = UCB1Bandit(arms=[f"target:{a}" for a in BANDIT_ACQ] + [f"cheap:{f}" for f in range(n_cheap)])
    prev_s, prev_cost, arm, scale = None, 0.0, None, 0.0
    while r.total < budget and c.free.any():
        c.aux = r.aux if stacked and n_cheap else None
        if strategy != "bandit":
            idx = c.propose(batch)
            r.rmse(c)
            r.target(c, idx)
            continue
        c.fit()
        r.rmse(c)
        s_now = _top_k_posterior(c, top_k)
        if arm is not None:
            gain = max(0.0, s_now - prev_s) / max((r.total - prev_cost) / 3600.0, 1e-12)
            scale = max(scale, gain)
            bandit.update(arm, gain / scale if scale > 0 else 0.0)
        prev_s, prev_cost = s_now, r.total
        arm = bandit.choose(r.rng)
        r.trace.arms.append(arm)
        kind, what = arm.split(":")
        if kind == "target":
            c.policy = what
            r.target(c, c.propose(batch))
        else:
            f = int(what)
            lacking = ~np.isfinite(r.aux[:, f])
            if not lacking.any():
                bandit.update(arm, 0.0)   # nothing left at this fidelity: never worth pulling again
                arm = None
                continue
            mean, std = c.predict()
            r.cheap(f, top_q(mean[:, 0] + 2.0 * std[:, 0], lacking, _cheap_batch(p, f, batch), r.rng))
    return r.trace


def _cheap_batch(p: MFProblem, f: int, batch: int) -> int:
    """Candidates per cheap step: a batch costing a tenth of a target batch (at least `batch`)."""
    return max(batch, int(round(batch * p.cost[-1] / max(p.cost[f], 1e-12) / 10)))


def knowledge_gradient(mean, cov, noise, n_nodes: int = KG_NODES, chunk: int = 64) -> np.ndarray:
    """Discrete KG of every pair p of a joint Gaussian posterior whose last N entries are the target
    fidelity over the pool: KG(p) = E_Z[max_j (mu_j + s_j(p) Z)] - max_j mu_j with
    s_j(p) = cov[j, p] / sqrt(cov[p, p] + noise_p), Z ~ N(0, 1) averaged over `n_nodes` quantiles."""
    from scipy.stats import norm

    N = len(mean) // len(noise)
    mu = mean[-N:]
    s = cov[-N:] / np.sqrt(np.clip(np.diag(cov) + np.repeat(noise, N), 1e-18, None))      # [N, P]
    z = norm.ppf((np.arange(n_nodes) + 0.5) / n_nodes)
    kg = np.empty(s.shape[1])
    for a in range(0, s.shape[1], chunk):
        v = mu[:, None, None] + s[:, a:a + chunk, None] * z                                   # [N, c, K]
        kg[a:a + chunk] = v.max(0).mean(-1)
    return np.maximum(kg - mu.max(), 0.0)


def _run_kg(r: _Run, p: MFProblem, budget: float, batch: int, init: int, seed: int) -> Trace:
    """The cost-aware multi-fidelity KG strategy (module docstring)."""
    N, F = len(p.X), p.Y.shape[1]
    c = Campaign(p.X, "greedy", "mfgp", seed=seed, aux=r.aux if F > 1 else None)
    c.aux_same_scale = p.same_scale
    r.target(c, np.random.default_rng([seed, 1]).choice(N, init, replace=False))
    while r.total < budget and c.free.any():
        c.fit()
        r.rmse(c)
        mean, cov, noise = c.models[0].joint()
        gain = knowledge_gradient(mean, cov, noise)              # cheap pairs: value of information
        gain[-N:] = expected_improvement(mean[-N:], np.sqrt(np.clip(np.diag(cov)[-N:], 0, None)), r.best)
        allowed = np.concatenate([~np.isfinite(r.aux[:, f]) for f in range(F - 1)] + [c.free])
        value = np.where(allowed, gain / np.repeat(p.cost, N), -np.inf)
        f = int(np.argmax(value + 1e-12 * r.rng.random(len(value)))) // N
        score = value[f * N:(f + 1) * N]
        ok = np.isfinite(score)
        r.trace.arms.append(f"kg:{p.names[f]}")
        if f == F - 1:
            r.target(c, top_q(score, ok, batch, r.rng))
        else:
            r.cheap(f, top_q(score, ok, _cheap_batch(p, f, batch), r.rng))
    return r.trace


def _top_k_posterior(c: Campaign, k: int) -> float:
    v = c.predict()[0][:, 0].copy()
    v[c.labelled] = np.asarray(c.values, float).reshape(len(c.labelled), c.objectives)[:, 0]
    return float(np.sort(v)[-k:].mean())


def compare(p: MFProblem, budget: float, strategies=STRATEGIES, seeds: int = 5, **kw) -> dict:
    """strategy -> list of traces (one per seed)."""
    return {s: [run_strategy(p, s, budget, seed=i, **kw) for i in range(seeds)] for s in strategies}


def summary(p: MFProblem, traces: dict, budget: float, top: float = 0.01) -> list[dict]:
    """Per strategy: mean cost to find a top-`top` item, mean best at the budget, mean final RMSE."""
    k = max(1, int(round(top * len(p.X))))
    bar = float(np.sort(p.target)[-k])
    out = []
    for s, ts in traces.items():
        costs = np.array([t.cost_to_reach(bar) for t in ts])
        found = np.isfinite(costs)
        rm = [t.rmse[-1][1] for t in ts if t.rmse]
        out.append({"strategy": s, "found": float(found.mean()),
                    "cost_to_top": float(np.median(costs)) if len(costs) else math.inf,
                    "best_at_budget": float(np.mean([t.best_at(budget) for t in ts])),
                    "rmse": float(np.mean(rm)) if rm else math.nan,
                    "spent": {n: float(np.mean([t.spent[n] for t in ts])) for n in p.names}})
    return out
