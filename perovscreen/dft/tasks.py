"""DFT tasks on one structure: a static SCF (energy, forces, stress, band gap) and a relaxation of the positions
(and the cell through ASE's FrechetCellFilter) driven by an ASE optimiser. Every task writes into a kept working
directory; a relaxation appends each step to relax.traj there, so a rerun after a kill continues from the last
written geometry (and the optimiser's saved Hessian)."""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ase.io import Trajectory
from ase.units import Ry
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor
from pymatgen.io.cif import CifWriter

from perovscreen.core.errors import InputError
from perovscreen.core.results import Result, transient
from perovscreen.dft.engines import dft_calculator
from perovscreen.potentials.tasks import to_atoms

OPTIMIZERS = ("BFGS", "FIRE")


@dataclass
class DFTResult(Result):
    """A DFT static or relaxation: energy (eV), forces (eV/A), stress (eV/A^3, ASE Voigt order), Kohn-Sham band
    gap and Fermi level (eV, the engine's functional: PBE by default), the SCF's convergence (iterations of the
    last SCF, number of SCFs), the grid and cutoff actually used, the wall time and the kept working directory.
    Relaxations add the optimiser's outcome and `restarted_from` (steps found in relax.traj from a killed run)."""
    TYPE = "DFTResult"

    task: str
    engine: str
    formula: str
    n_atoms: int
    energy: float
    energy_per_atom: float
    forces: list
    stress: list
    band_gap: float | None
    direct_gap: float | None
    fermi_level: float | None
    scf_iterations: int
    n_scf: int
    kpts: list
    ecut: float
    wall_s: float
    workdir: str
    initial_energy: float | None = None
    initial_volume: float = 0.0
    final_volume: float = 0.0
    converged: bool = True        # relaxations: forces (and stress) below fmax within the step limit
    steps: int = 0
    fmax: float = 0.0
    relax_cell: bool = False
    restarted_from: int = 0
    cif: str = ""
    structure: Structure | None = transient()

    @property
    def pressure_gpa(self) -> float:
        from ase.units import GPa

        return float(-np.mean(self.stress[:3]) / GPa)


def _calculator(engine, workdir, atoms, calc_kw):
    return dft_calculator(engine, Path(workdir) / "scf", atoms=atoms, **calc_kw)


def _ecut_ev(calc) -> float:
    return float(calc.ecutwfc * Ry) if calc.engine == "espresso" else float(calc.ecut)


def _result(task, engine, atoms, calc, workdir, t0, **extra) -> DFTResult:
    e = float(atoms.get_potential_energy())
    info = calc.info
    s = AseAtomsAdaptor.get_structure(atoms)
    n = len(atoms)
    return DFTResult(task, engine, s.composition.reduced_formula, n, e, e / n, atoms.get_forces().tolist(),
                     [float(x) for x in atoms.get_stress(voigt=True)], info.get("band_gap"), info.get("direct_gap"),
                     info.get("fermi_level"), int(info.get("iterations") or 0), len(calc.history), list(calc.kpts),
                     _ecut_ev(calc), round(time.perf_counter() - t0, 3), str(Path(workdir).resolve()),
                     final_volume=float(atoms.get_volume()), cif=str(CifWriter(s)), structure=s, **extra)


def static(structure, engine: str = "gpaw", workdir: str | Path = "dft-static", **calc_kw) -> DFTResult:
    """One SCF with energy, forces, stress and the Kohn-Sham gap. calc_kw: see `engines.dft_calculator`.
    SCF non-convergence raises `SCFNotConverged` with the reason."""
    atoms = to_atoms(structure)
    t0 = time.perf_counter()
    calc = _calculator(engine, workdir, atoms, calc_kw)
    atoms.calc = calc
    atoms.get_potential_energy()
    return _result("static", engine, atoms, calc, workdir, t0, initial_volume=float(atoms.get_volume()))


def band_gap(structure, engine: str = "gpaw", workdir: str | Path = "dft-gap", **calc_kw) -> float:
    """The Kohn-Sham band gap (eV) on the SCF k-point grid (a lower bound on the true KS gap when the band
    edges lie off the grid; LiF's are at Gamma, which the Gamma-centred grids contain)."""
    return static(structure, engine, workdir, **calc_kw).band_gap


def saved_steps(path: Path) -> list:
    """The readable frames of a relaxation trajectory (a kill mid-write leaves a truncated last frame)."""
    frames = []
    if not path.is_file():
        return frames
    try:
        with Trajectory(str(path)) as traj:
            for i in range(len(traj)):
                frames.append(traj[i])
    except Exception:  # noqa: BLE001 - keep what was readable
        pass
    return frames


def relax(structure, engine: str = "gpaw", workdir: str | Path = "dft-relax", fmax: float = 0.05,
          steps: int = 100, relax_cell: bool = False, optimizer: str = "BFGS", **calc_kw) -> DFTResult:
    """Relax the positions (and the cell when `relax_cell`) until every force (and scaled stress) is below
    `fmax` eV/A or `steps` optimiser steps have run in total. Rerun with the same workdir after a kill: it
    continues from the last step in relax.traj with the optimiser's saved state."""
    from ase import optimize
    from ase.filters import FrechetCellFilter

    opt_name = optimizer.upper()
    if opt_name not in OPTIMIZERS:
        raise InputError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    atoms = to_atoms(structure)
    v0 = float(atoms.get_volume())
    traj_path = work / "relax.traj"
    frames = saved_steps(traj_path)
    if frames:
        last = frames[-1]
        if last.get_chemical_symbols() != atoms.get_chemical_symbols():
            raise InputError(f"{traj_path} holds another structure: use a new working directory")
        atoms.set_cell(last.cell)
        atoms.set_positions(last.positions)
        # rewrite the readable frames: a truncated frame would block appending
        with Trajectory(str(traj_path), "w") as t:
            for f in frames:
                t.write(f)
    t0 = time.perf_counter()
    calc = _calculator(engine, work, atoms, calc_kw)
    atoms.calc = calc
    target = FrechetCellFilter(atoms) if relax_cell else atoms
    state = work / "optimizer.json"
    try:
        opt = getattr(optimize, opt_name)(target, logfile=str(work / "relax.log"), restart=str(state))
    except Exception:  # noqa: BLE001 - a state file cut short by a kill: start the optimiser afresh
        state.unlink(missing_ok=True)
        opt = getattr(optimize, opt_name)(target, logfile=str(work / "relax.log"), restart=str(state))
    done = max(len(frames) - 1, 0)
    with Trajectory(str(traj_path), "a", atoms) as traj:
        if not frames:
            opt.attach(traj.write, interval=1)  # the optimiser writes the initial geometry as step 0
        else:
            opt.attach(lambda: traj.write() if opt.nsteps > 0 else None, interval=1)
        with warnings.catch_warnings():  # FrechetCellFilter's logm reports 1e-13 "inaccuracy" every step
            warnings.filterwarnings("ignore", message="logm result may be inaccurate")
            converged = bool(opt.run(fmax=fmax, steps=max(steps - done, 0)))
    initial = saved_steps(traj_path)[0].get_potential_energy()
    return _result("relax", engine, atoms, calc, work, t0, initial_energy=float(initial), initial_volume=v0,
                   converged=converged, steps=done + opt.nsteps, fmax=fmax, relax_cell=relax_cell,
                   restarted_from=done)


__all__ = ["DFTResult", "static", "relax", "band_gap", "saved_steps"]
