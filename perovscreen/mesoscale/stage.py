"""The mesoscale stage: a candidate's bulk conductivity (MD or ML) + a GB model -> pellet conductivity.

The bulk number comes from the candidate (`bulk_from(result)` reads an MDResult's Arrhenius sigma at its
target T, an MLPrediction-like mapping or an Estimate) or from `bulk_sigma`; the GB model (conductivity
ratios normal and parallel to the boundary, width, grain count) from the configuration. Bulk
uncertainty is carried through exactly: with the GB given as ratios to the bulk, sigma_eff is the bulk
value times one solved ratio, so the interval scales with it.
"""
from __future__ import annotations

from dataclasses import dataclass

from perovscreen.core.errors import InputError
from perovscreen.core.results import Estimate, Result
from perovscreen.jobs.stage import Resources, Stage, param


@dataclass(frozen=True)
class MesoParams:
    dim: int = param(2, "dimension of the microstructure", choices=(2, 3))
    size: int = param(64, "grid side", "voxels", minimum=8, maximum=512)
    grains: int = param(20, "number of Voronoi grains", minimum=1)
    gb_width: float = param(2.0, "grain-boundary width (0: no GB)", "voxels", minimum=0.0)
    gb_ratio: float = param(1e-2, "GB conductivity across the boundary / bulk", minimum=0.0, exclusive=True)
    gb_par_ratio: float = param(0.0, "GB conductivity along the boundary / bulk (0: same as gb_ratio)", minimum=0.0)
    bulk_sigma: float = param(0.0, "bulk conductivity when the candidate has none (0: take it from the candidate)",
                              "S/cm", minimum=0.0)
    seed: int = param(0, "seed of the Voronoi tessellation and grain orientations")
    solver: str = param("auto", "homogenisation solver", choices=("auto", "fft", "fv"))
    tol: float = param(1e-6, "relative residual", minimum=0.0, exclusive=True, maximum=1e-2)


@dataclass
class MesoResult(Result):
    """Pellet (polycrystal) conductivity next to the bulk one; sigma values in S/cm."""

    TYPE = "MesoResult"

    bulk: Estimate
    sigma_eff: Estimate
    ratio: float                 # sigma_eff / bulk
    gb_resistance_share: float
    brick_layer: float
    effective: Result            # EffectiveConductivity at the bulk value (unit bulk = 1)
    source: str


def bulk_from(obj) -> Estimate | None:
    """The bulk conductivity of a candidate's MD/ML result (S/cm), or None."""
    if obj is None:
        return None
    if isinstance(obj, Estimate):
        return obj
    if isinstance(obj, (int, float)):
        return Estimate(float(obj), unit="S/cm")
    get = obj.get if isinstance(obj, dict) else (lambda k, d=None: getattr(obj, k, d))
    arr = get("arrhenius")
    if arr is not None:
        s = arr.get("sigma_target") if isinstance(arr, dict) else getattr(arr, "sigma_target", None)
        return bulk_from(s)
    for key in ("sigma", "sigma_target", "conductivity", "log10_sigma"):
        v = get(key)
        if v is not None:
            if key == "log10_sigma":
                e = bulk_from(v)
                return Estimate(10 ** e.value, None if e.lower is None else 10 ** e.lower,
                                None if e.upper is None else 10 ** e.upper, e.level, "S/cm", e.method)
            return bulk_from(v)
    return None


def run_mesoscale(record, params: MesoParams, bulk=None) -> MesoResult:
    """Stage run: `bulk` (or record.bulk_sigma / params.bulk_sigma) as the grain conductivity."""
    from perovscreen.mesoscale.homogenize import effective_conductivity
    from perovscreen.mesoscale.microstructure import periodic_voronoi

    b = bulk_from(bulk if bulk is not None else getattr(record, "bulk_sigma", None))
    source = "candidate"
    if b is None:
        if params.bulk_sigma <= 0:
            raise InputError("mesoscale: no bulk conductivity (run md or ml first, or set bulk_sigma)")
        b, source = Estimate(params.bulk_sigma, unit="S/cm"), "bulk_sigma"
    if not b.value > 0:
        raise InputError(f"mesoscale: bulk conductivity must be > 0, got {b.value!r}")
    micro = periodic_voronoi((params.size,) * params.dim, params.grains, params.seed).with_gb(params.gb_width)
    par = params.gb_par_ratio or params.gb_ratio
    eff = effective_conductivity(micro, 1.0, params.gb_ratio, par, solver=params.solver, tol=params.tol)
    ratio = eff.sigma_mean  # linear in a common scale: sigma_eff = bulk * ratio
    lo = None if b.lower is None else b.lower * ratio
    hi = None if b.upper is None else b.upper * ratio
    sig = Estimate(b.value * ratio, lo, hi, b.level, "S/cm", f"mesoscale({b.method or 'point'})")
    return MesoResult(b, sig, ratio, eff.gb_resistance_share, b.value * eff.brick_layer, eff, source)


# v2: the FV solver now stops on the true (float64) residual with refinement, not on the recursive one
MESOSCALE = Stage("mesoscale", 2, MesoParams, run_mesoscale,
                  help="polycrystal (pellet) conductivity from the bulk conductivity and a grain-boundary model",
                  resources=Resources(cores=1, memory_gb=1.0, walltime_min=10.0))
