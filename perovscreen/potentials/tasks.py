"""Potential tasks: single point, relaxation (FIRE/BFGS with a cell filter), batched single points."""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor
from pymatgen.io.cif import CifWriter

from perovscreen.core.errors import InputError
from perovscreen.core.results import Result, transient
from perovscreen.potentials.calculators import backend_name, get_calculator

OPTIMIZERS = ("FIRE", "BFGS")


@dataclass
class SinglePoint(Result):
    """Energy (eV), energy per atom, forces (eV/A, n x 3) and stress (eV/A^3, ASE Voigt order, 6)."""
    TYPE = "SinglePoint"

    formula: str
    n_atoms: int
    energy: float
    energy_per_atom: float
    forces: list
    stress: list
    backend: str

    @property
    def fmax(self) -> float:
        return float(np.linalg.norm(np.asarray(self.forces), axis=1).max())


@dataclass
class Relaxation(Result):
    """Result of a relaxation; ``trajectory`` holds energy/fmax/volume per optimizer step; ``cif`` the
    relaxed cell (the structure itself stays in memory)."""
    TYPE = "Relaxation"

    formula: str
    n_atoms: int
    initial_energy: float
    final_energy: float
    energy_per_atom: float
    fmax: float
    steps: int
    converged: bool
    optimizer: str
    relax_cell: bool
    initial_volume: float
    final_volume: float
    backend: str
    seconds: float
    cif: str = ""
    structure: Structure | None = transient()
    trajectory: list = field(default_factory=list, repr=False)


def to_atoms(structure: Structure | Atoms) -> Atoms:
    """ASE Atoms from a pymatgen Structure; partial occupancies are refused (order them first)."""
    if isinstance(structure, Atoms):
        return structure.copy()
    if not isinstance(structure, Structure):
        raise InputError(f"expected a pymatgen Structure or ASE Atoms, got {type(structure).__name__}")
    return AseAtomsAdaptor.get_atoms(plain_ordered(structure, "order the structure (e.g. a supercell "
                                                               "approximant) before a potential calculation"))


def plain_ordered(structure: Structure, advice: str = "evaluate an ordered approximant") -> Structure:
    """A copy without oxidation states (energies compare elements, not Li+ with Li); partial occupancies
    are refused with `advice`."""
    if not structure.is_ordered:
        raise InputError(f"{structure.formula}: partial occupancies; {advice}")
    s = structure.copy()
    s.remove_oxidation_states()
    return s


def _single_point_from_atoms(atoms: Atoms, calc: Calculator) -> SinglePoint:
    atoms.calc = calc
    e = float(atoms.get_potential_energy())
    forces = atoms.get_forces()
    try:
        stress = atoms.get_stress(voigt=True)
    except Exception:  # a calculator without stress
        stress = np.full(6, np.nan)
    n = len(atoms)
    return SinglePoint(atoms.get_chemical_formula(mode="reduce"), n, e, e / n, np.asarray(forces).tolist(),
                       np.asarray(stress).tolist(), backend_name(calc))


def single_point(structure: Structure | Atoms, calculator: str | Calculator = "chgnet", **kw) -> SinglePoint:
    """Energy, forces and stress of one structure."""
    return _single_point_from_atoms(to_atoms(structure), get_calculator(calculator, **kw))


def single_points(structures, calculator: str | Calculator = "chgnet", batch_size: int = 16,
                  **kw) -> list[SinglePoint]:
    """Single points for many structures; CHGNet evaluates them in graph batches of ``batch_size``."""
    calc = get_calculator(calculator, **kw)
    atoms = [to_atoms(s) for s in structures]
    if backend_name(calc) != "chgnet":
        return [_single_point_from_atoms(a, calc) for a in atoms]
    model = calc.model
    structs = [AseAtomsAdaptor.get_structure(a) for a in atoms]
    preds = model.predict_structure(structs, task="efs", batch_size=batch_size)
    preds = [preds] if isinstance(preds, dict) else preds
    out = []
    for a, p in zip(atoms, preds):
        n = len(a)
        e = float(p["e"]) * (n if model.is_intensive else 1)
        # CHGNet stress is in GPa with the same sign convention as its ASE calculator
        s = np.asarray(p["s"]) * calc.stress_weight
        voigt = [s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]]
        out.append(SinglePoint(a.get_chemical_formula(mode="reduce"), n, e, e / n, np.asarray(p["f"]).tolist(),
                               [float(v) for v in voigt], "chgnet"))
    return out


def relax(structure: Structure | Atoms, calculator: str | Calculator = "chgnet", fmax: float = 0.05,
          steps: int = 300, optimizer: str = "FIRE", relax_cell: bool = True, symmetry: bool = False,
          **kw) -> Relaxation:
    """Relax positions (and the cell through ASE's FrechetCellFilter when ``relax_cell``).

    fmax: force (and scaled stress) threshold in eV/A; steps: maximum optimizer steps;
    symmetry: keep the space group with ASE's FixSymmetry constraint.
    """
    from ase import optimize
    from ase.filters import FrechetCellFilter

    opt_name = optimizer.upper()
    if opt_name not in OPTIMIZERS:
        raise InputError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
    if fmax <= 0 or steps < 0:
        raise InputError("fmax must be > 0 and steps >= 0")
    calc = get_calculator(calculator, **kw)
    atoms = to_atoms(structure)
    if symmetry:
        from ase.constraints import FixSymmetry

        atoms.set_constraint(FixSymmetry(atoms))
    atoms.calc = calc
    t0 = time.perf_counter()
    e0, v0 = float(atoms.get_potential_energy()), float(atoms.get_volume())
    target = FrechetCellFilter(atoms) if relax_cell else atoms
    traj: list[dict] = []

    def record():
        f = target.get_forces()
        traj.append({"energy": float(atoms.get_potential_energy()), "fmax": float(np.sqrt((f**2).sum(1)).max()),
                     "volume": float(atoms.get_volume())})

    opt = getattr(optimize, opt_name)(target, logfile=None)
    opt.attach(record)
    with warnings.catch_warnings():  # FrechetCellFilter's logm reports 1e-13 "inaccuracy" every step
        warnings.filterwarnings("ignore", message="logm result may be inaccurate")
        converged = bool(opt.run(fmax=fmax, steps=steps))
    e1 = float(atoms.get_potential_energy())
    fmax_final = traj[-1]["fmax"] if traj else float("nan")
    atoms.set_constraint()
    s = AseAtomsAdaptor.get_structure(atoms)
    n = len(atoms)
    return Relaxation(s.composition.reduced_formula, n, e0, e1, e1 / n, fmax_final, opt.get_number_of_steps(),
                      converged, opt_name, relax_cell, v0, float(atoms.get_volume()), backend_name(calc),
                      time.perf_counter() - t0, str(CifWriter(s)), s, traj)


__all__ = ["SinglePoint", "Relaxation", "single_point", "single_points", "relax", "to_atoms"]
