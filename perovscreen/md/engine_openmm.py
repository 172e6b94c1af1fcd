"""OpenMM engine for classical rigid-ion potentials (same definitions, checkpoints and analysis as LAMMPS).

Install: `pip install openmm` (CPU and Reference platforms in the wheel). Forces: PME Coulomb
(NonbondedForce, LJ terms zero, Ewald error tolerance 1e-5) plus Buckingham A exp(-r/rho) - C/r^6 as one
CustomNonbondedForce per interacting species pair (constants in the expression, an interaction group per
pair; 6-13x faster on the CPU platform than one force with Discrete2DFunction tables, measured), truncated
at the potential's cutoff without shift or long-range correction: the energy function of LAMMPS
buck/coul/long + Ewald (equal within 0.02 meV/atom, tested; measured 0.002-0.005). OpenMM demands every
perpendicular cell width >= 2 x cutoff (LAMMPS does not). Units: OpenMM works in nm, kJ/mol, ps,
amu, e; we convert at the boundary (A = 0.1 nm, eV = 96.485 kJ/mol). Equilibration: LangevinMiddle
(settings.equil_friction_per_ps); production: NoseHooverIntegrator (3-link chain, collision frequency
1/tdamp, LAMMPS's Tdamp convention), LangevinMiddle, or Verlet (NVE). Centre-of-mass motion is removed
every 10 steps (so T uses 3N - 3 degrees of freedom, as LAMMPS). Checkpoints hold OpenMM's own binary
checkpoint (positions, velocities, thermostat chain and RNG state; same platform and version only) and
the frames so far; a killed run resumes from the last one and reaches the same number of steps.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from ase import Atoms

from perovscreen.core.errors import InputError, ModelError
from perovscreen.md.classical import importable, pair_params, resolve_potential, run_classical
from perovscreen.md.engine_ase import MDSettings
from perovscreen.md.trajectory import MobileTrajectory

NM = 0.1  # nm per A
KJMOL = 96.48533212331  # kJ/mol per eV (CODATA 2018)
KB = 0.008314462618  # kJ/mol/K


def _import_openmm():
    try:
        import openmm
    except ImportError as exc:
        raise ModelError(f"OpenMM is not installed ({exc}); pip install openmm") from None
    return openmm


def openmm_available() -> bool:
    return importable(_import_openmm)


def openmm_cell(cell: np.ndarray) -> np.ndarray:
    """The same lattice in OpenMM's reduced triangular form (rows a, b, c; A): a along x, b in the xy plane,
    a_x >= 2|b_x|, a_x >= 2|c_x|, b_y >= 2|c_y|. The cell is rotated, so carry positions as fractions."""
    from ase.cell import Cell

    r = Cell(np.asarray(cell, float)).standard_form()[0].array.copy()
    if np.any(np.diag(r) <= 0):
        raise InputError("left-handed cell: reorder the lattice vectors")
    r[2] -= np.round(r[2, 1] / r[1, 1]) * r[1]
    r[2] -= np.round(r[2, 0] / r[0, 0]) * r[0]
    r[1] -= np.round(r[1, 0] / r[0, 0]) * r[0]
    return r


def check_cell(atoms: Atoms, pot: dict) -> np.ndarray:
    """Reduced cell, or InputError if a perpendicular width is below 2 x cutoff (OpenMM's minimum image rule)."""
    cell = openmm_cell(atoms.cell.array)
    width = float(np.diag(cell).min())
    if width < 2 * pot["cutoff"]:
        raise InputError(f"the MD cell is {width:.2f} A wide; OpenMM needs every perpendicular width >= 2 x cutoff "
                         f"= {2 * pot['cutoff']:g} A: raise --min-length to {2 * pot['cutoff']:g} or use LAMMPS")
    return cell


def build_system(atoms: Atoms, pot: dict, species: list[str], ewald_tol: float = 1e-5):
    """openmm.System of the rigid-ion potential for atoms (positions are set on a Context separately)."""
    mm = _import_openmm()
    cell = check_cell(atoms, pot)
    system = mm.System()
    system.setDefaultPeriodicBoxVectors(*[mm.Vec3(*(v * NM)) for v in cell])
    symbols = atoms.get_chemical_symbols()
    for m in atoms.get_masses():
        system.addParticle(float(m))
    rc = pot["cutoff"] * NM
    coul = mm.NonbondedForce()
    coul.setNonbondedMethod(mm.NonbondedForce.PME)
    coul.setCutoffDistance(rc)
    coul.setEwaldErrorTolerance(ewald_tol)
    coul.setUseDispersionCorrection(False)
    for s in symbols:
        coul.addParticle(pot["charges"][s], 0.1, 0.0)
    system.addForce(coul)
    for i, si in enumerate(species):
        for sj in species[i:]:
            a, rho, c = pair_params(pot, si, sj)
            if a == 0 and c == 0:
                continue
            buck = mm.CustomNonbondedForce(f"{a * KJMOL!r} * exp(-r / {rho * NM!r}) - {c * KJMOL * NM ** 6!r} / r^6")
            buck.setNonbondedMethod(mm.CustomNonbondedForce.CutoffPeriodic)
            buck.setCutoffDistance(rc)
            buck.setUseLongRangeCorrection(False)
            for _ in symbols:
                buck.addParticle([])
            buck.addInteractionGroup([k for k, x in enumerate(symbols) if x == si],
                                     [k for k, x in enumerate(symbols) if x == sj])
            system.addForce(buck)
    return system, cell


def _platform(device: str, threads: int | None):
    mm = _import_openmm()
    names = {"cpu": "CPU", "cuda": "CUDA", "reference": "Reference", "opencl": "OpenCL"}
    name = names.get(device.split(":")[0].lower())
    if name is None:
        raise InputError(f"unknown OpenMM device {device!r}; use cpu, cuda, opencl or reference")
    try:
        platform = mm.Platform.getPlatformByName(name)
    except Exception:
        raise ModelError(f"OpenMM platform {name} is not available here") from None
    props = {"Threads": str(threads)} if threads and name == "CPU" else {}
    return platform, props


class _OpenMMBackend:
    """run_classical backend: a Context per phase (OpenMM binds the integrator to the Context)."""

    def __init__(self, atoms: Atoms, pot: dict, species: list[str], temperature: float, s: MDSettings,
                 device: str = "cpu", threads: int | None = None):
        mm = _import_openmm()
        from openmm import unit

        self.mm, self.u, self.atoms, self.T, self.s = mm, unit, atoms, temperature, s
        self.system, self.cell_ = build_system(atoms, pot, species)
        self.system.addForce(mm.CMMotionRemover(10))
        self.platform, self.props = _platform(device, threads)
        self.ctx, self.production = None, None
        self.dof = 3 * len(atoms) - 3
        self.seed = 1 + (s.seed % 900_000_000)

    def _integrator(self, production: bool):
        mm, s, dt = self.mm, self.s, self.s.timestep_fs / 1000
        if production and s.thermostat == "nhc":
            return mm.NoseHooverIntegrator(self.T, 1000.0 / s.tdamp_fs, dt)
        if production and s.thermostat == "nve":
            return mm.VerletIntegrator(dt)
        integ = mm.LangevinMiddleIntegrator(self.T, s.friction_per_ps if production else s.equil_friction_per_ps, dt)
        integ.setRandomNumberSeed(self.seed + int(production))
        return integ

    def _context(self, production: bool):
        self.ctx = self.mm.Context(self.system, self._integrator(production), self.platform, self.props)
        self.production = production

    def open(self, state: bytes | None, wd: Path) -> None:
        if state is not None:
            production, blob = bool(state[0]), state[1:]
            self._context(production)
            try:
                self.ctx.loadCheckpoint(blob)
            except Exception as exc:
                raise InputError(f"cannot load the OpenMM checkpoint in {wd} ({exc}); it is only readable on the "
                                 "same platform and OpenMM version") from None
            return
        self._context(self.s.steps[0] == 0)
        frac = self.atoms.get_scaled_positions(wrap=False)
        self.ctx.setPositions(frac @ self.cell_ * NM)
        self.ctx.setVelocities(self._maxwell_boltzmann())

    def _maxwell_boltzmann(self) -> np.ndarray:
        """Seeded Gaussian velocities (nm/ps), zero total momentum, scaled to exactly T (as LAMMPS velocity create)."""
        m = self.atoms.get_masses()[:, None]
        v = np.random.default_rng(self.seed).normal(size=(len(m), 3)) * np.sqrt(KB * self.T / m)
        v -= (m * v).sum(0) / m.sum()
        t = (m * v * v).sum() / (self.dof * KB)
        return v * np.sqrt(self.T / t) if t > 0 else v

    def cell(self) -> np.ndarray:
        return self.cell_

    def set_phase(self, production: bool) -> None:
        if production == self.production:
            return
        st = self.ctx.getState(getPositions=True, getVelocities=True)
        step = self.ctx.getStepCount()
        self._context(production)
        self.ctx.setPositions(st.getPositions(asNumpy=True))
        self.ctx.setVelocities(st.getVelocities(asNumpy=True))
        self.ctx.setStepCount(step)

    def advance(self, n: int, fresh: bool) -> None:
        self.ctx.getIntegrator().step(n)

    def sample(self):
        st = self.ctx.getState(getPositions=True, getEnergy=True)
        pos = st.getPositions(asNumpy=True).value_in_unit(self.u.nanometer) / NM
        ke = st.getKineticEnergy().value_in_unit(self.u.kilojoule_per_mole)
        return (pos @ np.linalg.inv(self.cell_), 2 * ke / (self.dof * KB),
                st.getPotentialEnergy().value_in_unit(self.u.kilojoule_per_mole) / KJMOL)

    def state(self) -> bytes:
        return bytes([int(self.production)]) + self.ctx.createCheckpoint()

    def close(self) -> None:
        self.ctx = None


def run_openmm(atoms: Atoms, potential: str | dict, temperature: float, settings: MDSettings | None = None,
               workdir: str | Path | None = None, device: str = "cpu", threads: int | None = None
               ) -> MobileTrajectory:
    """Run equilibration + production with OpenMM; return the production mobile-ion trajectory."""
    s = settings or MDSettings()
    pot, species = resolve_potential(potential, atoms)
    backend = _OpenMMBackend(atoms, pot, species, temperature, s, device, threads)
    return run_classical(backend, atoms, pot, temperature, s, workdir, "openmm")
