"""G0W0 quasiparticle gaps on small cells with GPAW's response code (through the Debian-python worker): a PBE
ground state, every band by exact diagonalisation, then G0W0@PBE of the band edges. G0W0 is costly and
converges slowly in the response cutoff, the number of bands and the k-grid; the defaults are a small-basis
screening setting, not converged numbers (see docs/dft.md for LiF)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from perovscreen.core.errors import InputError
from perovscreen.core.results import Result
from perovscreen.dft.calculator import GPAW_PYTHON
from perovscreen.dft.gpaw import GPAWCalculator, run_worker
from perovscreen.potentials.tasks import to_atoms

# Experimental fundamental gaps (eV) for the comparison line of a report
EXPERIMENTAL_GAPS = {
    "LiF": (14.2, "experimental gap as tabulated by Shishkin & Kresse, Phys. Rev. B 75, 235102 (2007)"),
}


@dataclass
class GWResult(Result):
    """G0W0@PBE and PBE gaps (eV) on the same k-grid; `experiment` (eV) when the formula is tabulated."""
    TYPE = "GWResult"

    formula: str
    n_atoms: int
    pbe_gap: float
    gw_gap: float
    pbe_direct_gap: float
    gw_direct_gap: float
    kpts: list
    ecut: float
    ecut_gw: float
    ppa: bool
    wall_s: float
    workdir: str
    gpaw_version: str = ""
    experiment: float | None = None
    experiment_source: str = ""

    @property
    def pbe_underestimate(self) -> float | None:
        return None if self.experiment is None else self.experiment - self.pbe_gap


def gw_gap(structure, workdir: str | Path = "dft-gw", kpoint_density: float = 1.5, kpts=None,
           ecut: float = 400.0, ecut_gw: float = 50.0, ppa: bool = True, max_atoms: int = 8,
           python: str = GPAW_PYTHON, nprocs: int = 1) -> GWResult:
    """G0W0@PBE band gap of a small cell (at most `max_atoms` atoms): `ecut` (eV) the ground-state plane-wave
    cutoff, `ecut_gw` (eV) the response cutoff (it also sets the number of bands), `ppa` the Godby-Needs
    plasmon-pole model instead of full frequency integration."""
    atoms = to_atoms(structure)
    if len(atoms) > max_atoms:
        raise InputError(f"G0W0 is limited to cells of at most {max_atoms} atoms here, got {len(atoms)}")
    t0 = time.perf_counter()
    calc = GPAWCalculator(workdir, kpoint_density=kpoint_density, ecut=ecut, smearing=0.001, conv_thr=1e-6,
                          kpts=kpts, atoms=atoms, python=python, nprocs=nprocs)
    out = run_worker(workdir, calc.request(atoms, task="gw", ecut_gw=ecut_gw, ppa=ppa), python, nprocs)
    formula = atoms.get_chemical_formula(mode="reduce")
    exp, source = EXPERIMENTAL_GAPS.get(formula, (None, ""))
    return GWResult(formula, len(atoms), out["pbe_gap"], out["gw_gap"], out["pbe_direct_gap"], out["gw_direct_gap"],
                    list(calc.kpts), ecut, ecut_gw, ppa, round(time.perf_counter() - t0, 2),
                    str(Path(workdir).resolve()), out.get("gpaw_version", ""), exp, source)
