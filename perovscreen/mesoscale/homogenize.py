"""sigma_eff of a microstructure: voxel tensors -> solver -> tensor, eigenvalues, GB share, brick layer.

Solver choice ('auto'): the spectral FFT scheme when there are no GB voxels (it is exact for rotated
laminates and 2D polycrystals, and converges fastest on the checkerboard); the finite-volume PCG when
there are (harmonic face conductivities keep a one-voxel resistive GB resistive, where the spectral
scheme leaks through voxel corners; see docs/mesoscale.md for the measured differences).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from perovscreen.core.errors import InputError
from perovscreen.core.results import Result
from perovscreen.mesoscale.fft_solver import solve_fft
from perovscreen.mesoscale.fv_solver import solve_fv
from perovscreen.mesoscale.microstructure import Microstructure
from perovscreen.mesoscale.tensors import check_positive, check_tensor, voxel_field

SOLVERS = ("auto", "fft", "fv")


@dataclass
class EffectiveConductivity(Result):
    """Effective conductivity of one microstructure (units of the inputs, e.g. S/cm).

    gb_resistance_share: the fraction of the dissipation (= of the resistance, at fixed mean current)
    that falls in GB voxels, mean over the solved axes; gb_current_share: the fraction of the mean
    current carried by GB voxels (large when the GB network is the fast path); brick_layer: the series + parallel-wall
    brick-layer estimate for the same grain size, GB width and conductivities, for comparison."""

    TYPE = "MesoEffectiveConductivity"

    sigma_eff: list
    eigenvalues: list
    sigma_mean: float
    solver: str
    iterations: list
    residuals: list
    seconds: float
    bulk_tensor: list
    gb_perp: float | None
    gb_par: float | None
    gb_width: float
    gb_fraction: float
    gb_resistance_share: float
    bulk_resistance_share: float
    gb_current_share: float
    brick_layer: float | None
    grain_diameter: float
    shape: list
    n_grains: int
    converged: bool = True
    notes: list = field(default_factory=list)


def polycrystal_bulk(eigs) -> float:
    """Grain-only reference: sqrt(det) in 2D (exact, Keller-Dykhne-Mendelson); the self-consistent
    (Stroud) sigma* solving sum_i (s_i - x)/(s_i + 2x) = 0 in 3D."""
    eigs = np.asarray(eigs, float)
    if len(eigs) == 2:
        return float(math.sqrt(eigs[0] * eigs[1]))
    from scipy.optimize import brentq

    return float(brentq(lambda x: np.sum((eigs - x) / (eigs + 2 * x)), eigs.min(), eigs.max())) \
        if eigs.max() > eigs.min() else float(eigs[0])


def brick_layer(sigma_bulk: float, gb_perp: float, gb_par: float, width: float, grain: float, dim: int) -> float:
    """Brick-layer estimate: cubes of side `grain` with GB walls of thickness `width`; the series path
    1/(1/sb + (w/D)/s_perp) in parallel with the (d-1) walls along the current (w/D) s_par."""
    if width <= 0:
        return sigma_bulk
    x = width / grain
    return 1.0 / ((1 - x) / sigma_bulk + x / gb_perp) * (1 - (dim - 1) * x) + (dim - 1) * x * gb_par


def effective_conductivity(micro: Microstructure, bulk, gb_perp: float | None = None, gb_par: float | None = None,
                           solver: str = "auto", tol: float = 1e-6, maxiter: int = 5000, axes=None,
                           dtype=np.float64, preconditioner: str = "fft") -> EffectiveConductivity:
    """Solve the microstructure with single-crystal tensor `bulk` (scalar, eigenvalues or d x d matrix)
    in the grains and sigma_perp n n^T + sigma_par (I - n n^T) in GB voxels (gb_par defaults to gb_perp)."""
    if solver not in SOLVERS:
        raise InputError(f"solver must be one of {', '.join(SOLVERS)}, got {solver!r}")
    dim = micro.dim
    crystal = check_tensor(bulk, dim, "bulk tensor")
    has_gb = micro.gb is not None and bool(micro.gb.any())
    if has_gb:
        if gb_perp is None:
            raise InputError("the microstructure has GB voxels: give the GB conductivity (gb_perp)")
        gb_perp = check_positive(gb_perp, "GB sigma_perp")
        gb_par = check_positive(gb_par if gb_par is not None else gb_perp, "GB sigma_par")
    field_ = voxel_field(micro.grains, micro.orientations, crystal, micro.gb if has_gb else None,
                         micro.normals, gb_perp or 1.0, gb_par or 1.0, dtype=dtype)
    use = solver if solver != "auto" else ("fv" if has_gb else "fft")
    mask = micro.gb if has_gb else None
    if use == "fft":
        sol = solve_fft(field_, axes=axes, tol=tol, maxiter=maxiter, mask=mask, dtype=dtype)
    else:
        sol = solve_fv(field_, axes=axes, tol=tol, maxiter=maxiter, mask=mask, dtype=dtype,
                       preconditioner=preconditioner)
    del field_
    s = 0.5 * (sol.sigma + sol.sigma.T)
    solved = list(range(dim)) if axes is None else list(axes)
    eig = np.linalg.eigvalsh(s).tolist() if axes is None else [float(s[a, a]) for a in solved]
    stats = micro.stats()
    share = float(np.mean(sol.mask_share)) if sol.mask_share else 0.0
    sb = polycrystal_bulk(np.linalg.eigvalsh(crystal))
    blm = brick_layer(sb, gb_perp, gb_par, micro.gb_width, stats.mean_diameter, dim) if has_gb else sb
    notes = [] if sol.converged else [f"not converged to {tol:g}: residuals {sol.residuals}"]
    return EffectiveConductivity(
        sigma_eff=s.tolist(), eigenvalues=eig, sigma_mean=float(np.mean([s[a, a] for a in solved])),
        solver=sol.solver, iterations=sol.iterations, residuals=sol.residuals, seconds=round(sol.seconds, 4),
        bulk_tensor=crystal.tolist(), gb_perp=gb_perp, gb_par=gb_par, gb_width=micro.gb_width,
        gb_fraction=stats.gb_fraction, gb_resistance_share=share, bulk_resistance_share=1.0 - share,
        gb_current_share=float(np.mean(sol.mask_current)) if sol.mask_current else 0.0,
        brick_layer=blm, grain_diameter=stats.mean_diameter, shape=list(micro.shape), n_grains=stats.n_grains,
        converged=sol.converged, notes=notes)
