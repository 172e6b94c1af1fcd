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
