"""One climbing-image NEB band in ASE between two endpoints, with any ASE calculator.

IDPP interpolation (or a seed band), then ASE `NEB(k, climb, method='improvedtangent')` driven by FIRE or
BFGS. The endpoint energies are computed once and frozen on single-point calculators, so a shared uMLIP
calculator evaluates only the moving images."""
from __future__ import annotations

import time

import numpy as np
from ase.calculators.calculator import Calculator
from ase.calculators.singlepoint import SinglePointCalculator

from perovscreen.core.errors import InputError
from perovscreen.neb.endpoints import MAX_OTHER, check_endpoints
from perovscreen.neb.results import NebResult, analyse_profile
from perovscreen.neb.settings import DEFAULTS as D

_OPTIMIZERS = ("FIRE", "BFGS")


def _optimizer(name: str):
    from ase.optimize import BFGS, FIRE

    if name not in _OPTIMIZERS:
        raise InputError(f"unknown NEB optimizer {name!r} (known: {', '.join(_OPTIMIZERS)})")
    return {"FIRE": FIRE, "BFGS": BFGS}[name]


def _calculators(calculator, n: int):
    """(calculator per image, shared?): one Calculator for all, or factory(i) -> Calculator per image."""
    if isinstance(calculator, Calculator):
        return [calculator] * n, True
    if callable(calculator):
        return [calculator(i) for i in range(n)], False
    raise InputError(f"calculator must be an ASE Calculator or a factory(i), got {type(calculator).__name__}")


def _freeze(atoms, calc) -> tuple[float, np.ndarray]:
    """Evaluate once with `calc`, then keep the result on a single-point calculator."""
    atoms.calc = calc
    e, f = float(atoms.get_potential_energy()), atoms.get_forces(apply_constraint=False).copy()
    atoms.calc = SinglePointCalculator(atoms, energy=e, forces=f)
    return e, f


def _relax(atoms, calc, optimizer: str, fmax: float, steps: int) -> bool:
    atoms.calc = calc
    with _optimizer(optimizer)(atoms, logfile=None) as opt:
        return bool(opt.run(fmax=fmax, steps=steps))


def _seed_positions(seed, n_total: int, n_atoms: int) -> list:
    images = seed.images() if isinstance(seed, NebResult) else list(seed)
    if len(images) != n_total or any(len(im) != n_atoms for im in images):
        raise InputError(f"seed band has {len(images)} images of {len(images[0]) if images else 0} atoms; "
                         f"this band needs {n_total} of {n_atoms}")
    return [np.asarray(im.get_positions() if hasattr(im, "get_positions") else im, float) for im in images]


def run_band(start, end, calculator, *, n_images: int = D.n_images, spring: float = D.spring,
             climb: bool = D.climb, method: str = "improvedtangent", optimizer: str = D.optimizer,
             fmax: float = D.fmax, steps: int = D.steps, interpolation: str = "idpp",
             relax_endpoints: bool = False, seed=None, max_other: float = MAX_OTHER, hop: dict | None = None,
             label: str = "") -> NebResult:
    """Climbing-image NEB from `start` to `end` (ASE Atoms or pymatgen Structures, index-matched).

    calculator: an ASE Calculator shared by all images, or factory(i) -> Calculator for image i (DFT: one
    directory per image). interpolation: 'idpp' or 'linear' (ignored when `seed`, a NebResult or a list of
    images, gives the starting band). Constraints on `start` (ASE Atoms) carry over to every image.
    Barrier = max(E) - E[0]; reverse = max(E) - E[-1]; the spline maximum only when inside the path."""
    from ase.mep import NEB
    from ase.mep.neb import idpp_interpolate

    if n_images < 1:
        raise InputError(f"n_images must be at least 1, got {n_images}")
    if interpolation not in ("idpp", "linear"):
        raise InputError(f"interpolation must be idpp or linear, got {interpolation!r}")
    a, b, info = check_endpoints(start, end, max_other)
    n_total = n_images + 2
    calcs, shared = _calculators(calculator, n_total)
    warnings = []
    if relax_endpoints:
        for x, c in ((a, calcs[0]), (b, calcs[-1])):
            if not _relax(x, c, optimizer, fmax, steps):
                warnings.append(f"endpoint relaxation did not reach fmax {fmax} in {steps} steps")
        a, b, info = check_endpoints(a, b, max_other)  # the relaxation must not have moved the hop
    t0 = time.perf_counter()
    e0, f0 = _freeze(a, calcs[0])
    e1, f1 = _freeze(b, calcs[-1])
    images = [a] + [a.copy() for _ in range(n_images)] + [b]
    for im, c in zip(images[1:-1], calcs[1:-1]):
        im.calc = c
    kw = {"k": spring, "method": method, "allow_shared_calculator": shared}
    if seed is not None:
        for im, p in zip(images[1:-1], _seed_positions(seed, n_total, len(a))[1:-1]):
            im.set_positions(p)
        interpolation = "seed"
    else:
        band = NEB(images, **kw)
        band.interpolate(mic=False)  # b is already aligned to a by minimum image
        if interpolation == "idpp" and len(a) > 1:
            idpp_interpolate(band, traj=None, log=None, mic=bool(a.pbc.any()), fmax=0.1, steps=200)
    neb = NEB(images, climb=climb, **kw)
    calls, last = [0], {}
    evaluate = neb.get_forces

    def counted():
        """The optimizer reads the band forces several times per step; a shared calculator keeps only the last
        image, so without this every read would recompute every image. Counts real band evaluations."""
        x = neb.get_positions()
        if "x" in last and np.array_equal(x, last["x"]):
            return last["f"].copy()
        f = evaluate()
        calls[0] += 1
        last.update(x=x, f=f.copy())
        return f

    neb.get_forces = counted
    with _optimizer(optimizer)(neb, logfile=None) as opt:
        converged = bool(opt.run(fmax=fmax, steps=steps))
    wall = time.perf_counter() - t0
    if not converged:
        warnings.append(f"band not converged to fmax {fmax} in {steps} steps")
    energies = [e0, *[float(x) for x in neb.energies[1:-1]], e1]
    pos = [im.get_positions() for im in images]
    seg = [float(np.linalg.norm(pos[i + 1] - pos[i])) for i in range(len(pos) - 1)]
    path = np.concatenate([[0.0], np.cumsum(seg)])
    forces = [f0, *neb.real_forces[1:-1], f1]
    slopes = []
    for i in range(n_total):  # dE/ds = -F . tangent (central differences of the band)
        t = pos[min(i + 1, n_total - 1)] - pos[max(i - 1, 0)]
        slopes.append(float(-(forces[i] * t).sum() / max(np.linalg.norm(t), 1e-12)))
    prof = analyse_profile(energies, path, slopes)
    if min(energies[1:-1]) < min(e0, e1) - 0.01:
        warnings.append("an image lies below both endpoints: they are not minima (relax_endpoints)")
    fnorm = np.linalg.norm(np.asarray(last.get("f", np.zeros((1, 3)))).reshape(-1, 3), axis=1)
    n_calls = calls[0] * n_images + 2
    settings = {"n_images": n_images, "spring": spring, "climb": climb, "method": method, "optimizer": optimizer,
                "fmax": fmax, "steps": steps, "interpolation": interpolation, "relax_endpoints": relax_endpoints}
    return NebResult(
        formula=a.get_chemical_formula(mode="metal"), energies=energies, path=[round(float(x), 5) for x in path],
        forward_barrier=prof["forward"], reverse_barrier=prof["reverse"], climbing_image=prof["i_max"],
        spline=prof["spline"], converged=converged, steps=int(opt.nsteps), max_force=float(fnorm.max()),
        geometry={"symbols": a.get_chemical_symbols(), "cell": np.asarray(a.cell).round(6).tolist(),
                  "pbc": [bool(x) for x in a.pbc]},
        positions=[np.round(p, 5).tolist() for p in pos], hop={**info, **(hop or {})}, settings=settings,
        calculator=label or type(calcs[1]).__name__, n_atoms=len(a), force_calls=n_calls,
        wall_s=round(wall, 3), cost_s_per_call_atom=wall / max(n_calls, 1) / len(a), warnings=warnings)


def run_bands(pairs, calculator, **kw) -> list[dict]:
    """A batch of bands: one {status, result | error} per (start, end) pair; bad endpoints are refused
    with their one-line reason and the batch goes on."""
    out = []
    for start, end in pairs:
        try:
            out.append({"status": "ok", "result": run_band(start, end, calculator, **kw)})
        except InputError as exc:
            out.append({"status": "error", "error": str(exc)})
    return out
