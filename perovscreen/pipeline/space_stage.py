"""From a chemical space to candidate CIFs: enumerate, filter, score with the composition model, build cells."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from perovscreen.structures.prototypes import prototype
from perovscreen.structures.ordering import ordered_supercell
from perovscreen.structures.space import SpaceSpec, SpaceTable, enumerate_space


def score_table(model, table: SpaceTable, rows: np.ndarray, chunk: int = 200_000) -> dict:
    """{target: (value, lower, upper)} arrays for compositions `rows` of the table, with the composition
    model's 90% intervals; featurised straight from occupancy arrays, in chunks (bounded memory)."""
    from perovscreen.core.errors import ModelError
    from perovscreen.features.composition import NAMES, featurize_encoded

    missing = [f for f in model.features if f not in NAMES]
    if missing:
        raise ModelError(f"chemical spaces need a composition-only model; this one uses {missing[:3]}")
    cols = [NAMES.index(f) for f in model.features]
    parts = []
    for s in range(0, len(rows), chunk):
        z, a = table.encoded(rows[s:s + chunk])
        parts.append(model.predict_arrays(featurize_encoded(z, a)[:, cols], (z, a)))
    return {t: tuple(np.concatenate([p[t][k] for p in parts]) for k in range(3)) for t in parts[0]} if parts else {}


def space_candidates(spec: SpaceSpec, model, out_dir: Path, keep: int = 8, min_length: float = 7.5,
                     seed: int = 0) -> dict:
    """Enumerate and filter `spec`, score survivors, write the best `keep` as ordered-supercell CIFs."""
    t0 = time.perf_counter()
    table: SpaceTable = enumerate_space(spec)
    t1 = time.perf_counter()
    surv = table.survivors
    scores = score_table(model, table, surv)
    t2 = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    top = []
    if len(surv):
        v, lo, hi = scores["log10_sigma"]
        order = np.argsort(-np.asarray(v))[:keep]
        states = {c.element: c.oxidation for site in spec.sites.values() for c in site.candidates}
        for rank, j in enumerate(order):
            i = int(surv[j])
            proto = prototype(table.occupancies(i), states, spec.family)
            cell, report = ordered_supercell(proto, min_length=min_length, seed=seed)
            name = f"{spec.name}-{rank:03d}"
            cell.to(filename=str(out_dir / f"{name}.cif"))
            top.append({"id": name, "formula": table.formula(i), "t": float(table.t[i]), "tau": float(table.tau[i]),
                        "log10_sigma": [float(v[j]), float(lo[j]), float(hi[j])],
                        "ordering": report.to_dict()})
    return {"name": spec.name, "family": spec.family, "n_enumerated": len(table), "counts": table.counts(),
            "seconds_enumerate_filter": round(t1 - t0, 3), "seconds_score": round(t2 - t1, 3),
            "n_scored": int(len(surv)), "selected": top}
