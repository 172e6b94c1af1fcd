"""MD over several temperatures (in parallel through perovscreen.executors) -> analysis -> Arrhenius."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor

from perovscreen.errors import InputError
from perovscreen.md.analysis import DiffusionResult, analyse
from perovscreen.md.arrhenius import ArrheniusResult, arrhenius_from_results
from perovscreen.md.cell import build_md_cell
from perovscreen.md.engine_ase import MDSettings, run_ase

ENGINES = ("ase", "lammps", "openmm")


@dataclass
class AnalysisSettings:
    fit_window_ps: tuple | None = None  # default 10%-50% of production
    haven_ratio: float = 1.0
    min_hops: float = 10.0
    melt_rmsd: float = 1.0
    target_T: float = 300.0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class MDResult:
    """A multi-temperature MD study of one structure."""

    formula: str
    engine: str
    potential: str
    cell: dict
    settings: dict
    analysis: dict
    temperatures: list  # DiffusionResult per temperature (ascending T)
    failed: dict = field(default_factory=dict)  # temperature -> error
    arrhenius: ArrheniusResult | None = None
    arrhenius_error: str | None = None
    provenance: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {**{k: getattr(self, k) for k in ("formula", "engine", "potential", "cell", "settings", "analysis",
                                                  "arrhenius_error", "provenance")},
                "failed": {str(k): v for k, v in self.failed.items()},
                "temperatures": [r.to_dict() for r in self.temperatures],
                "arrhenius": self.arrhenius.to_dict() if self.arrhenius else None}


def simulate(atoms, temperature: float, settings: MDSettings, engine: str = "ase", potential="chgnet",
             workdir=None, device: str = "cpu", threads: int | None = None):
    """One temperature with the chosen engine -> MobileTrajectory (threads: OpenMM CPU threads)."""
    if engine == "ase":
        from perovscreen.potentials import get_calculator

        return run_ase(atoms, get_calculator(potential, device=device), temperature, settings, workdir)
    if engine == "lammps":
        from perovscreen.md.engine_lammps import run_lammps

        return run_lammps(atoms, potential, temperature, settings, workdir)
    if engine == "openmm":
        from perovscreen.md.engine_openmm import run_openmm

        return run_openmm(atoms, potential, temperature, settings, workdir, device, threads)
    raise InputError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")


def _temperature_task(task: dict) -> dict:
    """Module-level (picklable) worker: simulate and analyse one temperature."""
    threads = task.get("threads")
    if threads and task["engine"] == "ase":
        import torch

        torch.set_num_threads(threads)
    traj = simulate(task["atoms"], task["temperature"], MDSettings(**task["settings"]), task["engine"],
                    task["potential"], task["workdir"], task.get("device", "cpu"), threads)
    return analyse(traj, **{k: v for k, v in task["analysis"].items() if k != "target_T"}).to_dict()


def run_md(structure: Structure, temperatures, settings: MDSettings | None = None, potential="chgnet",
           engine: str = "ase", workdir: str | Path | None = None, jobs: int = 1, executor: str = "local",
           address: str | None = None, min_length: float = 10.0, vacancies: int = 0,
           compensation: str = "schottky", analysis: AnalysisSettings | None = None, device: str = "cpu",
           files=()) -> MDResult:
    """Build the MD cell, run every temperature (parallel with jobs > 1), analyse, fit Arrhenius.

    Each temperature has its own directory under workdir (checkpoint, trajectory); rerunning with the
    same workdir resumes unfinished temperatures and reuses finished ones.
    """
    from perovscreen.executors import get_executor
    from perovscreen.provenance import provenance

    settings = settings or MDSettings()
    analysis = analysis or AnalysisSettings()
    temps = sorted(float(t) for t in temperatures)
    if not temps or min(temps) <= 0:
        raise InputError("give at least one temperature > 0 K")
    if engine not in ENGINES:
        raise InputError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    cell, report = build_md_cell(structure, min_length, settings.mobile, vacancies, compensation, seed=settings.seed)
    cell = cell.copy()
    cell.remove_oxidation_states()
    atoms = AseAtomsAdaptor.get_atoms(cell)
    if engine == "openmm":  # fail before any run: OpenMM needs cell widths >= 2 x cutoff
        from perovscreen.md.classical import resolve_potential
        from perovscreen.md.engine_openmm import check_cell

        check_cell(atoms, resolve_potential(potential, atoms)[0])
    root = Path(workdir) if workdir else None
    pot_name = potential if isinstance(potential, str) else type(potential).__name__
    threads = max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else None
    tasks = [{"atoms": atoms, "temperature": t, "settings": settings.to_dict(), "engine": engine,
              "potential": potential, "device": device, "analysis": analysis.to_dict(), "threads": threads,
              "workdir": str(root / f"T{t:g}K") if root else None} for t in temps]
    done, failed = {}, {}
    ex = get_executor(executor, max_workers=jobs, address=address)
    try:
        for tr in ex.map_unordered(_temperature_task, tasks):
            t = temps[tr.item_index]
            if tr.ok:
                done[t] = DiffusionResult.from_dict(tr.value)
            else:
                failed[t] = tr.error
    finally:
        ex.close()
    results = [done[t] for t in temps if t in done]
    fit = fit_err = None
    try:
        fit = arrhenius_from_results(results, analysis.target_T, seed=settings.seed)
    except InputError as exc:
        fit_err = str(exc)
    params = {"temperatures": temps, "settings": settings.to_dict(), "analysis": analysis.to_dict(),
              "engine": engine, "potential": pot_name, "min_length": min_length, "vacancies": vacancies,
              "compensation": compensation}
    out = MDResult(structure.composition.reduced_formula, engine, pot_name, report.to_dict(), settings.to_dict(),
                   analysis.to_dict(), results, failed, fit, fit_err, provenance(params, files=files))
    if root:
        root.mkdir(parents=True, exist_ok=True)
        (root / "md_result.json").write_text(json.dumps(out.to_dict(), indent=1))
        from perovscreen.md.plots import plot_arrhenius, plot_msd

        plot_msd(results, root / "msd.png")
        if fit:
            plot_arrhenius(fit, results, root / "arrhenius.png")
    return out
