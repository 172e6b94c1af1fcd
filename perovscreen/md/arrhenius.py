"""Bayesian Arrhenius fit of D(T) -> Ea, prefactor and sigma at a target temperature with credible intervals.

Model: ln D_i = ln D0 - Ea / (k_B T_i) + e_i, e_i ~ N(0, s_i^2), s_i = se(D_i)/D_i from the per-temperature
analysis. With flat priors on (ln D0, Ea) the posterior is Gaussian with the generalised-least-squares
mean and covariance. When the points scatter more than their errors allow (chi^2/dof > 1) the covariance
is inflated by chi^2/dof (Birge ratio), so a bad Arrhenius line widens the interval instead of hiding.
Credible intervals are percentiles of posterior draws. The prior also says Ea >= 0 (an activation energy is
positive): where noisy points make D fall with T, the posterior is the Gaussian truncated at Ea = 0 (Ea drawn
from the truncated marginal, ln D0 from its conditional), Ea is reported as the posterior median with a note,
and data that put less than 0.1% of the posterior above 0 are refused as contradicting an Arrhenius law.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from perovscreen.core.errors import InputError
from perovscreen.core.results import Estimate, Result
from perovscreen.md.analysis import K_B_EV, DiffusionResult, nernst_einstein


METHOD = "bayesian (posterior draws)"


@dataclass
class ArrheniusResult(Result):
    """Ea (eV), D0 (cm^2/s), D and sigma at target_T as `Estimate`s with 95% credible intervals (percentiles
    of posterior draws; Ea and D0 values are the posterior mode, D_target and sigma_target the median)."""

    TYPE = "ArrheniusResult"

    temperatures: list
    excluded: dict  # temperature -> reason
    Ea: Estimate
    D0: Estimate
    target_T: float
    D_target: Estimate
    sigma_target: Estimate | None
    chi2_dof: float | None
    birge_inflation: float
    band: dict = field(default_factory=dict, repr=False)  # T, D lo/median/hi (and sigma) for plots
    notes: list = field(default_factory=list)

    def __post_init__(self):
        self.temperatures = [float(t) for t in self.temperatures]
        self.excluded = {float(k): v for k, v in self.excluded.items()}  # JSON keys are strings


def _estimate(value, draws, unit: str) -> Estimate:
    lo, hi = np.percentile(draws, [2.5, 97.5])
    return Estimate(float(value), float(lo), float(hi), 0.95, unit, METHOD)


def arrhenius_fit(T, D, D_se, target_T=300.0, n_draws=4000, seed=0, sigma_of=None, excluded=None) -> ArrheniusResult:
    """Fit ln D against 1/T. sigma_of(D, T) -> S/cm converts draws into conductivities (optional)."""
    T, D, D_se = (np.asarray(v, float) for v in (T, D, D_se))
    if len(T) < 2:
        raise InputError(f"an Arrhenius fit needs at least 2 diffusing temperatures, got {len(T)}")
    if np.any(D <= 0) or np.any(D_se <= 0):
        raise InputError("Arrhenius fit needs positive D and positive standard errors")
    y, s = np.log(D), D_se / D
    X = np.column_stack([np.ones_like(T), -1.0 / (K_B_EV * T)])
    w = 1.0 / s ** 2
    cov = np.linalg.inv(X.T @ (X * w[:, None]))
    beta = cov @ X.T @ (w * y)
    dof = len(T) - 2
    chi2 = float(np.sum(w * (y - X @ beta) ** 2))
    chi2_dof = chi2 / dof if dof > 0 else None
    inflate = max(1.0, chi2_dof) if chi2_dof is not None else 1.0
    rng = np.random.default_rng(seed)
    draws = rng.multivariate_normal(beta, cov * inflate, size=n_draws)
    ln_d0, ea = draws[:, 0], draws[:, 1]
    ea_value, ln_d0_value, notes = beta[1], beta[0], []
    if np.any(ea <= 0):
        ln_d0, ea = _positive_ea_draws(beta, cov * inflate, n_draws, rng)
        if beta[1] <= 0:  # the mode sits on the bound: report medians
            ea_value, ln_d0_value = float(np.median(ea)), float(np.median(ln_d0))
            notes.append(f"the unconstrained fit gives Ea = {beta[1]:.3f} eV (D falls with T within its errors); "
                         "the prior Ea >= 0 bounds it and Ea, D0 are posterior medians")
    d_t = np.exp(ln_d0 - ea / (K_B_EV * target_T))
    grid = np.linspace(min(T.min(), target_T), T.max(), 60)
    dg = np.exp(ln_d0[:, None] - ea[:, None] / (K_B_EV * grid[None, :]))
    band = {"T": grid.tolist(), "D_lo": np.percentile(dg, 2.5, 0).tolist(),
            "D_med": np.median(dg, 0).tolist(), "D_hi": np.percentile(dg, 97.5, 0).tolist()}
    sig = None
    if sigma_of is not None:
        st = sigma_of(d_t, target_T)
        sig = _estimate(np.median(st), st, "S/cm")
        sg = sigma_of(dg, grid[None, :])
        band.update(sigma_lo=np.percentile(sg, 2.5, 0).tolist(), sigma_med=np.median(sg, 0).tolist(),
                    sigma_hi=np.percentile(sg, 97.5, 0).tolist())
    return ArrheniusResult(
        temperatures=T.tolist(), excluded=dict(excluded or {}), Ea=_estimate(ea_value, ea, "eV"),
        D0=_estimate(np.exp(ln_d0_value), np.exp(ln_d0), "cm2/s"), target_T=float(target_T),
        D_target=_estimate(np.median(d_t), d_t, "cm2/s"), sigma_target=sig,
        chi2_dof=chi2_dof, birge_inflation=float(np.sqrt(inflate)), band=band, notes=notes)


def _positive_ea_draws(mean, cov, n: int, rng) -> tuple:
    """(ln D0, Ea) draws from the Gaussian posterior truncated at Ea > 0: Ea from its truncated marginal,
    ln D0 from the conditional normal given Ea."""
    from scipy.stats import norm, truncnorm

    sd = float(np.sqrt(cov[1, 1]))
    if norm.sf(0.0, loc=mean[1], scale=sd) < 1e-3:
        raise InputError(f"D falls with temperature (Ea = {mean[1]:.3f} +- {sd:.3f} eV, less than 0.1% of the "
                         "posterior above 0): no physical Arrhenius fit")
    ea = truncnorm.rvs(-mean[1] / sd, np.inf, loc=mean[1], scale=sd, size=n, random_state=rng)
    slope = cov[0, 1] / cov[1, 1]
    ln_d0 = mean[0] + slope * (ea - mean[1]) + rng.normal(0.0, np.sqrt(max(cov[0, 0] - slope * cov[0, 1], 0.0)), n)
    return ln_d0, ea


def arrhenius_from_results(results: list[DiffusionResult], target_T=300.0, seed=0) -> ArrheniusResult:
    """Fit the diffusing temperatures; no-diffusion and melted runs are excluded (with the reason)."""
    use = [r for r in results if r.status == "diffusing"]
    excluded = {r.temperature: (f"no diffusion (D < {r.D_upper:.2e} cm^2/s)" if r.status == "no_diffusion"
                                else r.status) for r in results if r.status != "diffusing"}
    if len(use) < 2:
        raise InputError(f"an Arrhenius fit needs at least 2 diffusing temperatures, got {len(use)}"
                         + (f" (excluded: {excluded})" if excluded else ""))
    ref = use[0]

    def sigma_of(d, t):
        return nernst_einstein(d, t, ref.number_density, ref.charge, ref.haven_ratio)

    return arrhenius_fit([r.temperature for r in use], [r.D.value for r in use], [r.D_se for r in use],
                         target_T=target_T, seed=seed, sigma_of=sigma_of, excluded=excluded)
