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

from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import stats

from perovscreen.errors import InputError
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


@dataclass
class DEstimate:
    """A diffusion coefficient (cm^2/s) from an MSD slope with its standard error and 95% interval."""

    D: float
    se: float
    ci95: tuple
    dof: int
    method: str  # "ions" (jackknife over ions) or "blocks" (time-block averaging)

    def to_dict(self) -> dict:
        return {"D": self.D, "se": self.se, "ci95": list(self.ci95), "dof": self.dof, "method": self.method}


def estimate_d(x, dt_ps, fit_window_ps=None, n_blocks=5, dim=3) -> tuple:
    """D from the MSD slope over fit_window_ps (default 10%-50% of the run) with an interval honest for
    correlated data: jackknife over particles when there are several, else time-block averaging.
    Returns (DEstimate, lags_ps, msd averaged over particles)."""
    x = np.asarray(x, float)
    n_t, n = x.shape[:2]
    if n_t < 20:
        raise InputError(f"trajectory has {n_t} frames; need at least 20 for an MSD fit")
    _, lo, hi = fit_window(n_t, dt_ps, fit_window_ps)
    lags = np.arange(n_t) * dt_ps
    per = msd_fft(x, average=False)
    to_d = A2_PS_TO_CM2_S / (2 * dim)
    if n > 1:
        di = _slope(lags[lo:hi + 1], per[lo:hi + 1].T) * to_d
        d, se, dof, method = float(di.mean()), float(di.std(ddof=1) / np.sqrt(n)), n - 1, "ions"
    else:
        seg = n_t // n_blocks
        f0, f1 = lo / (n_t - 1), hi / (n_t - 1)
        db = []
        for b in range(n_blocks):
            xb = x[b * seg:(b + 1) * seg]
            _, blo, bhi = fit_window(seg, dt_ps, (f0 * (seg - 1) * dt_ps, f1 * (seg - 1) * dt_ps))
            db.append(_slope(lags[blo:bhi + 1], msd_fft(xb)[blo:bhi + 1]) * to_d)
        db = np.array(db)
        d, se, dof, method = float(db.mean()), float(db.std(ddof=1) / np.sqrt(n_blocks)), n_blocks - 1, "blocks"
    q = stats.t.ppf(0.975, dof)
    return DEstimate(d, se, (d - q * se, d + q * se), dof, method), lags, per.mean(axis=1)


def framework_melted(rmsd: np.ndarray | None, threshold: float = 1.0, tail: float = 0.1) -> tuple:
    """(melted?, mean framework RMSD over the last `tail` of the run): a crystal's framework vibrates
    about its sites (RMSD ~0.1-0.5 A); a molten or amorphised one drifts away (> threshold, A)."""
    if rmsd is None or len(rmsd) == 0:
        return False, None
    r = np.asarray(rmsd, float)
    last = float(r[-max(1, int(len(r) * tail)):].mean())
    return last > threshold, last


@dataclass
class DiffusionResult:
    """Diffusion and conductivity of the mobile ion at one temperature."""

    temperature: float
    mobile: str
    n_mobile: int
    duration_ps: float
    dt_ps: float
    fit_window_ps: tuple
    status: str  # "diffusing" | "no_diffusion" | "melted"
    D: float | None  # tracer D (cm^2/s); None unless status == "diffusing"
    D_ci95: tuple | None
    D_se: float | None
    D_upper: float | None  # one-sided 95% upper bound when status == "no_diffusion"
    hop_equivalents: float
    msd_exponent: float
    sigma: float | None  # Nernst-Einstein (S/cm)
    sigma_ci95: tuple | None
    number_density: float  # mobile ions per A^3
    charge: float
    haven_ratio: float
    D_collective: float | None = None
    D_collective_ci95: tuple | None = None
    framework_rmsd: float | None = None
    notes: list = field(default_factory=list)
    lags_ps: np.ndarray | None = field(default=None, repr=False)
    msd: np.ndarray | None = field(default=None, repr=False)
    msd_collective: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self, curves: bool = True) -> dict:
        out = {k: v for k, v in asdict(self).items()
               if k not in ("lags_ps", "msd", "msd_collective")}
        for k, v in out.items():
            if isinstance(v, tuple):
                out[k] = list(v)
        if curves and self.msd is not None:
            step = max(1, len(self.msd) // 200)
            out["curve"] = {"lags_ps": self.lags_ps[::step].tolist(), "msd_A2": self.msd[::step].tolist()}
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "DiffusionResult":
        d = dict(d)
        curve = d.pop("curve", None)
        for k in ("fit_window_ps", "D_ci95", "sigma_ci95", "D_collective_ci95"):
            if d.get(k) is not None:
                d[k] = tuple(d[k])
        r = cls(**d)
        if curve:
            r.lags_ps, r.msd = np.asarray(curve["lags_ps"]), np.asarray(curve["msd_A2"])
        return r


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
    hops = float(n * 6 * max(est.D, 0.0) / A2_PS_TO_CM2_S * duration / a ** 2)
    rho = n / traj.volume
    melted, rmsd = framework_melted(traj.framework_rmsd, melt_rmsd)
    notes = []
    if melted:
        status = "melted"
        notes.append(f"framework RMSD {rmsd:.2f} A > {melt_rmsd} A: molten/amorphised, excluded from fits")
    elif est.ci95[0] <= 0 or hops < min_hops:
        status = "no_diffusion"
        notes.append(f"{hops:.1f} hop-equivalents of {a:.2f} A (< {min_hops:g}) or D interval reaches 0")
    else:
        status = "diffusing"
    if status == "diffusing" and alpha < 0.7:
        notes.append(f"MSD exponent {alpha:.2f} < 0.7 in the fit window: not yet diffusive, D is uncertain")
    d_upper = None
    if status == "no_diffusion":
        detect = min_hops * a ** 2 / (6 * n * duration) * A2_PS_TO_CM2_S
        d_upper = float(max(est.D + stats.t.ppf(0.95, est.dof) * est.se, detect))
    ok = status == "diffusing"
    d_coll = d_coll_ci = msd_c = None
    if collective and n > 1:
        try:
            ec, _, msd_c = estimate_d(x.sum(axis=1, keepdims=True) / np.sqrt(n), dt, window)
            d_coll, d_coll_ci = ec.D, ec.ci95
            notes.append("collective (charge) D from one centre-of-charge trajectory (time blocks): noisy, "
                         "not used for sigma")
        except InputError as exc:
            notes.append(f"no collective D: run too short for time blocks ({exc})")
    ne = lambda v: float(nernst_einstein(v, traj.temperature, rho, traj.charge, haven_ratio))  # noqa: E731
    return DiffusionResult(
        temperature=float(traj.temperature), mobile=traj.mobile, n_mobile=n, duration_ps=duration, dt_ps=dt,
        fit_window_ps=window, status=status,
        D=est.D if ok else None, D_ci95=est.ci95 if ok else None, D_se=est.se if ok else None, D_upper=d_upper,
        hop_equivalents=hops, msd_exponent=alpha,
        sigma=ne(est.D) if ok else None, sigma_ci95=tuple(ne(v) for v in est.ci95) if ok else None,
        number_density=rho, charge=traj.charge, haven_ratio=haven_ratio,
        D_collective=d_coll, D_collective_ci95=d_coll_ci, framework_rmsd=rmsd, notes=notes,
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
