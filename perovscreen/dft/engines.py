"""DFT engines behind one factory: `dft_calculator(engine, directory, ...)` gives an ASE calculator for GPAW
(Debian's gpaw, run by Debian's python in a subprocess) or Quantum ESPRESSO (Debian's pw.x).

Conventions shared by both engines: energies in eV, `ecut` the plane-wave cutoff in eV (0 = from the
pseudopotential metadata for QE, DEFAULT_GPAW_ECUT for GPAW), `kpoint_density` in points per A^-1 of
reciprocal length including 2 pi (ASE's `kptdensity` convention, the grid fixed from the first geometry so a
variable-cell relaxation keeps one grid), `smearing` a Fermi-Dirac width in eV."""
from __future__ import annotations

from pathlib import Path

from perovscreen.core.errors import InputError
from perovscreen.dft.calculator import (DEFAULT_GPAW_ECUT, GPAW_PYTHON, INSTALL_HINT, SCFNotConverged,  # noqa: F401
                                        kpoint_grid, package_version, require_executable, require_gpaw)

ENGINES = ("gpaw", "espresso")
PACKAGES = {"gpaw": ("gpaw", "gpaw-data"), "espresso": ("quantum-espresso",)}


def dft_calculator(engine: str, directory: str | Path, *, kpoint_density: float = 3.0, ecut: float = 0.0,
                   xc: str = "PBE", pseudo_dir: str | None = None, atoms=None, **kw):
    """An ASE calculator for `engine` writing into `directory` (kept for inspection). `atoms` (optional)
    fixes the k-point grid and the pseudopotentials now, so a missing one raises here; otherwise they are
    chosen at the first calculation. Extra keywords: smearing (eV), conv_thr (eV), maxiter, nprocs, command
    (pw.x argv list) / python (GPAW's interpreter), input_data (raw pw.x namelists), gpaw (raw GPAW kwargs).
    Raises InputError naming a missing pseudopotential or a missing package."""
    if engine not in ENGINES:
        raise InputError(f"unknown DFT engine {engine!r} (known: {', '.join(ENGINES)})")
    if engine == "espresso":
        from perovscreen.dft.espresso import EspressoCalculator

        return EspressoCalculator(directory, kpoint_density=kpoint_density, ecut=ecut, xc=xc,
                                  pseudo_dir=pseudo_dir, atoms=atoms, **kw)
    from perovscreen.dft.gpaw import GPAWCalculator

    return GPAWCalculator(directory, kpoint_density=kpoint_density, ecut=ecut, xc=xc, atoms=atoms, **kw)


def engine_identity(engine: str, pseudo_dir: str | None = None, elements=None, **kw) -> dict:
    """What a DFT answer depends on besides the parameters: the engine's package versions and the SHA-256 of
    the pseudopotential files used (those of `elements`, or every file in `pseudo_dir` when not given).
    For resume keys."""
    if engine not in ENGINES:
        raise InputError(f"unknown DFT engine {engine!r} (known: {', '.join(ENGINES)})")
    out = {"engine": engine, "packages": {p: package_version(p) for p in PACKAGES[engine]}}
    if engine == "espresso":
        from perovscreen.dft.espresso import pseudo_hashes

        if not pseudo_dir:
            raise InputError("the espresso engine needs a pseudopotential directory (--pseudo-dir)")
        out["pseudos"] = pseudo_hashes(pseudo_dir, elements)
    return out


__all__ = ["ENGINES", "PACKAGES", "DEFAULT_GPAW_ECUT", "GPAW_PYTHON", "INSTALL_HINT", "SCFNotConverged", "dft_calculator",
           "engine_identity", "kpoint_grid", "package_version", "require_executable", "require_gpaw"]
