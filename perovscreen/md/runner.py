"""MD over several temperatures (in parallel through perovscreen.jobs.executors) -> analysis -> Arrhenius."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor

from perovscreen.core.errors import InputError
from perovscreen.core.results import Result
from perovscreen.md.analysis import MIN_FRAMES, DiffusionResult, analyse
from perovscreen.md.arrhenius import ArrheniusResult, arrhenius_from_results
from perovscreen.md.cell import CellReport, build_md_cell
from perovscreen.md.engine_ase import ENGINE, MDSettings, run_ase
from perovscreen.md.identity import md_identity
from perovscreen.md.settings import DEFAULTS, ENGINES
from perovscreen.md.trajectory import run_key

__all__ = ["AnalysisSettings", "ENGINES", "MDResult", "run_md", "simulate"]


@dataclass
class AnalysisSettings(Result):
    TYPE = "AnalysisSettings"

    fit_window_ps: tuple | None = DEFAULTS.fit_window_ps  # None: 10%-50% of production
    haven_ratio: float = DEFAULTS.haven
    min_hops: float = 10.0
    melt_rmsd: float = 1.0
    target_T: float = 300.0

    def __post_init__(self):
        if self.fit_window_ps is not None:
            self.fit_window_ps = tuple(float(v) for v in self.fit_window_ps) or None

    def analyse_kw(self) -> dict:
        return {"fit_window_ps": self.fit_window_ps, "haven_ratio": self.haven_ratio, "min_hops": self.min_hops,
                "melt_rmsd": self.melt_rmsd}


@dataclass
class MDResult(Result):
    """A multi-temperature MD study of one structure."""

    TYPE = "MDResult"

    formula: str
    engine: str
    potential: str
    cell: CellReport
    settings: MDSettings
    analysis: AnalysisSettings
    temperatures: list  # DiffusionResult per temperature (ascending T)
    failed: dict = field(default_factory=dict)  # temperature -> error
    arrhenius: ArrheniusResult | None = None
    arrhenius_error: str | None = None
    identity: dict = field(default_factory=dict)  # the potential's identity (md_identity)
    arrhenius_plot: str | None = None  # path of arrhenius.png when written
    provenance: dict = field(default_factory=dict)

    def __post_init__(self):
        self.failed = {float(k): v for k, v in self.failed.items()}  # JSON keys are strings


def simulate(atoms, temperature: float, settings: MDSettings, engine: str = DEFAULTS.engine,
             potential=DEFAULTS.calculator, workdir=None, device: str = DEFAULTS.device, threads: int | None = None,
             model_path: str = "", identity: dict | None = None):
    """One temperature with the chosen engine -> MobileTrajectory (threads: OpenMM CPU threads). identity: the
    potential's identity for the ASE engine's run key (default `md_identity(potential, "ase", model_path)`)."""
    if engine == "ase":
        from perovscreen.potentials import get_calculator

        if identity is None:
            identity = md_identity(potential, "ase", model_path)
        calc = get_calculator(potential, device=device, model_path=model_path or None)
        return run_ase(atoms, calc, temperature, settings, workdir, identity=identity)
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
    traj = simulate(task["atoms"], task["temperature"], task["settings"], task["engine"], task["potential"],
                    task["workdir"], task.get("device", DEFAULTS.device), threads, task.get("model_path", ""),
                    task.get("identity"))
    return analyse(traj, **task["analysis"].analyse_kw()).to_dict()


def run_key_for(atoms, temperature: float, settings: MDSettings, engine: str, potential, identity: dict) -> str:
    """The key the engine will give this run (see `perovscreen.md.trajectory.run_key`)."""
    if engine == "ase":
        return run_key(settings, temperature, atoms, identity, ENGINE)
    from perovscreen.md.classical import potential_key, resolve_potential

    return run_key(settings, temperature, atoms, {"classical": potential_key(resolve_potential(potential, atoms)[0])},
                   engine)


def stored_keys(wd: Path) -> set:
    """Keys of the checkpoint and the finished run in a temperature folder (empty if none)."""
    import numpy as np

    keys = set()
    if (wd / "run.json").exists():
        try:
            keys.add(json.loads((wd / "run.json").read_text()).get("key"))
        except (OSError, ValueError):
            keys.add(None)
    if (wd / "checkpoint.npz").exists():
        try:
            with np.load(wd / "checkpoint.npz") as z:
                keys.add(str(z["key"]))
        except (OSError, ValueError, KeyError):
            keys.add(None)
    return keys


def run_md(structure: Structure, temperatures=DEFAULTS.temperatures, settings: MDSettings | None = None,
           potential=DEFAULTS.calculator, engine: str = DEFAULTS.engine, workdir: str | Path | None = None,
           jobs: int = DEFAULTS.jobs, executor: str = "local", address: str | None = None,
           min_length: float = DEFAULTS.min_length, vacancies: int = DEFAULTS.vacancies,
           compensation: str = DEFAULTS.compensation, analysis: AnalysisSettings | None = None,
           device: str = DEFAULTS.device, files=(), model_path: str = DEFAULTS.model_path,
           identity: dict | None = None) -> MDResult:
    """Build the MD cell, run every temperature (parallel with jobs > 1), analyse, fit Arrhenius.

    potential: a universal potential name or an ASE calculator (ase engine), a classical potential name or
    dict (lammps, openmm); model_path: its weights (ase) or a JSON classical potential. identity: the
    potential's identity (default `perovscreen.md.stage.md_identity`).
    Each temperature has its own directory under workdir (checkpoint, trajectory); rerunning with the
    same workdir resumes unfinished temperatures and reuses finished ones, but only runs of the same MD
    cell, potential identity, temperature and settings: anything else is refused, never reused.
    """
    from perovscreen.core.provenance import provenance
    from perovscreen.jobs.executors import get_executor

    settings = settings or MDSettings()
    analysis = analysis or AnalysisSettings()
    temps = sorted(float(t) for t in temperatures)
    if not temps or min(temps) <= 0:
        raise InputError("give at least one temperature > 0 K")
    if len(set(temps)) != len(temps):
        raise InputError(f"temperatures repeat: {temps}")
    if engine not in ENGINES:
        raise InputError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if jobs < 1:
        raise InputError(f"jobs must be >= 1, got {jobs}")
    _, n_prod, every = settings.steps
    n_frames = n_prod // every + 1
    if n_frames < MIN_FRAMES:  # refuse before any MD rather than fail every analysis after it
        raise InputError(f"{settings.time_ps:g} ps sampled every {settings.sample_fs:g} fs gives {n_frames} "
                         f"frames; the MSD fit needs at least {MIN_FRAMES}: lower the sampling interval or run longer")
    if identity is None:
        identity = md_identity(potential, engine, model_path)
    pot_name = potential if isinstance(potential, str) else type(potential).__name__
    if engine != "ase" and model_path:
        from perovscreen.md.classical import load_potential

        potential = load_potential(model_path)
    cell, report = build_md_cell(structure, min_length, settings.mobile, vacancies, compensation, seed=settings.seed)
    cell = cell.copy()
    cell.remove_oxidation_states()
    atoms = AseAtomsAdaptor.get_atoms(cell)
    if engine == "openmm":  # fail before any run: OpenMM needs cell widths >= 2 x cutoff
        from perovscreen.md.classical import resolve_potential
        from perovscreen.md.engine_openmm import check_cell

        check_cell(atoms, resolve_potential(potential, atoms)[0])
    root = Path(workdir) if workdir else None
    if root:  # never reuse or continue a run of another cell, potential, temperature or settings
        for t in temps:
            wd = root / f"T{t:g}K"
            other = stored_keys(wd) - {run_key_for(atoms, t, settings, engine, potential, identity)}
            if other:
                raise InputError(f"{wd} belongs to a run with other settings (structure or MD cell, potential, "
                                 "temperature or MD settings); use another work folder (--out) or remove it")
    threads = max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else None
    tasks = [{"atoms": atoms, "temperature": t, "settings": settings, "engine": engine, "potential": potential,
              "device": device, "analysis": analysis, "threads": threads, "model_path": model_path,
              "identity": identity, "workdir": str(root / f"T{t:g}K") if root else None} for t in temps]
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
    untag = lambda r: {k: v for k, v in r.to_dict().items() if not k.startswith("@")}  # noqa: E731
    params = {"temperatures": temps, "settings": untag(settings), "analysis": untag(analysis),
              "engine": engine, "potential": pot_name, "identity": identity, "min_length": min_length,
              "vacancies": vacancies, "compensation": compensation}
    out = MDResult(structure.composition.reduced_formula, engine, pot_name, report, settings, analysis, results,
                   failed, fit, fit_err, identity, None, provenance(params, files=files))
    if root:
        root.mkdir(parents=True, exist_ok=True)
        from perovscreen.md.plots import plot_arrhenius, plot_msd

        plot_msd(results, root / "msd.png")
        if fit:
            out.arrhenius_plot = str(plot_arrhenius(fit, results, root / "arrhenius.png"))
        (root / "md_result.json").write_text(json.dumps(out.to_dict(), indent=1))
    return out
