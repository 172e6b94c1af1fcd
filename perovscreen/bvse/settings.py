"""BVSE parameters: written once here; the Python API, the CLI, the funnel and the docs take their defaults."""
from __future__ import annotations

from dataclasses import dataclass

from perovscreen.jobs.stage import param


@dataclass(frozen=True)
class BVSEParams:
    resolution: float = param(0.2, "grid spacing upper bound", "A", minimum=0.02, maximum=2.0)
    cutoff: float = param(10.0, "interaction cutoff", "A", minimum=0.0, exclusive=True, maximum=30.0)
    screening: float = param(0.74, "Coulomb screening factor f", minimum=0.0, exclusive=True, maximum=2.0)
    tune_screening: bool = param(False, "choose f for zero softBV pressure")
    d0_convention: str = param("half", "Morse depth convention: D0/2 (bvlain) or D0", choices=("half", "full"),
                               flag="--d0")
    covalent_radii: str = param("softbv", "covalent radii in the Coulomb term", choices=("softbv", "ase"),
                                flag="--radii")
    energy_cap: float = param(10.0, "search percolation up to this energy above the minimum", "eV",
                              minimum=0.0, exclusive=True, maximum=100.0)
    grid_dir: str = param("", "also write <id>-<file hash>.cube and .grd energy grids here", science=False,
                          kind="path")


DEFAULTS = BVSEParams()
