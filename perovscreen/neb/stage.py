"""The NEB stage: every symmetry-distinct Li hop of a structure (up to max_hops) as a climbing-image band,
with a universal potential or a DFT engine; a uMLIP band can seed the DFT band (`seed_from`)."""
from __future__ import annotations

import tempfile
from pathlib import Path

from perovscreen.core.errors import InputError
from perovscreen.jobs.stage import Resources, Stage
from perovscreen.neb.settings import UMLIPS, NebParams


def calculator_factory(potential: str, params: NebParams, workdir: Path | None = None, elements=None):
    """A shared uMLIP calculator, or factory(i) -> a DFT calculator writing to workdir/image<i>."""
    if potential in UMLIPS:
        from perovscreen.potentials.calculators import get_calculator

        return get_calculator(potential, params.device, params.model or None, params.model_path or None)
    from perovscreen.dft.engines import dft_calculator

    def factory(i: int):
        return dft_calculator(potential, Path(workdir) / f"image{i:02d}", kpoint_density=params.kpoint_density,
                              ecut=params.ecut, pseudo_dir=params.pseudo_dir or None)
    return factory


def band_kwargs(params: NebParams) -> dict:
    return {"n_images": params.n_images, "spring": params.spring, "climb": params.climb,
            "optimizer": params.optimizer, "fmax": params.fmax, "steps": params.steps,
            "relax_endpoints": params.relax_endpoints}


def run_neb(record, params: NebParams):
    from perovscreen.neb.band import run_band
    from perovscreen.neb.hops import bvse_map, distinct_hops, hop_endpoints
    from perovscreen.neb.results import pathway
    from perovscreen.potentials.stage import ordered

    ion = getattr(record, "ion", None) or "Li"
    structure, ordering = ordered(record, params)
    hops, complete = distinct_hops(structure, ion, params.max_hop_length, max_hops=params.max_hops)
    results, plots, warnings = [], [], []
    try:
        bvse, on_path = bvse_map(structure, hops, ion)
    except InputError as exc:  # e.g. no softBV parameters for an anion: the NEB does not need the map
        bvse, on_path = None, [{"bvse_line_barrier": None, "on_bvse_path": None} for _ in hops]
        warnings.append(f"no BVSE mapping: {exc}")
    name = getattr(record, "id", None) or structure.composition.reduced_formula
    work = Path(params.workdir or tempfile.mkdtemp(prefix="perovscreen-neb-")) / name
    label = params.potential + (f":{params.model}" if params.model else "")
    if ordering:
        warnings.append(f"disordered input: NEB on a seeded ordered approximant (seed {params.seed})")
    for k, hop in enumerate(hops):
        start, end, info = hop_endpoints(structure, hop, params.mode, params.min_length, ion)
        info.update(index=k, **on_path[k])
        seed = None
        if params.seed_from:
            seed = run_band(start, end, calculator_factory(params.seed_from, params), hop=info,
                            label=params.seed_from, **band_kwargs(params))
        calc = calculator_factory(params.potential, params, work / f"hop{k}")
        res = run_band(start, end, calc, hop=info, label=label, seed=seed, **band_kwargs(params))
        if seed is not None:
            res.hop["seed"] = {"potential": params.seed_from, "forward_barrier": seed.forward_barrier,
                               "wall_s": seed.wall_s, "steps": seed.steps}
        results.append(res)
        if params.plot_dir:
            from perovscreen.neb.plots import plot_profile

            d = Path(params.plot_dir)
            d.mkdir(parents=True, exist_ok=True)
            plots.append(str(plot_profile([res] + ([seed] if seed else []), d / f"{name}-hop{k}.png")))
            res.write_extxyz(d / f"{name}-hop{k}.extxyz")
    supercell = results[0].hop["supercell"] if results else [1, 1, 1]
    return pathway(structure.composition.reduced_formula, params.mode, results, supercell, complete,
                   potential=_identities(params), bvse=bvse or {}, plots=plots, warnings=warnings)


def _identities(params: NebParams) -> dict:
    from perovscreen.potentials.calculators import potential_identity

    if params.potential in UMLIPS:
        out = potential_identity(params.potential, params.model, params.model_path)
    else:
        from perovscreen.dft.engines import engine_identity

        out = engine_identity(params.potential, params.pseudo_dir or None)
    if params.seed_from:
        out = {**out, "seed": potential_identity(params.seed_from)}
    return out


NEB_STAGE = Stage("neb", 2, NebParams, run_neb, help="climbing-image NEB of the symmetry-distinct Li hops",
                  resources=Resources(cores=2, memory_gb=4.0, walltime_min=240.0), identities=_identities)
