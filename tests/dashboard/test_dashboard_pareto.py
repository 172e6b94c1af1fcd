"""Known answers for the non-domination mask and the Monte Carlo P(non-dominated), and its speed."""
import time

import numpy as np
import pytest

from perovscreen.dashboard.pareto import non_dominated, prob_joins_front, prob_non_dominated


def test_front_of_five_points_minimising_both():
    pts = [(1, 4), (2, 2), (4, 1), (3, 3), (2, 5)]
    assert non_dominated(pts).tolist() == [True, True, True, False, False]
    assert non_dominated(np.c_[pts, np.ones(5)]).tolist() == [True, True, True, False, False]  # 3-D path
    assert non_dominated(-np.asarray(pts), [True, True]).tolist() == [True, True, True, False, False]


@pytest.mark.parametrize("m", [2, 3])
def test_identical_means_independent_noise(m):
    v = np.zeros((2, m))
    p = prob_non_dominated(v, v - 1, v + 1, np.full((2, m), 0.9), [False] * m, draws=40000, seed=1)
    assert np.allclose(p, 1 - 2.0 ** -m, atol=0.012)


def test_interval_clear_of_all_others_is_certain():
    v = np.array([[0.0, 0.0], [5.0, 5.0], [6.0, 4.0]])
    p = prob_non_dominated(v, v - 0.5, v + 0.5, np.full((3, 2), 0.9), [False, False], draws=2000)
    assert p[0] == 1.0 and p[1] == 0.0
    assert prob_joins_front((np.array([9.0, 9.0]), np.array([8.9, 8.9]), np.array([9.1, 9.1]), np.array([.9, .9])),
                            (v, v - .5, v + .5, np.full((3, 2), .9)), [False, False]) == 0.0


@pytest.mark.parametrize("m", [2, 3])
def test_ten_thousand_candidates_thousand_draws_within_two_seconds(m):
    rng = np.random.default_rng(0)
    n = 10_000
    v = rng.normal(size=(n, m))
    args = (np.full((n, m), 0.9), [True] + [False] * (m - 1))
    prob_non_dominated(v[:50], v[:50] - 0.3, v[:50] + 0.3, args[0][:50], args[1], draws=10)  # JIT, once per install
    t0 = time.perf_counter()
    p = prob_non_dominated(v, v - 0.3, v + 0.3, *args, draws=1000)
    dt = time.perf_counter() - t0
    print(f"P(non-dominated), 10^4 x 1000 draws, {m} objectives: {dt:.2f} s")
    assert dt <= 2.0 and 0 < (p > 0).sum() < 1000
