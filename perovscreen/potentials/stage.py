"""Universal-potential stages: relaxation, single point and energy above hull of structure records.
Disordered inputs are evaluated on a seeded ordered approximant (recorded in the result)."""
from __future__ import annotations

from dataclasses import dataclass

from perovscreen.core.hashing import file_sha256, value_hash
from perovscreen.jobs.stage import Resources, Stage, param
from perovscreen.potentials.calculators import BACKENDS, potential_identity


@dataclass(frozen=True)
class PotentialParams:
    calculator: str = param("chgnet", "universal potential", choices=BACKENDS, flag="--potential")
    model: str = param("", "SevenNet bundled model: 7net-0 (default) or 7net-l3i5")
    model_path: str = param("", "checkpoint file (chgnet/sevenn) or matgl model directory (identified by its "
                            "SHA-256)", science=False, kind="path")
    device: str = param("cpu", "cpu or cuda", science=False)
    min_length: float = param(10.0, "minimum width of the ordered approximant of a disordered input", "A",
                              minimum=0.0)
    seed: int = param(0, "seed of the ordered approximant")

    def calc_kw(self) -> dict:
        return {"device": self.device, "model": self.model or None, "model_path": self.model_path or None}


@dataclass(frozen=True)
class RelaxParams(PotentialParams):
    fmax: float = param(0.05, "force threshold", "eV/A", minimum=0.0, exclusive=True)
    steps: int = param(300, "maximum optimizer steps", minimum=1)
    optimizer: str = param("FIRE", "optimizer", choices=("FIRE", "BFGS"))
    relax_cell: bool = param(True, "relax the cell too (--fixed-cell: positions only)", flag="--fixed-cell")


@dataclass(frozen=True)
class StabilityParams(PotentialParams):
    fmax: float = param(0.05, "force threshold of the relaxations", "eV/A", minimum=0.0, exclusive=True)
    steps: int = param(300, "maximum optimizer steps", minimum=1)
    relax_candidate: bool = param(True, "relax the candidate (--no-relax: single point as given)", flag="--no-relax")
    use_references: bool = param(True, "include the shipped competing phases (--no-references: only --entries)",
                                 flag="--no-references")
    entries: str = param("", "extra competing phases: JSON list of pymatgen ComputedEntry (identified by its "
                         "SHA-256)", science=False, kind="path")
    cache: str = param("", "reference cache folder (default <cache root>/references)", science=False, kind="path")


def ordered(record, params: PotentialParams):
    """(structure, ordering report or None): disordered inputs become a seeded ordered approximant."""
    from perovscreen.structures.ordering import ordered_supercell

    s = record.structure
    if s.is_ordered:
        return s, None
    o, report = ordered_supercell(s, min_length=params.min_length, seed=params.seed)
    return o, report.to_dict()


def run_relax(record, params: RelaxParams):
    from perovscreen.potentials.tasks import relax

    s, _ = ordered(record, params)
    return relax(s, params.calculator, fmax=params.fmax, steps=params.steps, optimizer=params.optimizer,
                 relax_cell=params.relax_cell, **params.calc_kw())


def run_single_point(record, params: PotentialParams):
    from perovscreen.potentials.tasks import single_point

    s, _ = ordered(record, params)
    return single_point(s, params.calculator, **params.calc_kw())


def run_stability(record, params: StabilityParams):
    from perovscreen.potentials.stability import energy_above_hull

    s, report = ordered(record, params)
    res = energy_above_hull(s, params.calculator, entries=params.entries or None,
                            use_references=params.use_references, relax_candidate=params.relax_candidate,
                            fmax=params.fmax, steps=params.steps, cache=params.cache or None, **params.calc_kw())
    res.ordering = report
    return res


def _potential(params) -> dict:
    return potential_identity(params.calculator, params.model, params.model_path)


def _stability_identities(params: StabilityParams) -> dict:
    import perovscreen.potentials.references as refs
    import perovscreen.structures.examples as examples

    # the reference set is defined in code (structures with citations): hash its definitions
    ref_hash = value_hash([file_sha256(refs.__file__), file_sha256(examples.__file__)])
    out = {**_potential(params), "references": ref_hash if params.use_references else None}
    if params.entries:
        from pathlib import Path

        from perovscreen.core.errors import InputError

        if not Path(params.entries).is_file():
            raise InputError(f"entries file not found: {params.entries}")
        out["entries_sha256"] = file_sha256(params.entries)
    return out


RELAX = Stage("relax", 1, RelaxParams, run_relax, help="relax structures with a universal potential",
              resources=Resources(cores=2, memory_gb=4.0, walltime_min=60.0), identities=_potential)
SINGLE_POINT = Stage("single_point", 1, PotentialParams, run_single_point, help="universal-potential single point",
                     resources=Resources(cores=1, memory_gb=4.0, walltime_min=10.0), identities=_potential)
STABILITY = Stage("stability", 1, StabilityParams, run_stability,
                  help="energy above hull vs competing phases relaxed with the same potential",
                  resources=Resources(cores=2, memory_gb=4.0, walltime_min=120.0), identities=_stability_identities)
