"""Stage functions the funnel adds on top of the stage packages (module-level, picklable)."""
from __future__ import annotations

from perovscreen.structures.ordering import ordered_supercell


def ordered_structure(record, min_length: float, seed: int):
    """The record's structure, or a seeded ordered supercell of it when it is disordered."""
    s = record.structure
    if s.is_ordered:
        return s, None
    o, report = ordered_supercell(s, min_length=min_length, seed=seed)
    return o, report.to_dict()


def stability_ordered_stage(record, params: dict) -> dict:
    """Energy above hull; disordered inputs are evaluated on their seeded ordered approximant."""
    from perovscreen.potentials.stability import energy_above_hull

    p = dict(params)
    s, ordering = ordered_structure(record, p.pop("min_length"), p.pop("seed"))
    res = energy_above_hull(s, p.pop("calculator"), **p).to_dict()
    res["ordering"] = ordering
    return res


def md_record_stage(record, params: dict) -> dict:
    """Multi-temperature MD -> D -> Arrhenius for one record (disordered inputs through ordered supercells)."""
    from pathlib import Path

    from perovscreen.md.engine_ase import MDSettings
    from perovscreen.md.runner import run_md

    settings = MDSettings(time_ps=params["time_ps"], equil_ps=params["equilibration_ps"],
                          timestep_fs=params["timestep_fs"], seed=params["seed"], mobile=record.ion)
    workdir = Path(params["workdir"]) / record.id
    res = run_md(record.structure, params["temperatures"], settings, potential=params["calculator"],
                 workdir=workdir, min_length=params["min_length"], vacancies=params["vacancies"],
                 jobs=params.get("jobs", 1))
    out = res.to_dict()
    for t in out["temperatures"]:  # keep the summary, not the MSD curves
        for k in [k for k, v in t.items() if isinstance(v, list) and len(v) > 20]:
            t.pop(k)
    plot = workdir / "arrhenius.png"
    out["arrhenius_plot"] = str(plot) if plot.exists() else None
    return out


def single_point_stage(record, params: dict) -> dict:
    """Universal-potential single point (energy per atom, max force) on the (ordered) structure."""
    from perovscreen.potentials.tasks import single_point

    s, ordering = ordered_structure(record, params.get("min_length", 0.0), params.get("seed", 0))
    sp = single_point(s, params.get("calculator", "chgnet"))
    return {"energy_per_atom": sp.energy_per_atom, "fmax": sp.fmax, "n_atoms": len(s), "ordering": ordering}
