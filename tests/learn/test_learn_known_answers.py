"""Known answers: the exact random baseline, the oracle's K queries, model-based policies on Hartmann-6."""
import json
import math

import numpy as np
import pytest

from perovscreen.learn import metrics
from perovscreen.learn.campaign import Campaign
from perovscreen.learn.oracle import oracle_from_arrays
from perovscreen.learn.replay import ReplayParams, run_campaign, run_replay


def _toy(N=60):
    rng = np.random.default_rng(3)
    return oracle_from_arrays(rng.random((N, 3)), rng.permutation(N).astype(float))


def test_random_policy_matches_exact_expectations():
    N, K, S = 60, 5, 3000
    o = _toy(N)
    p = ReplayParams(budget=N, batch=7, seeds=S, init=4, policies="random", top=(K / N,))
    top = o.top_set(K / N)
    assert len(top) == K
    orders = [run_campaign(o, "random", p, s)[0] for s in range(S)]
    assert all(sorted(od) == list(range(N)) for od in orders[:50])      # without replacement
    first = np.array([metrics.first_hit(od, top) for od in orders])
    last = np.array([metrics.all_found(od, top) for od in orders])
    curves = np.array([metrics.found_curve(od, top) for od in orders])
    for got, want in ((first, metrics.random_first_hit(N, K)), (last, metrics.random_all_found(N, K))):
        se = got.std(ddof=1) / math.sqrt(S)
        assert abs(got.mean() - want) < 4 * se, (got.mean(), want, se)
    print(f"\nrandom N={N} K={K} {S} seeds: first hit {first.mean():.2f} (exact {(N + 1) / (K + 1):.2f}), "
          f"all found {last.mean():.2f} (exact {K * (N + 1) / (K + 1):.2f})")
    for n in (6, 15, 30, 45):
        se = curves[:, n - 1].std(ddof=1) / math.sqrt(S)
        assert abs(curves[:, n - 1].mean() - n / N) < 4 * se + 1e-9, (n, curves[:, n - 1].mean())


def test_oracle_finds_top_k_in_exactly_k_queries():
    o = _toy(80)
    for frac in (0.05, 0.1, 0.25):
        top = o.top_set(frac)
        K = len(top)
        order, _ = run_campaign(o, "oracle", ReplayParams(budget=40, batch=3, seeds=1, init=5), 0)
        assert metrics.all_found(order, top) == K
        assert metrics.first_hit(order, top) == 1
        assert metrics.found_curve(order, top)[K - 1] == 1.0
        assert metrics.found_curve(order, top)[K - 2] < 1.0 if K > 1 else True


def test_metrics_small_cases():
    top = [2, 5]
    order = [0, 5, 1, 2, 3]
    assert metrics.first_hit(order, top) == 2
    assert metrics.all_found(order, top) == 4
    assert metrics.found_curve(order, top).tolist() == [0, 0.5, 0.5, 1, 1]
    assert metrics.first_hit([0, 1], top) == math.inf
    e = metrics.enhancement([0.5, 0.5, 0.5], n=10, N=100)
    assert e.value == pytest.approx(5.0) and e.lower == pytest.approx(5.0)
    assert metrics.random_first_hit(478, 5) == pytest.approx(79.83, abs=0.01)
    assert metrics.random_all_found(478, 48) == pytest.approx(469.22, abs=0.01)


@pytest.mark.parametrize("surrogate,policies", [("forest", "random,greedy,ei"), ("gp", "random,greedy,ei")])
def test_model_policies_beat_random_on_hartmann6(hartmann_oracle, surrogate, policies):
    r = run_replay(hartmann_oracle, budget=60, batch=5, seeds=6, init=10, policies=policies, top=(0.02, 0.1),
                   surrogate=surrogate)
    for name in ("greedy", "ei"):
        ef = r.policy(name).enhancement["top 10%"]
        print(f"\nhartmann6 {surrogate} {name}: EF top 10% = {ef.value:.2f} [{ef.lower:.2f}, {ef.upper:.2f}], "
              f"top 2% = {r.policy(name).enhancement['top 2%'].value:.2f}")
        assert ef.lower > 1.5, (name, ef)
        assert ef.value > 1.5 * max(r.policy("random").enhancement["top 10%"].value, 1.0)


def test_campaign_resumes_exactly(hartmann_oracle):
    o = hartmann_oracle
    for policy, surrogate in (("bandit", "forest"), ("thompson", "gp")):
        a = Campaign(o.X, policy, surrogate, seed=11)
        a.observe(range(8), o.y[:8])
        for _ in range(3):
            idx = a.propose(4)
            a.observe(idx, o.y[idx])
        state = json.loads(json.dumps(a.to_state()))
        b = Campaign.from_state(state, o.X)
        for _ in range(2):
            ia, ib = a.propose(4), b.propose(4)
            assert ia == ib
            a.observe(ia, o.y[ia])
            b.observe(ib, o.y[ib])


def test_heteroscedastic_noise_reaches_the_gp():
    from perovscreen.learn.surrogates import GPSurrogate

    rng = np.random.default_rng(0)
    X = rng.random((40, 2))
    y = np.sin(4 * X[:, 0])
    g = GPSurrogate(dims=2)
    g.prepare(X)
    quiet = np.full(20, 1e-6)
    g.fit(np.arange(20), y[:20], quiet)
    _, s_quiet = g.predict()
    g2 = GPSurrogate(dims=2)
    g2.prepare(X)
    g2.theta = g.theta
    g2._fits = 1                         # reuse the hyper-parameters: only the noise differs
    loud = quiet.copy()
    loud[:10] = 0.5
    g2.fit(np.arange(20), y[:20], loud)
    _, s_loud = g2.predict()
    assert s_loud[:10].mean() > 1.5 * s_quiet[:10].mean()


def test_replay_in_two_processes_matches_one(hartmann_oracle):
    """Seeds run in spawned worker processes (the parent already runs OpenMP threads: fork would abort);
    every campaign is seeded by (seed, policy), so the query orders are the same as in one process."""
    kw = dict(budget=25, batch=5, seeds=2, init=10, policies="random,greedy")
    one = run_replay(hartmann_oracle, **kw)
    two = run_replay(hartmann_oracle, jobs=2, **kw)
    for a, b in zip(one.policies, two.policies):
        assert a.orders == b.orders
