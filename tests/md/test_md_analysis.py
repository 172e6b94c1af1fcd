"""Analysis on synthetic trajectories with known answers: random walks, vibrating sites, planted Ea."""
import json

import numpy as np
import pytest

from scipy import stats

from perovscreen.core.errors import InputError
from perovscreen.core.results import Estimate, decode
from perovscreen.md.analysis import K_B_EV, DiffusionResult, analyse, estimate_d, msd_fft, nernst_einstein
from perovscreen.md.arrhenius import ArrheniusResult, arrhenius_fit, arrhenius_from_results
from perovscreen.md.trajectory import MobileTrajectory, unwrap

CELL = np.eye(3) * 12.0


def walk(d_cm2_s, n_frames=400, n=16, dt=0.1, seed=0, temperature=1000.0, fw_rmsd=0.3):
    """3D Gaussian random walk with diffusion coefficient d (cm^2/s), sampled every dt ps."""
    rng = np.random.default_rng(seed)
    step = np.sqrt(2 * d_cm2_s * 1e4 * dt)  # per-dimension sd in A
    sites = rng.uniform(0, 12, (n, 3))
    x = sites + np.cumsum(rng.normal(0, step, (n_frames, n, 3)), axis=0)
    return MobileTrajectory(np.arange(n_frames) * dt, x, CELL, temperature,
                            framework_rmsd=np.full(n_frames, fw_rmsd))


def test_msd_fft_matches_direct_average():
    x = np.cumsum(np.random.default_rng(1).normal(size=(60, 5, 3)), axis=0)
    direct = [np.mean(np.sum((x[m:] - x[:len(x) - m]) ** 2, -1)) for m in range(60)]
    np.testing.assert_allclose(msd_fft(x), direct, rtol=1e-9, atol=1e-9)


def test_random_walk_d_recovered_within_interval():
    r = analyse(walk(1e-5, n_frames=1000, n=32))
    assert r.status == "diffusing"
    assert r.D.contains(1e-5)
    assert r.D.value == pytest.approx(1e-5, rel=0.3)
    assert 0.8 < r.msd_exponent < 1.2


def test_interval_has_nominal_coverage_over_seeds():
    """A 95% interval should contain the true D in ~95% of repeated experiments (not 60%, not 100%)."""
    d_true, seeds = 1e-5, 200
    hits, widths = 0, []
    for s in range(seeds):
        x = walk(d_true, seed=s).positions
        est, _, _ = estimate_d(x, 0.1)
        hits += est.D.contains(d_true)
        widths.append(est.se)
    cov = hits / seeds
    assert 0.88 <= cov <= 0.99, cov
    # and the interval is informative: relative se around 15-20% for 16 ions x 40 ps
    assert 0.1 < np.mean(widths) / d_true < 0.3


def test_single_trajectory_uses_time_blocks():
    x = walk(1e-5, n_frames=2000, n=1).positions
    est, _, _ = estimate_d(x, 0.1)
    assert est.method == "blocks" and est.dof == 4 and est.se > 0


def test_vibrating_ions_give_no_diffusion_and_an_upper_bound():
    rng = np.random.default_rng(3)
    sites = rng.uniform(0, 12, (16, 3))
    x = sites + rng.normal(0, 0.15, (500, 16, 3))
    r = analyse(MobileTrajectory(np.arange(500) * 0.1, x, CELL, 300.0), hop_length=2.8)
    assert r.status == "no_diffusion"
    assert r.D is None and r.sigma is None
    detect = 10 * 2.8 ** 2 / (6 * 16 * 49.9) * 1e-4
    assert r.D_upper >= detect * (1 - 1e-9)


def test_slow_diffusion_below_detection_is_bounded_not_reported():
    d_true = 1e-8  # ~0.3 hop-equivalents in 50 ps for 16 ions
    r = analyse(walk(d_true, n_frames=500), hop_length=2.8)
    assert r.status == "no_diffusion" and r.D is None
    assert r.D_upper > d_true


def test_framework_melting_flagged_and_excluded():
    tr = walk(1e-5)
    tr.framework_rmsd = np.linspace(0.2, 3.0, tr.n_frames)
    r = analyse(tr)
    assert r.status == "melted" and r.D is None and r.framework_rmsd > 1.0


def test_common_drift_does_not_change_d():
    tr = walk(1e-5, seed=4)
    ref = analyse(tr).D.value
    drift = np.outer(tr.times_ps, [0.5, -0.2, 0.1])  # whole crystal sliding at 0.5 A/ps
    tr2 = MobileTrajectory(tr.times_ps, tr.positions + drift[:, None, :], CELL, tr.temperature,
                           framework_com=drift, framework_rmsd=tr.framework_rmsd)
    assert analyse(tr2).D.value == pytest.approx(ref, rel=1e-9)


def test_nernst_einstein_hand_value():
    # Li3OCl, a = 3.909 A, 3 Li per cell, D = 1e-6 cm^2/s, 300 K:
    # n e^2 D / kT = 5.0226e28 m^-3 * (1.602177e-19 C)^2 * 1e-10 m^2/s / 4.14195e-21 J = 31.13 S/m
    n = 3 / 3.909 ** 3
    assert nernst_einstein(1e-6, 300.0, n) == pytest.approx(0.3113, rel=1e-3)
    assert nernst_einstein(1e-6, 300.0, n, haven_ratio=0.5) == pytest.approx(0.6226, rel=1e-3)


def test_unwrap_round_trip():
    x = walk(1e-4, n_frames=100, n=4).positions
    frac = (x @ np.linalg.inv(CELL)) % 1.0
    np.testing.assert_allclose(unwrap(frac, CELL) - unwrap(frac, CELL)[0], x - x[0], atol=1e-9)


def test_result_serialises_and_round_trips():
    r = analyse(walk(1e-5))
    d = json.loads(json.dumps(r.to_dict()))
    assert d["@type"] == "DiffusionResult" and d["D"]["@type"] == "Estimate"
    assert d["status"] == "diffusing" and 10 < len(d["curve"]["lags_ps"]) <= 400
    back = DiffusionResult.from_dict(d)
    assert back == r and back.to_dict() == r.to_dict() and decode(d) == r
    assert isinstance(back.D, Estimate) and isinstance(back.fit_window_ps, tuple)
    assert back.msd is not None and len(back.msd) == len(d["curve"]["msd_A2"])  # thinned curve for plots
    # a no-diffusion result (D None, D_upper set) round-trips too
    frozen = analyse(MobileTrajectory(np.arange(500) * 0.1, np.tile(np.eye(3) * 3, (500, 1, 1))
                                      + np.random.default_rng(0).normal(0, 0.1, (500, 3, 3)), CELL, 300.0))
    assert frozen.status == "no_diffusion"
    assert DiffusionResult.from_dict(json.loads(json.dumps(frozen.to_dict()))) == frozen


def test_d_sigma_and_collective_are_95_percent_estimates():
    r = analyse(walk(1e-5, n_frames=1000, n=32))
    for est, unit in ((r.D, "cm2/s"), (r.sigma, "S/cm"), (r.D_collective, "cm2/s")):
        assert isinstance(est, Estimate) and est.level == 0.95 and est.unit == unit
        assert est.lower < est.value < est.upper
    assert r.D.method == "jackknife over ions (Student-t)"
    assert r.D_collective.method == "time-block average (Student-t)"
    # the interval is the Student-t one: value +- t(0.975, N-1) * D_se
    q = stats.t.ppf(0.975, 31)
    assert r.D.upper - r.D.value == pytest.approx(q * r.D_se, rel=1e-9)
    # Nernst-Einstein maps the D interval (linear in D)
    ne = lambda d: nernst_einstein(d, r.temperature, r.number_density)  # noqa: E731
    assert (r.sigma.value, r.sigma.lower, r.sigma.upper) == pytest.approx((ne(r.D.value), ne(r.D.lower),
                                                                         ne(r.D.upper)), rel=1e-12)


def test_bad_input_is_a_clear_error():
    with pytest.raises(InputError, match="frames"):
        estimate_d(np.zeros((5, 2, 3)), 0.1)
    with pytest.raises(InputError, match="evenly spaced"):
        MobileTrajectory([0, 1, 3], np.zeros((3, 1, 3)), CELL, 300)


def test_arrhenius_recovers_planted_ea_with_nominal_coverage():
    T = np.array([600.0, 800.0, 1000.0, 1200.0])
    ea, d0, s = 0.30, 1e-3, 0.15
    hits = 0
    for seed in range(200):
        rng = np.random.default_rng(seed)
        d = d0 * np.exp(-ea / (K_B_EV * T) + rng.normal(0, s, T.size))
        fit = arrhenius_fit(T, d, s * d, n_draws=2000, seed=seed)
        hits += fit.Ea.contains(ea)
    assert 0.9 <= hits / 200 <= 0.995


def test_arrhenius_estimates_on_exact_synthetic_data():
    """Exact Arrhenius points with a known Ea: every output is a 95% Estimate around the planted values."""
    T = np.array([600.0, 800.0, 1000.0, 1200.0])
    ea, d0 = 0.30, 1e-3
    d = d0 * np.exp(-ea / (K_B_EV * T))
    fit = arrhenius_fit(T, d, 0.05 * d, sigma_of=lambda x, t: nernst_einstein(x, t, 0.02))
    assert fit.Ea.value == pytest.approx(ea, abs=1e-9) and fit.D0.value == pytest.approx(d0, rel=1e-9)
    assert fit.chi2_dof == pytest.approx(0.0, abs=1e-12) and fit.birge_inflation == 1.0
    d300 = d0 * np.exp(-ea / (K_B_EV * 300))
    for est, unit, true in ((fit.Ea, "eV", ea), (fit.D0, "cm2/s", d0), (fit.D_target, "cm2/s", d300),
                            (fit.sigma_target, "S/cm", nernst_einstein(d300, 300.0, 0.02))):
        assert isinstance(est, Estimate) and est.level == 0.95 and est.unit == unit
        assert est.method == "bayesian (posterior draws)"
        assert est.lower < est.value < est.upper and est.contains(true)
    assert fit.D_target.value == pytest.approx(d300, rel=0.05)
    # the Ea interval has the width of the GLS posterior: 1.96 sd
    X = np.column_stack([np.ones_like(T), -1 / (K_B_EV * T)])
    sd = np.sqrt(np.linalg.inv(X.T @ X / 0.05 ** 2)[1, 1])
    assert fit.Ea.width == pytest.approx(2 * 1.96 * sd, rel=0.08)


def test_arrhenius_result_round_trips():
    T = [600.0, 800.0, 1000.0]
    d = [1e-7, 1e-6, 4e-6]
    fit = arrhenius_fit(T, d, [0.1 * x for x in d], sigma_of=lambda x, t: nernst_einstein(x, t, 0.02),
                        excluded={400.0: "melted"})
    d2 = json.loads(json.dumps(fit.to_dict()))
    assert d2["@type"] == "ArrheniusResult" and d2["Ea"]["unit"] == "eV" and "Ea_ci95" not in d2
    back = ArrheniusResult.from_dict(d2)
    assert back == fit and back.to_dict() == fit.to_dict() and back.excluded == {400.0: "melted"}


def test_end_to_end_synthetic_arrhenius_excludes_non_diffusing():
    ea, d0 = 0.25, 5e-3
    temps = [700.0, 900.0, 1100.0, 1300.0]
    results = [analyse(walk(d0 * np.exp(-ea / (K_B_EV * t)), n_frames=1500, n=24, seed=i, temperature=t))
               for i, t in enumerate(temps)]
    rng = np.random.default_rng(9)
    frozen = np.tile(rng.uniform(0, 12, (24, 3)), (500, 1, 1)) + rng.normal(0, 0.1, (500, 24, 3))
    results.append(analyse(MobileTrajectory(np.arange(500) * 0.1, frozen, CELL, 400.0)))
    fit = arrhenius_from_results(results)
    assert 400.0 in fit.excluded and "no diffusion" in fit.excluded[400.0]
    assert fit.Ea.contains(ea)
    d300 = d0 * np.exp(-ea / (K_B_EV * 300))
    assert fit.D_target.contains(d300)
    assert fit.sigma_target.lower < fit.sigma_target.value < fit.sigma_target.upper
    assert ArrheniusResult.from_dict(json.loads(json.dumps(fit.to_dict()))) == fit


def test_arrhenius_ea_is_never_negative():
    """D that falls with T within its errors (the demo-sized CHGNet runs of docs/md.md: 1700/1850/2000 K, D
    4.8/1.9/2.3e-5 cm2/s, 95% intervals overlapping) gives a negative least-squares Ea (-0.8 eV); the prior
    Ea >= 0 bounds the posterior at 0: every draw and both ends are positive, Ea is the posterior median, a
    note says so. Points that contradict an Arrhenius law outright are refused."""
    T, D = [1700.0, 1850.0, 2000.0], [4.81e-5, 1.87e-5, 2.28e-5]
    se = [1.9e-5, 0.7e-5, 0.9e-5]
    fit = arrhenius_fit(T, D, se, sigma_of=lambda x, t: nernst_einstein(x, t, 0.044))
    assert 0.0 < fit.Ea.lower < fit.Ea.value < fit.Ea.upper and "prior Ea >= 0" in fit.notes[0]
    assert fit.D0.lower > 0 and fit.D_target.lower < fit.D_target.value < fit.D_target.upper
    assert ArrheniusResult.from_dict(json.loads(json.dumps(fit.to_dict()))) == fit
    # a positive fit whose interval reached below 0 keeps its mode, and the lower end moves to > 0
    d = [1e-5, 1.2e-5, 1.3e-5]
    fit = arrhenius_fit(T, d, [0.3 * x for x in d])
    assert fit.Ea.lower > 0 and not fit.notes
    with pytest.raises(InputError, match="D falls with temperature"):
        arrhenius_fit(T, [1e-4, 1e-5, 1e-6], [1e-6, 1e-7, 1e-8])


def test_arrhenius_needs_two_points():
    with pytest.raises(InputError, match="at least 2"):
        arrhenius_fit([600.0], [1e-5], [1e-6])


def test_arrhenius_plot_has_one_legend_entry_per_kind_and_no_warnings(tmp_path, monkeypatch):
    import warnings

    import matplotlib.pyplot as plt

    from perovscreen.md.plots import plot_arrhenius

    ea, d0 = 0.25, 5e-3
    results = [analyse(walk(d0 * np.exp(-ea / (K_B_EV * t)), n_frames=600, n=24, seed=i, temperature=t))
               for i, t in enumerate([800.0, 1000.0, 1200.0])]
    rng = np.random.default_rng(3)
    for t in (500.0, 600.0):  # two non-diffusing temperatures: one "upper bound" entry, not two
        frozen = np.tile(rng.uniform(0, 12, (24, 3)), (300, 1, 1)) + rng.normal(0, 0.1, (300, 24, 3))
        results.append(analyse(MobileTrajectory(np.arange(300) * 0.1, frozen, CELL, t)))
    fit = arrhenius_from_results(results)
    labels, legend = [], plt.Axes.legend
    monkeypatch.setattr(plt.Axes, "legend",
                        lambda ax, *a, **kw: labels.extend(ax.get_legend_handles_labels()[1]) or legend(ax, *a, **kw))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = plot_arrhenius(fit, results, tmp_path / "a.png")
    assert path.stat().st_size > 5000
    assert sorted(labels) == sorted(["95% credible band", "MD, Nernst-Einstein (95%)", "upper bound (no diffusion)",
                                     "300 K extrapolated"])
