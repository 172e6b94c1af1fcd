"""The after-the-fact replay benchmark: every policy against the same oracle, many seeds.

Per seed, all surrogate-based policies start from the same random seed set (`init` items; common random
numbers make the comparison sharper), then query `batch` items at a time until `budget` items (seed set
included) are labelled. `random` queries uniformly at random throughout; `oracle` sorts by the true
target from the first query (no seed set: it is the exact upper bound, K queries for K items).
"""
from __future__ import annotations

import math
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field

import numpy as np

from perovscreen.core.errors import InputError
from perovscreen.core.results import Estimate, Result
from perovscreen.jobs.stage import make_params, param
from perovscreen.learn import metrics
from perovscreen.learn.acquisition import parse_policies
from perovscreen.learn.campaign import Campaign
from perovscreen.learn.oracle import Oracle


@dataclass(frozen=True)
class ReplayParams:
    budget: int = param(150, "labelled items per campaign, seed set included", "items", minimum=1)
    batch: int = param(5, "items per query batch", "items", minimum=1)
    seeds: int = param(20, "independent campaigns per policy", minimum=1)
    init: int = param(10, "random seed set per campaign (shared by the policies of one seed)", "items",
                      minimum=0)
    policies: str = param("random,greedy,ucb,ei,thompson,variance,bandit", "comma-separated policies")
    surrogate: str = param("forest", "surrogate model", choices=("forest", "gp"))
    top: tuple = param((0.01, 0.1), "top fractions counted as hits", kind="floats")
    seed: int = param(0, "base random seed")
    jobs: int = param(1, "worker processes (one campaign per task)", science=False, minimum=1)


@dataclass
class PolicySummary(Result):
    TYPE = "ReplayPolicy"
    policy: str
    surrogate: str
    seeds: int
    enhancement: dict          # "top 1%" -> Estimate at n = budget
    found: dict                # "top 1%" -> Estimate (median fraction found at n = budget)
    first_hit: dict            # "top 1%" -> Estimate (median queries to the first hit; inf = not found)
    acceleration: dict         # "top 1%" -> E_random[first hit] / median first hit
    curves: dict               # "top 1%" -> {"median": [...], "lower": [...], "upper": [...]} for n = 1..budget
    seconds: float = 0.0
    arms: dict = field(default_factory=dict)   # bandit: pulls per arm over all seeds
    orders: list = field(default_factory=list)  # per seed: query order (item indices)


@dataclass
class ReplayReport(Result):
    TYPE = "ReplayReport"
    target: str
    items: int
    top_k: dict                # "top 1%" -> K
    random_expectation: dict   # "top 1%" -> {"first_hit": ..., "all_found": ..., "found_at_budget": ...}
    params: dict
    policies: list
    source: dict = field(default_factory=dict)

    def policy(self, name: str) -> PolicySummary:
        return next(p for p in self.policies if p.policy == name)


def _label(f: float) -> str:
    return f"top {f * 100:g}%"


def check_params(p: ReplayParams, oracle: Oracle) -> None:
    if oracle.n == 0:
        raise InputError("empty candidate set")
    if p.budget < p.init:
        raise InputError(f"--budget {p.budget} is smaller than the seed set (--init {p.init})")
    if p.budget > oracle.n:
        raise InputError(f"--budget {p.budget} exceeds the {oracle.n} candidate items")
    if p.init > oracle.n:
        raise InputError(f"the seed set (--init {p.init}) exceeds the {oracle.n} candidate items")
    for f in p.top:
        if not 0 < f <= 1:
            raise InputError(f"--top fractions must lie in (0, 1], got {f}")
    parse_policies(p.policies)


def seed_set(oracle: Oracle, p: ReplayParams, s: int) -> np.ndarray:
    return np.random.default_rng([p.seed, s, 1]).choice(oracle.n, p.init, replace=False)


def _seed(base: int, s: int, policy: str) -> int:
    """A deterministic integer seed (not `hash()`, which is salted per process)."""
    return (base * 1_000_003 + s * 7_919 + sum(ord(ch) * 31 ** i for i, ch in enumerate(policy))) % 2**31


def run_campaign(oracle: Oracle, policy: str, p: ReplayParams, s: int) -> tuple[list[int], list[str]]:
    """One replayed campaign: the query order (item indices, length budget) and the bandit's arms."""
    c = Campaign(oracle.X, policy, p.surrogate, seed=_seed(p.seed, s, policy),
                 noise=oracle.noise, truth=oracle.y if policy == "oracle" else None)
    c.rng = np.random.default_rng([p.seed, s, 2, _seed(0, 0, policy)])
    if policy != "oracle" and p.init:
        init = seed_set(oracle, p, s)
        c.observe(init, oracle.y[init])
    while len(c.labelled) < p.budget:
        idx = c.propose(min(p.batch, p.budget - len(c.labelled)))
        if not idx:
            break
        c.observe(idx, oracle.y[idx])
    return c.labelled[:p.budget], c.arms


_ORACLE: list = []      # a worker process's copy of the oracle (sent once per worker, not once per task)


def _init_worker(oracle: Oracle) -> None:
    _ORACLE[:] = [oracle]


def _task(args):
    oracle, policy, p, s = args
    t = time.perf_counter()
    order, arms = run_campaign(oracle if oracle is not None else _ORACLE[0], policy, p, s)
    return policy, s, order, arms, time.perf_counter() - t


def summarise(oracle: Oracle, policy: str, p: ReplayParams, orders, arms_list, seconds: float) -> PolicySummary:
    N, n = oracle.n, p.budget
    ef, found, first, acc, curves = {}, {}, {}, {}, {}
    for f in p.top:
        top = oracle.top_set(f)
        K, lab = len(top), _label(f)
        cs = np.array([metrics.found_curve(o, top, n) for o in orders])
        ef[lab] = metrics.enhancement(cs[:, -1], n, N, seed=p.seed)
        found[lab] = metrics.bootstrap(cs[:, -1], seed=p.seed, what="median fraction found")
        hits = [metrics.first_hit(o, top) for o in orders]
        first[lab] = metrics.bootstrap(hits, seed=p.seed, unit="queries", what="median")
        med = float(np.median(hits))
        acc[lab] = metrics.random_first_hit(N, K) / med if med > 0 else math.nan
        lo, hi = np.quantile(cs, [0.025, 0.975], axis=0, method="inverted_cdf")
        curves[lab] = {"median": np.median(cs, 0).round(4).tolist(), "lower": lo.round(4).tolist(),
                       "upper": hi.round(4).tolist(), "mean": cs.mean(0).round(4).tolist()}
    pulls: dict = {}
    for arms in arms_list:
        for a in arms:
            pulls[a] = pulls.get(a, 0) + 1
    return PolicySummary(policy, p.surrogate if policy not in ("random", "oracle") else "-", len(orders), ef,
                         found, first, acc, curves, round(seconds, 2), pulls, [list(map(int, o)) for o in orders])


def run_replay(oracle: Oracle, params: ReplayParams | None = None, progress=None, **overrides) -> ReplayReport:
    """Replay every policy for `seeds` seeds against `oracle`; `progress(policy, seconds)` after each."""
    p = params if params is not None else make_params(ReplayParams, overrides, label="replay")
    if params is not None and overrides:
        p = make_params(ReplayParams, {**asdict(params), **overrides}, label="replay")
    check_params(p, oracle)
    policies = parse_policies(p.policies)
    results: dict = {pol: {} for pol in policies}
    tasks = [(oracle, pol, p, s) for pol in policies for s in range(p.seeds)]
    secs = {pol: 0.0 for pol in policies}
    if p.jobs > 1:
        # spawned workers: forking a parent that already runs OpenMP/numba threads (the featuriser) aborts
        with ProcessPoolExecutor(p.jobs, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_init_worker, initargs=(oracle,)) as ex:
            outs = list(ex.map(_task, [(None, *t[1:]) for t in tasks], chunksize=1))
    else:
        outs = []
        for pol in policies:
            for t in [t for t in tasks if t[1] == pol]:
                outs.append(_task(t))
            if progress:
                progress(pol, sum(o[4] for o in outs if o[0] == pol))
    for pol, s, order, arms, dt in outs:
        results[pol][s] = (order, arms)
        secs[pol] += dt
    summaries = []
    for pol in policies:
        runs = [results[pol][s] for s in range(p.seeds)]
        summaries.append(summarise(oracle, pol, p, [r[0] for r in runs], [r[1] for r in runs], secs[pol]))
    N = oracle.n
    top_k = {_label(f): len(oracle.top_set(f)) for f in p.top}
    rnd = {lab: {"first_hit": metrics.random_first_hit(N, K), "all_found": metrics.random_all_found(N, K),
                 "found_at_budget": metrics.random_found(p.budget, N)} for lab, K in top_k.items()}
    return ReplayReport(oracle.target, N, top_k, rnd, {k: (list(v) if isinstance(v, tuple) else v)
                                                       for k, v in asdict(p).items()}, summaries, oracle.source)


def format_estimate(e: Estimate, digits: int = 2) -> str:
    def f(x):
        return "inf" if x is not None and math.isinf(x) else f"{x:.{digits}f}"
    if e.lower is None:
        return f(e.value)
    return f"{f(e.value)} [{f(e.lower)}, {f(e.upper)}]"


def format_report(r: ReplayReport) -> str:
    labs = list(r.top_k)
    budget = r.params["budget"]
    lines = [f"replay: {r.target}, {r.items} items, budget {budget}, batch {r.params['batch']}, "
             f"{r.params['seeds']} seeds, seed set {r.params['init']}, surrogate {r.params['surrogate']}",
             "  K: " + ", ".join(f"{lab} = {k}" for lab, k in r.top_k.items())
             + f"; EF ceiling at n={budget}: N/n = {r.items / budget:.2f}",
             "  random expectation: " + "; ".join(
                 f"{lab}: first hit {v['first_hit']:.1f}, all found {v['all_found']:.1f}" for lab, v in
                 r.random_expectation.items())]
    head = ["policy"] + [f"EF {lab}" for lab in labs] + [f"first hit {lab}" for lab in labs] + ["s"]
    rows = [head]
    for p in r.policies:
        rows.append([p.policy] + [format_estimate(p.enhancement[lab]) for lab in labs]
                    + [format_estimate(p.first_hit[lab], 0) for lab in labs] + [f"{p.seconds:.0f}"])
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    for row in rows:
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)))
    slower = [p.policy for p in r.policies if p.policy != "random"
              and any(p.enhancement[lab].upper is not None and p.enhancement[lab].upper < 1 for lab in labs)]
    if slower:
        lines.append("  slower than random (EF interval below 1): " + ", ".join(slower))
    return "\n".join(lines)
