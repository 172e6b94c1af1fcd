"""Known answers: 2D hypervolume by hand, EHVI of a deterministic point, multi-fidelity stacking on the
augmented Branin, cost-aware EI, and the campaign's two-objective and failure book-keeping."""
import numpy as np
import pytest

from perovscreen.learn import pareto
from perovscreen.learn.acquisition import expected_improvement, select
from perovscreen.learn.campaign import Campaign
from perovscreen.learn.fidelity import augmented_branin, compare, summary


def test_hypervolume_of_a_small_front_by_hand():
    # front (1, 3), (2, 2), (3, 1) over ref (0, 0): staircase 1*3 + 1*2 + 1*1 = 6
    P = np.array([[1, 3], [2, 2], [3, 1], [1.5, 1.5]])           # the last point is dominated
    assert pareto.hypervolume(P, [0, 0]) == pytest.approx(6.0)
    assert pareto.pareto_mask(P).tolist() == [True, True, True, False]
    assert pareto.hypervolume(P, [1, 1]) == pytest.approx(1.0)   # only (2, 2) sticks out: 1 x 1
    assert pareto.hypervolume(np.empty((0, 2)), [0, 0]) == 0.0
    # (2.5, 2.5) adds (1, 2] x (2, 2.5] + (2, 2.5] x (1, 2.5] = 0.5 + 0.75; (4, 4) adds 16 - 6
    z = np.array([[2.5, 2.5], [0.5, 0.5], [4, 4]])
    hvi = pareto.hv_improvement(P, [0, 0], z)
    exact = [pareto.hypervolume(np.vstack([P, p]), [0, 0]) - 6.0 for p in z]
    assert hvi == pytest.approx(exact)
    assert hvi[0] == pytest.approx(1.25) and hvi[1] == 0.0 and hvi[2] == pytest.approx(10.0)


def test_ehvi_of_a_deterministic_point_is_its_improvement():
    P = np.array([[1, 3], [2, 2], [3, 1]])
    z = np.array([[2.5, 2.5], [3.5, 0.5]])
    draws = np.repeat(z[None], 16, axis=0)                         # zero posterior spread
    assert pareto.ehvi(P, [0, 0], draws) == pytest.approx(pareto.hv_improvement(P, [0, 0], z))
    # with spread, EHVI >= HVI of the mean (HVI is convex along the axes above the front)
    rng = np.random.default_rng(0)
    noisy = z[None] + 0.3 * rng.standard_normal((4000, 2, 2))
    assert np.all(pareto.ehvi(P, [0, 0], noisy) >= pareto.hv_improvement(P, [0, 0], z) - 1e-9)


def test_two_objective_campaign_with_ehvi():
    rng = np.random.default_rng(1)
    X = rng.random((120, 3))
    Y = np.stack([X[:, 0] + 0.1 * X[:, 2], 1 - X[:, 0] + 0.1 * X[:, 1]], 1)   # a trade-off
    c = Campaign(X, "ehvi", "gp", seed=0, objectives=2)
    c.observe(range(10), Y[:10])
    for _ in range(4):
        idx = c.propose(5)
        assert len(set(idx)) == 5 and not set(idx) & set(c.labelled)
        assert all(p["acquisition"] is not None and len(p["mean"]) == 2 for p in c.last)
        c.observe(idx, Y[idx])
    ref = pareto.reference_point(Y)
    hv = pareto.hypervolume(np.asarray(c.values), ref)
    rnd = np.mean([pareto.hypervolume(Y[rng.choice(120, 30, replace=False)], ref) for _ in range(50)])
    assert hv > rnd


def test_eipc_prefers_cheap_candidates_and_failures_are_excluded():
    mean, std = np.array([1.0, 1.0, 0.5]), np.array([0.5, 0.5, 0.5])

    class Fixed:
        def predict(self):
            return mean, std

    free = np.ones(3, bool)
    rng = np.random.default_rng(0)
    idx, vals = select("eipc", 1, free, rng, [Fixed()], best=0.8, cost=np.array([10.0, 1.0, 1.0]))
    assert idx == [1]
    assert vals[0] == pytest.approx(expected_improvement(mean, std, 0.8)[1] / 1.0)
    c = Campaign(np.eye(6), "random", seed=0)
    c.fail([2, 4])
    picks = c.propose(6)
    assert sorted(picks) == [0, 1, 3, 5]


def test_cheap_fidelity_lowers_the_error_at_equal_cost():
    """Augmented Branin, low fidelity s = 0 at 1/100 of the cost: a GP on [x, f_low(x)] predicts the
    target far better than a GP on x alone after the same spend (cheap pass included)."""
    p = augmented_branin(200, seed=3)
    tr = compare(p, 30, strategies=("single", "stacked"), seeds=3, batch=5, init=5, surrogate="gp")
    s = {r["strategy"]: r for r in summary(p, tr, 30)}
    print({k: (round(v["rmse"], 2), v["cost_to_top"]) for k, v in s.items()})
    assert s["stacked"]["spent"]["s=0"] == pytest.approx(2.0)       # 200 cheap evaluations at 0.01
    assert s["stacked"]["rmse"] < 0.6 * s["single"]["rmse"]
    assert s["stacked"]["best_at_budget"] >= s["single"]["best_at_budget"]
