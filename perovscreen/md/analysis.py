"""Mobile-ion MSD -> D with an interval honest for correlated data -> Nernst-Einstein conductivity.

Conventions: positions in Angstrom, time in ps, D in cm^2/s, sigma in S/cm, 3D diffusion.

Uncertainty: MSDs at different lags and from overlapping time origins are strongly correlated, so the
textbook standard error of a least-squares slope is far too small (pymatgen-analysis-diffusion's simple
error is known to be). The ion-averaged OLS slope is exactly the mean of the per-ion slopes, each taken
over that ion's whole trajectory, so all of its time correlation is inside each per-ion value: D's
standard error is their spread / sqrt(n) with a Student-t interval (a jackknife over ions). Coverage is
tested on random walks. For a single trajectory (the collective, centre-of-charge MSD) we block-average
over non-overlapping time segments instead (Flyvbjerg & Petersen, J. Chem. Phys. 91, 461 (1989)).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from perovscreen.core.errors import InputError
from perovscreen.core.results import Estimate, Result, transient
from perovscreen.md.trajectory import MobileTrajectory

A2_PS_TO_CM2_S = 1e-4  # 1 A^2/ps = 1e-16 cm^2 / 1e-12 s
E_CHARGE = 1.602176634e-19  # C
K_B = 1.380649e-23  # J/K
K_B_EV = 8.617333262e-5  # eV/K


def msd_fft(x: np.ndarray, average: bool = True) -> np.ndarray:
    """MSD(lag) over all time origins; x is (n_frames, n, dim), unwrapped. Averaged over particles, or
    (n_frames, n) per particle with average=False. O(N log N) by the Wiener-Khinchin route
    (Calandrini et al., Collection SFN 12, 201 (2011))."""
    x = np.asarray(x, float)
    n_t, n = x.shape[:2]
    sq = np.einsum("tid,tid->ti", x, x)
    cs = np.concatenate([np.zeros((1, n)), np.cumsum(sq, axis=0)])
    m = np.arange(n_t)
    norm = (n_t - m)[:, None]
    s1 = (cs[n_t - m] + cs[n_t] - cs[m]) / norm
    f = np.fft.rfft(x, n=2 * n_t, axis=0)
    ac = np.fft.irfft((f.real ** 2 + f.imag ** 2).sum(-1), n=2 * n_t, axis=0)[:n_t]
    out = s1 - 2 * ac / norm
    return out.mean(axis=1) if average else out


def nernst_einstein(d_cm2_s, temperature, number_density_a3, charge=1.0, haven_ratio=1.0):
    """sigma (S/cm) = n q^2 D / (H_R k_B T); n in ions per A^3."""
    n_m3 = number_density_a3 * 1e30
    d_m2_s = np.asarray(d_cm2_s, float) * 1e-4
    return n_m3 * (charge * E_CHARGE) ** 2 * d_m2_s / (haven_ratio * K_B * temperature) * 1e-2


def _slope(t: np.ndarray, y: np.ndarray) -> np.ndarray:
    """OLS slopes of y (..., n_lag) against t (n_lag)."""
    tc = t - t.mean()
    return (y - y.mean(-1, keepdims=True)) @ tc / (tc @ tc)


def fit_window(n_frames: int, dt_ps: float, window_ps=None) -> tuple:
    """((t0, t1) in ps, first lag index, last lag index); default 10%-50% of the run."""
    total = (n_frames - 1) * dt_ps
    t0, t1 = window_ps if window_ps else (0.1 * total, 0.5 * total)
    lo, hi = max(1, int(round(t0 / dt_ps))), min(n_frames - 1, int(round(t1 / dt_ps)))
    if hi - lo < 2:
        raise InputError(f"fit window {t0:g}-{t1:g} ps holds fewer than 3 lags of {dt_ps:g} ps")
    return (float(t0), float(t1)), lo, hi


MIN_FRAMES = 20  # production frames an MSD fit needs
METHOD_IONS = "jackknife over ions (Student-t)"
METHOD_BLOCKS = "time-block average (Student-t)"


@dataclass
class DEstimate:
    """A diffusion coefficient from an MSD slope: `D` (cm^2/s, 95% interval), its standard error and the
    degrees of freedom of the Student-t interval."""

    D: Estimate
    se: float
    dof: int

    @property
    def method(self) -> str:
        return "ions" if self.D.method == METHOD_IONS else "blocks"

    def bound(self, level: float = 0.95) -> float:
        """One-sided upper bound of D at `level`."""
        return float(self.D.value + stats.t.ppf(level, self.dof) * self.se)


def estimate_d(x, dt_ps, fit_window_ps=None, n_blocks=5, dim=3) -> tuple:
    """D from the MSD slope over fit_window_ps (default 10%-50% of the run) with an interval honest for
    correlated data: jackknife over particles when there are several, else time-block averaging.
    Returns (DEstimate, lags_ps, msd averaged over particles)."""
    x = np.asarray(x, float)
    n_t, n = x.shape[:2]
    if n_t < MIN_FRAMES:
        raise InputError(f"trajectory has {n_t} frames; need at least {MIN_FRAMES} for an MSD fit")
    _, lo, hi = fit_window(n_t, dt_ps, fit_window_ps)
    lags = np.arange(n_t) * dt_ps
    per = msd_fft(x, average=False)
    to_d = A2_PS_TO_CM2_S / (2 * dim)
    if n > 1:
        di = _slope(lags[lo:hi + 1], per[lo:hi + 1].T) * to_d
        d, se, dof, method = float(di.mean()), float(di.std(ddof=1) / np.sqrt(n)), n - 1, METHOD_IONS
    else:
        seg = n_t // n_blocks
        f0, f1 = lo / (n_t - 1), hi / (n_t - 1)
        db = []
        for b in range(n_blocks):
            xb = x[b * seg:(b + 1) * seg]
            _, blo, bhi = fit_window(seg, dt_ps, (f0 * (seg - 1) * dt_ps, f1 * (seg - 1) * dt_ps))
            db.append(_slope(lags[blo:bhi + 1], msd_fft(xb)[blo:bhi + 1]) * to_d)
        db = np.array(db)
        d, se, dof, method = float(db.mean()), float(db.std(ddof=1) / np.sqrt(n_blocks)), n_blocks - 1, METHOD_BLOCKS
    q = float(stats.t.ppf(0.975, dof))
    est = Estimate(d, d - q * se, d + q * se, 0.95, "cm2/s", method)
    return DEstimate(est, se, dof), lags, per.mean(axis=1)


def framework_melted(rmsd: np.ndarray | None, threshold: float = 1.0, tail: float = 0.1) -> tuple:
    """(melted?, mean framework RMSD over the last `tail` of the run): a crystal's framework vibrates
    about its sites (RMSD ~0.1-0.5 A); a molten or amorphised one drifts away (> threshold, A)."""
    if rmsd is None or len(rmsd) == 0:
        return False, None
    r = np.asarray(rmsd, float)
    last = float(r[-max(1, int(len(r) * tail)):].mean())
    return last > threshold, last


@dataclass
class DiffusionResult(Result):
    """Diffusion and conductivity of the mobile ion at one temperature.

    D, sigma and D_collective are `Estimate`s (95% intervals); `curve` is the MSD thinned to <= ~200 points
    (serialised; None drops it); lags_ps, msd and msd_collective are the full curves, in memory only."""

    TYPE = "DiffusionResult"

    temperature: float
    mobile: str
    n_mobile: int
    duration_ps: float
    dt_ps: float
    fit_window_ps: tuple
    status: str  # "diffusing" | "no_diffusion" | "melted"
    D: Estimate | None  # tracer D (cm^2/s, 95%); None unless status == "diffusing"
    D_se: float | None  # standard error of D (cm^2/s)
    D_upper: float | None  # one-sided 95% upper bound when status == "no_diffusion"
    hop_equivalents: float
    msd_exponent: float
    sigma: Estimate | None  # Nernst-Einstein (S/cm, 95%)
    number_density: float  # mobile ions per A^3
    charge: float
    haven_ratio: float
    D_collective: Estimate | None = None  # centre-of-charge D (cm^2/s, 95%, time blocks)
    framework_rmsd: float | None = None
    notes: list = field(default_factory=list)
    curve: dict | None = None  # {"lags_ps": [...], "msd_A2": [...]}, thinned
    lags_ps: np.ndarray | None = transient()
    msd: np.ndarray | None = transient()
    msd_collective: np.ndarray | None = transient()

    def __post_init__(self):
        self.fit_window_ps = tuple(float(v) for v in self.fit_window_ps)
        if self.curve is None and self.msd is not None and self.lags_ps is not None:
            step = max(1, len(self.msd) // 200)
            self.curve = {"lags_ps": np.asarray(self.lags_ps)[::step].tolist(),
                          "msd_A2": np.asarray(self.msd)[::step].tolist()}
        elif self.curve is not None and self.msd is None:  # read back: the thinned curve for plots
            self.lags_ps, self.msd = np.asarray(self.curve["lags_ps"]), np.asarray(self.curve["msd_A2"])


def analyse(traj: MobileTrajectory, fit_window_ps=None, haven_ratio=1.0, min_hops=10.0, hop_length=None,
            melt_rmsd=1.0, collective=True) -> DiffusionResult:
    """Analyse one trajectory: tracer D with interval, no-diffusion test, melting test, conductivity.

    No diffusion: the 95% interval of D reaches zero, or the MSD rise over the run amounts to fewer than
    `min_hops` jumps of `hop_length` (default: nearest mobile-mobile distance) summed over all ions;
    then D is reported only as an upper bound (the larger of the one-sided 95% bound and the
    detection limit min_hops * a^2 / (6 N t)).
    """
    x = traj.drift_corrected()
    n, dt = traj.n_mobile, traj.dt_ps
    est, lags, msd = estimate_d(x, dt, fit_window_ps)
    window, lo, hi = fit_window(len(lags), dt, fit_window_ps)
    sel = slice(lo, hi + 1)
    pos = msd[sel] > 0
    alpha = float(np.polyfit(np.log(lags[sel][pos]), np.log(msd[sel][pos]), 1)[0]) if pos.sum() > 2 else float("nan")
    a = hop_length or _nearest_distance(traj.positions[0], traj.cell)
    duration = float(lags[-1])
    hops = float(n * 6 * max(est.D.value, 0.0) / A2_PS_TO_CM2_S * duration / a ** 2)
    rho = n / traj.volume
    melted, rmsd = framework_melted(traj.framework_rmsd, melt_rmsd)
    notes = []
    if melted:
        status = "melted"
        notes.append(f"framework RMSD {rmsd:.2f} A > {melt_rmsd} A: molten/amorphised, excluded from fits")
    elif est.D.lower <= 0 or hops < min_hops:
        status = "no_diffusion"
        notes.append(f"{hops:.1f} hop-equivalents of {a:.2f} A (< {min_hops:g}) or D interval reaches 0")
    else:
        status = "diffusing"
    if status == "diffusing" and alpha < 0.7:
        notes.append(f"MSD exponent {alpha:.2f} < 0.7 in the fit window: not yet diffusive, D is uncertain")
    d_upper = None
    if status == "no_diffusion":
        detect = min_hops * a ** 2 / (6 * n * duration) * A2_PS_TO_CM2_S
        d_upper = float(max(est.bound(0.95), detect))
    ok = status == "diffusing"
    d_coll = msd_c = None
    if collective and n > 1:
        try:
            ec, _, msd_c = estimate_d(x.sum(axis=1, keepdims=True) / np.sqrt(n), dt, window)
            d_coll = ec.D
            notes.append("collective (charge) D from one centre-of-charge trajectory (time blocks): noisy, "
                         "not used for sigma")
        except InputError as exc:
            notes.append(f"no collective D: run too short for time blocks ({exc})")
    ne = lambda v: float(nernst_einstein(v, traj.temperature, rho, traj.charge, haven_ratio))  # noqa: E731
    sigma = None
    if ok:  # Nernst-Einstein is linear in D: the interval maps through it
        sigma = Estimate(ne(est.D.value), ne(est.D.lower), ne(est.D.upper), est.D.level, "S/cm",
                         f"{est.D.method}, Nernst-Einstein")
    return DiffusionResult(
        temperature=float(traj.temperature), mobile=traj.mobile, n_mobile=n, duration_ps=duration, dt_ps=dt,
        fit_window_ps=window, status=status,
        D=est.D if ok else None, D_se=est.se if ok else None, D_upper=d_upper,
        hop_equivalents=hops, msd_exponent=alpha, sigma=sigma,
        number_density=rho, charge=float(traj.charge), haven_ratio=float(haven_ratio),
        D_collective=d_coll, framework_rmsd=rmsd, notes=notes,
        lags_ps=lags, msd=msd, msd_collective=msd_c)


def _nearest_distance(pos: np.ndarray, cell: np.ndarray) -> float:
    """Shortest distance between two of the given sites under periodic boundaries (minimum image)."""
    if len(pos) < 2:
        return 2.5
    inv = np.linalg.inv(cell)
    d = (pos[:, None, :] - pos[None, :, :]) @ inv
    d -= np.round(d)
    r = np.linalg.norm(d @ cell, axis=-1)
    r[np.diag_indices(len(pos))] = np.inf
    return float(r.min())
