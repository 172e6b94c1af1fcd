"""Bayesian Arrhenius fit of D(T) -> Ea, prefactor and sigma at a target temperature with credible intervals.

Model: ln D_i = ln D0 - Ea / (k_B T_i) + e_i, e_i ~ N(0, s_i^2), s_i = se(D_i)/D_i from the per-temperature
analysis. With flat priors on (ln D0, Ea) the posterior is Gaussian with the generalised-least-squares
mean and covariance. When the points scatter more than their errors allow (chi^2/dof > 1) the covariance
is inflated by chi^2/dof (Birge ratio), so a bad Arrhenius line widens the interval instead of hiding.
Credible intervals are percentiles of posterior draws.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from perovscreen.errors import InputError
from perovscreen.md.analysis import K_B_EV, DiffusionResult, nernst_einstein


@dataclass
class ArrheniusResult:
    """Ea (eV), D0 (cm^2/s), D and sigma at target_T with 95% credible intervals."""

    temperatures: list
    excluded: dict  # temperature -> reason
    Ea: float
    Ea_ci95: tuple
    D0: float
    D0_ci95: tuple
    target_T: float
    D_target: float
    D_target_ci95: tuple
    sigma_target: float | None
    sigma_target_ci95: tuple | None
    chi2_dof: float | None
    birge_inflation: float
    band: dict = field(default_factory=dict, repr=False)  # T, D lo/median/hi for plots

    def to_dict(self) -> dict:
        out = asdict(self)
        for k, v in out.items():
            if isinstance(v, tuple):
                out[k] = list(v)
        out["excluded"] = {str(k): v for k, v in self.excluded.items()}
        return out


def _ci(x) -> tuple:
    lo, hi = np.percentile(x, [2.5, 97.5])
    return float(lo), float(hi)


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
    draws = np.random.default_rng(seed).multivariate_normal(beta, cov * inflate, size=n_draws)
    ln_d0, ea = draws[:, 0], draws[:, 1]
    d_t = np.exp(ln_d0 - ea / (K_B_EV * target_T))
    grid = np.linspace(min(T.min(), target_T), T.max(), 60)
    dg = np.exp(ln_d0[:, None] - ea[:, None] / (K_B_EV * grid[None, :]))
    band = {"T": grid.tolist(), "D_lo": np.percentile(dg, 2.5, 0).tolist(),
            "D_med": np.median(dg, 0).tolist(), "D_hi": np.percentile(dg, 97.5, 0).tolist()}
    sig = sig_ci = None
    if sigma_of is not None:
        st = sigma_of(d_t, target_T)
        sig, sig_ci = float(np.median(st)), _ci(st)
        sg = sigma_of(dg, grid[None, :])
        band.update(sigma_lo=np.percentile(sg, 2.5, 0).tolist(), sigma_med=np.median(sg, 0).tolist(),
                    sigma_hi=np.percentile(sg, 97.5, 0).tolist())
    return ArrheniusResult(
        temperatures=T.tolist(), excluded=dict(excluded or {}), Ea=float(beta[1]), Ea_ci95=_ci(ea),
        D0=float(np.exp(beta[0])), D0_ci95=_ci(np.exp(ln_d0)), target_T=float(target_T),
        D_target=float(np.median(d_t)), D_target_ci95=_ci(d_t), sigma_target=sig, sigma_target_ci95=sig_ci,
        chi2_dof=chi2_dof, birge_inflation=float(np.sqrt(inflate)), band=band)


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

    return arrhenius_fit([r.temperature for r in use], [r.D for r in use], [r.D_se for r in use],
                         target_T=target_T, seed=seed, sigma_of=sigma_of, excluded=excluded)
