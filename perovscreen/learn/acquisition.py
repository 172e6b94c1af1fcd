"""Acquisition policies over a discrete candidate pool (all maximise) and a UCB1 bandit over them.

A policy turns the surrogate's (mean, std) over the pool into a batch of `q` unlabelled indices:
score-based policies take the top-q scores; Thompson takes the argmax of q posterior draws; `random`
and `oracle` (sorts by the true target: the upper bound, used for checks) ignore the surrogate.
`eipc` is cost-aware: expected improvement per unit of expected cost (CPU-seconds of the candidate's
calculation, from the measured costs in the store). `ehvi` is two-objective: Monte Carlo expected
hypervolume improvement over joint posterior draws (learn/pareto.py).
"""
from __future__ import annotations

import math

import numpy as np

from perovscreen.core.errors import InputError

# name -> needs a surrogate
POLICIES = {"random": False, "oracle": False, "greedy": True, "ucb": True, "ei": True, "variance": True,
            "thompson": True, "egreedy": True, "bandit": True, "eipc": True, "ehvi": True}
MULTI_OBJECTIVE = ("random", "ehvi")
EHVI_DRAWS = 64
BANDIT_ARMS = ("greedy", "ucb", "ei", "thompson")
UCB_BETA = 2.0
EPSILON = 0.1


def parse_policies(text) -> list[str]:
    names = [p.strip() for p in (text.split(",") if isinstance(text, str) else text) if p.strip()]
    bad = [p for p in names if p not in POLICIES]
    if bad or not names:
        raise InputError(f"unknown policy {bad[0] if bad else text!r}; choose from {', '.join(POLICIES)}")
    return list(dict.fromkeys(names))


def expected_improvement(mean, std, best: float, xi: float = 0.0) -> np.ndarray:
    from scipy.stats import norm

    std = np.maximum(std, 1e-12)
    z = (mean - best - xi) / std
    return (mean - best - xi) * norm.cdf(z) + std * norm.pdf(z)


def scores(policy: str, mean, std, best: float) -> np.ndarray:
    if policy == "greedy":
        return np.asarray(mean, float)
    if policy == "ucb":
        return mean + UCB_BETA * std
    if policy == "ei":
        return expected_improvement(mean, std, best)
    if policy == "variance":
        return np.asarray(std, float) ** 2
    raise InputError(f"policy {policy!r} has no score")


def top_q(score: np.ndarray, free: np.ndarray, q: int, rng: np.random.Generator) -> list[int]:
    """The q highest-scoring free candidates (ties broken at random)."""
    cand = np.flatnonzero(free)
    s = score[cand] + 1e-12 * rng.random(len(cand))
    take = cand[np.argsort(-s, kind="stable")[:q]]
    return [int(i) for i in take]


def select(policy: str, q: int, free: np.ndarray, rng: np.random.Generator, models=None,
           best: float = -math.inf, truth=None, cost=None, observed=None) -> tuple[list[int], list[float]]:
    """q unlabelled indices (`free` is a boolean mask over the pool) and each one's acquisition value.
    `models`: one fitted surrogate per objective (a single surrogate is accepted too); `cost` [N]: the
    expected cost of each candidate (eipc); `observed` [n, M]: the labelled values (ehvi's front)."""
    q = min(q, int(free.sum()))
    if q <= 0:
        return [], []
    models = models if isinstance(models, (list, tuple)) else [models]
    surrogate = models[0] if models else None
    if policy == "random":
        return [int(i) for i in rng.choice(np.flatnonzero(free), q, replace=False)], [math.nan] * q
    if policy == "oracle":
        t = np.asarray(truth, float)
        idx = top_q(t, free, q, rng)
        return idx, [float(t[i]) for i in idx]
    if policy == "thompson":
        draws = surrogate.draws(rng, q)
        out, vals, mask = [], [], free.copy()
        for d in draws:
            i = top_q(d, mask, 1, rng)[0]
            out.append(i)
            vals.append(float(d[i]))
            mask[i] = False
        return out, vals
    if policy == "ehvi":
        return _ehvi_batch(models, q, free, rng, observed)
    mean, std = surrogate.predict()
    if policy == "egreedy":
        out, mask = [], free.copy()
        for _ in range(q):
            if rng.random() < EPSILON:
                i = int(rng.choice(np.flatnonzero(mask)))
            else:
                i = top_q(mean, mask, 1, rng)[0]
            out.append(i)
            mask[i] = False
        return out, [float(mean[i]) for i in out]
    if policy == "eipc":
        if cost is None:
            raise InputError("the eipc policy needs candidate costs")
        score = expected_improvement(mean, std, best) / np.maximum(np.asarray(cost, float), 1e-12)
    else:
        score = scores(policy, mean, std, best)
    idx = top_q(score, free, q, rng)
    return idx, [float(score[i]) for i in idx]


def _ehvi_batch(models, q: int, free: np.ndarray, rng, observed, n_draws: int = EHVI_DRAWS):
    """Sequential greedy q-EHVI with the 'Kriging believer': after each pick its posterior mean joins the
    front, so the next pick improves on a different part of it."""
    from perovscreen.learn.pareto import ehvi, reference_point

    draws = np.stack([m.draws(rng, n_draws) for m in models], axis=-1)      # [S, N, 2]
    mean = np.stack([m.predict()[0] for m in models], axis=-1)
    front = np.asarray(observed, float).reshape(-1, 2)
    ref = reference_point(np.vstack([front, mean[free]]))
    out, vals, mask = [], [], free.copy()
    cand = np.flatnonzero(mask)
    for _ in range(q):
        cand = np.flatnonzero(mask)
        v = ehvi(front, ref, draws[:, cand])
        j = int(np.argmax(v + 1e-12 * rng.random(len(cand))))
        i = int(cand[j])
        out.append(i)
        vals.append(float(v[j]))
        mask[i] = False
        front = np.vstack([front, mean[i]])
    return out, vals


class UCB1Bandit:
    """UCB1 over acquisition arms. Reward of a batch = fraction of its items that beat the k-th best value
    observed before it (improvement of the observed top-k), divided by the batch's cost in CPU-hours when
    costs are known (a replay of equal costs uses 1). Rewards lie in [0, 1] for unit cost."""

    def __init__(self, arms=BANDIT_ARMS, k: int = 5, state: dict | None = None):
        self.arms = list(arms)
        self.k = k
        self.pulls = {a: 0 for a in self.arms}
        self.total = {a: 0.0 for a in self.arms}
        if state:
            self.pulls.update(state["pulls"])
            self.total.update(state["total"])

    def choose(self, rng: np.random.Generator) -> str:
        untried = [a for a in self.arms if self.pulls[a] == 0]
        if untried:
            return untried[int(rng.integers(len(untried)))]
        n = sum(self.pulls.values())
        ucb = {a: self.total[a] / self.pulls[a] + math.sqrt(2 * math.log(n) / self.pulls[a]) for a in self.arms}
        return max(self.arms, key=lambda a: (ucb[a], rng.random()))

    def reward(self, observed_before, batch_values, cost: float = 1.0) -> float:
        obs = np.sort(np.asarray(observed_before, float))[::-1]
        bar = obs[min(self.k, len(obs)) - 1] if len(obs) else -math.inf
        return float(np.mean(np.asarray(batch_values, float) > bar)) / max(cost, 1e-12)

    def update(self, arm: str, reward: float) -> None:
        self.pulls[arm] += 1
        self.total[arm] += reward

    def state(self) -> dict:
        return {"pulls": dict(self.pulls), "total": dict(self.total)}
