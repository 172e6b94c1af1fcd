"""PNG plots: MSD vs time per temperature, Arrhenius with the credible band."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from perovscreen.md.analysis import DiffusionResult, nernst_einstein
from perovscreen.md.arrhenius import ArrheniusResult


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_msd(results: list[DiffusionResult], path: str | Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for r in results:
        if r.msd is None:
            continue
        (line,) = ax.plot(r.lags_ps, r.msd, lw=1.2, label=f"{r.temperature:g} K ({r.status.replace('_', ' ')})")
        if r.D is not None:
            t0, t1 = r.fit_window_ps
            ax.axvspan(t0, t1, color=line.get_color(), alpha=0.06)
    ax.set_xlabel("lag time (ps)")
    ax.set_ylabel(r"$\langle \Delta r^2 \rangle$ (Å$^2$)")
    if ax.get_legend_handles_labels()[0]:  # no curves (every temperature failed): no empty legend warning
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return Path(path)


def plot_arrhenius(fit: ArrheniusResult, results: list[DiffusionResult], path: str | Path,
                   experiment: tuple | None = None) -> Path:
    """sigma*T-free Arrhenius plot of conductivity (S/cm) vs 1000/T with the 95% band; experiment=(T, sigma, label)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 3.6))
    b = fit.band
    x = 1000 / np.asarray(b["T"])
    if "sigma_med" in b:
        ax.fill_between(x, b["sigma_lo"], b["sigma_hi"], alpha=0.25, label="95% credible band")
        ax.plot(x, b["sigma_med"], lw=1)
    labels = set()

    def once(label):  # one legend entry per kind of point
        return None if label in labels or labels.add(label) else label

    for r in results:
        if r.sigma is not None:
            v, lo, hi = r.sigma.value, r.sigma.lower, r.sigma.upper
            ax.errorbar(1000 / r.temperature, v, yerr=[[v - max(lo, 1e-30)], [hi - v]], fmt="o", color="k", ms=4,
                        label=once("MD, Nernst-Einstein (95%)"))
        elif r.D_upper is not None:
            up = float(nernst_einstein(r.D_upper, r.temperature, r.number_density, r.charge, r.haven_ratio))
            ax.plot(1000 / r.temperature, up, "v", color="gray", label=once("upper bound (no diffusion)"))
    if fit.sigma_target is not None:
        st = fit.sigma_target
        ax.errorbar(1000 / fit.target_T, st.value, yerr=[[st.value - st.lower], [st.upper - st.value]],
                    fmt="s", color="C3", ms=5, label=f"{fit.target_T:g} K extrapolated")
    if experiment:
        ax.plot(1000 / experiment[0], experiment[1], "*", color="C2", ms=10, label=experiment[2])
    ax.set_yscale("log")
    ax.set_xlabel("1000 / T (1/K)")
    ax.set_ylabel(r"$\sigma$ (S/cm)")
    ax.set_title(f"Ea = {fit.Ea.value:.3f} eV [{fit.Ea.lower:.3f}, {fit.Ea.upper:.3f}]", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return Path(path)
