"""The base of both DFT calculators: an ASE Calculator that runs one external SCF per geometry in a kept
working directory, fixes the k-point grid at the first geometry, and records per-step convergence info."""
from __future__ import annotations

import functools
import math
import os
import shutil
import subprocess
import time
from pathlib import Path

from ase.calculators.calculator import Calculator, all_changes

from perovscreen.core.errors import InputError, PerovscreenError

DEFAULT_GPAW_ECUT = 600.0  # eV; GPAW's F and O setups are hard: LiF's stress is still off by ~0.05 eV/A^3 at 500 eV
GPAW_PYTHON = "/usr/bin/python3"  # Debian's gpaw imports only under Debian's python (its numpy)
INSTALL_HINT = "python -m perovscreen.dft.install"


class SCFNotConverged(PerovscreenError, RuntimeError):
    """The self-consistent field did not converge (a runtime failure: the message says after how many
    iterations and what to change)."""


def kpoint_grid(atoms, density: float) -> tuple[int, int, int]:
    """Monkhorst-Pack sizes with at least `density` points per A^-1 (2 pi included) along each periodic
    reciprocal vector; 1 along non-periodic directions."""
    import numpy as np

    if density <= 0:
        return (1, 1, 1)
    rec = atoms.cell.reciprocal()
    return tuple(max(1, math.ceil(2 * math.pi * float(np.linalg.norm(rec[i])) * density - 1e-6))
                 if atoms.pbc[i] else 1 for i in range(3))


@functools.lru_cache(maxsize=None)
def package_version(name: str) -> str | None:
    """The installed Debian package's version (None when dpkg is absent or the package is not installed)."""
    if not shutil.which("dpkg-query"):
        return None
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", name], capture_output=True, text=True)
    return (r.stdout.strip() or None) if r.returncode == 0 else None


def require_executable(command: str, package: str) -> str:
    """The full path of `command`, or an InputError naming the Debian package that provides it."""
    path = shutil.which(command)
    if not path:
        raise InputError(f"{command} not found: install the Debian package {package} ({INSTALL_HINT})")
    return path


@functools.lru_cache(maxsize=None)
def require_gpaw(python: str = GPAW_PYTHON) -> str:
    """GPAW's version under `python`, or an InputError naming the Debian packages gpaw and gpaw-data."""
    if not Path(python).is_file():
        raise InputError(f"GPAW's python {python} not found: install the Debian packages gpaw gpaw-data "
                         f"({INSTALL_HINT})")
    r = subprocess.run([python, "-c", "import gpaw; print(gpaw.__version__)"], capture_output=True, text=True)
    if r.returncode != 0:
        raise InputError(f"gpaw is not importable by {python}: install the Debian packages gpaw gpaw-data "
                         f"({INSTALL_HINT})")
    return r.stdout.strip()



def mpi_prefix(nprocs: int) -> list[str]:
    """`mpirun -np N` (OpenMPI refuses root without --allow-run-as-root), or nothing for one process."""
    if nprocs <= 1:
        return []
    root = ["--allow-run-as-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    return ["mpirun", *root, "-np", str(nprocs)]


def tail(path: Path, n: int = 6) -> str:
    """The last non-empty lines of a log, joined on one line (for error messages)."""
    try:
        lines = [x.strip() for x in path.read_text(errors="replace").splitlines() if x.strip()]
    except OSError:
        return ""
    return " | ".join(lines[-n:])


class DFTCalculator(Calculator):
    """Subclasses implement `run_engine(atoms) -> (results, info)`; info carries at least converged (bool),
    reason (str) and iterations (int); band_gap / fermi_level when the engine reports them."""

    implemented_properties = ["energy", "free_energy", "forces", "stress"]
    engine = ""

    def __init__(self, directory, *, kpoint_density: float = 3.0, ecut: float = 0.0, xc: str = "PBE",
                 smearing: float = 0.05, conv_thr: float = 1e-6, maxiter: int = 100, nprocs: int = 1,
                 kpts=None):
        super().__init__(directory=str(directory))
        self.kpoint_density, self.ecut, self.xc = kpoint_density, ecut, xc
        self.smearing, self.conv_thr, self.maxiter, self.nprocs = smearing, conv_thr, maxiter, nprocs
        self.kpts = tuple(int(k) for k in kpts) if kpts is not None else None
        self.info: dict = {}      # the last calculation's convergence info
        self.history: list = []   # one info per calculation

    def prepare(self, atoms) -> None:
        if self.kpts is None:
            self.kpts = kpoint_grid(atoms, self.kpoint_density)

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.prepare(self.atoms)
        Path(self.directory).mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        results, info = self.run_engine(self.atoms)
        info = {**info, "wall_s": round(time.perf_counter() - t0, 3), "kpts": list(self.kpts)}
        self.info = info
        self.history.append(info)
        if not info.get("converged", True):
            raise SCFNotConverged(f"{self.engine}: {info.get('reason', 'SCF not converged')}")
        self.results = results

    def run_engine(self, atoms):  # pragma: no cover - abstract
        raise NotImplementedError
