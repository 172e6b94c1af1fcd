"""MD parameters: every MD default is written here (the CLI flags, `run_md`'s keyword defaults and
`MDSettings` take theirs from `MDParams`). Science parameters enter the resume key; execution options
(device, work folder, checkpoint interval, jobs) never do."""
from __future__ import annotations

from dataclasses import dataclass

from perovscreen.core.errors import InputError
from perovscreen.core.hashing import value_hash
from perovscreen.jobs.stage import param

ENGINES = ("ase", "lammps", "openmm")
THERMOSTATS = ("nhc", "langevin", "nve")


@dataclass(frozen=True)
class MDParams:
    temperatures: tuple = param((1000.0, 1200.0), "MD temperatures", "K", minimum=0.0, exclusive=True,
                                flag="--temps")
    time_ps: float = param(50.0, "production time per temperature", "ps", minimum=0.0, exclusive=True,
                           flag="--time")
    equilibration_ps: float = param(5.0, "equilibration time per temperature", "ps", minimum=0.0, flag="--equil")
    timestep_fs: float = param(2.0, "MD timestep", "fs", minimum=0.0, exclusive=True, flag="--timestep")
    sample_fs: float = param(50.0, "mobile-ion sampling interval", "fs", minimum=0.0, exclusive=True,
                             flag="--sample")
    thermostat: str = param("nhc", "production ensemble: Nose-Hoover chain, Langevin or NVE", choices=THERMOSTATS)
    calculator: str = param("chgnet", "universal potential (ase engine) or classical potential name (lammps and "
                            "openmm engines, e.g. buckingham-li2o)", flag="--potential")
    model_path: str = param("", "weights of the universal potential (ase) or a JSON classical potential "
                            "(lammps/openmm); identified by its SHA-256", science=False, kind="path")
    engine: str = param("ase", "MD engine", choices=ENGINES)
    min_length: float = param(10.0, "minimum perpendicular width of the MD cell", "A", minimum=0.0)
    vacancies: int = param(0, "mobile-ion vacancies to create", minimum=0)
    compensation: str = param("schottky", "charge compensation of the vacancies", choices=("schottky", "none"))
    haven: float = param(1.0, "Haven ratio of the Nernst-Einstein conductivity", minimum=0.0, exclusive=True)
    fit_window_ps: tuple | None = param(None, "MSD fit window T0 T1 (default: 10%-50% of the run)", "ps",
                                        kind="floats", minimum=0.0, flag="--fit-window")
    seed: int = param(0, "seed of velocities, vacancies and ordered approximants")
    device: str = param("cpu", "cpu or cuda (ase: torch device; openmm: platform)", science=False)
    checkpoint_steps: int = param(250, "steps between checkpoints", science=False, minimum=1)
    workdir: str = param("md_runs", "work folder (checkpoints, trajectories, result, plots)", science=False,
                         kind="path", flag="--out")
    jobs: int = param(1, "temperatures run in parallel", science=False, minimum=1)

    def __post_init__(self):
        w = self.fit_window_ps
        if w is not None and (len(w) != 2 or not 0 <= w[0] < w[1]):
            raise InputError(f"md fit_window_ps: give two times 0 <= T0 < T1 in ps, got {list(w)}")


DEFAULTS = MDParams()


def calculator_identity(calc) -> dict:
    """Identity of an ASE calculator object: class and (JSON-able) parameters."""
    cls = type(calc)
    params = {k: repr(v) for k, v in sorted(dict(getattr(calc, "parameters", {}) or {}).items())}
    return {"calculator": f"{cls.__module__}.{cls.__qualname__}", "parameters": value_hash(params)}
