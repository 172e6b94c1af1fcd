"""NEB results: one band (`NebResult`) and the hops of one structure (`NebPathway`), typed and
round-tripping through JSON; `analyse_profile` turns image energies into barriers.

Barrier = highest image energy minus the initial one (reverse: minus the final one). A spline through the
images is reported beside it only when its maximum lies inside the path: emmet #1255 found spline fits
whose derivative roots fall outside [0, 1], which extrapolate to much higher "barriers"."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from perovscreen.core.results import Result


def analyse_profile(energies, path=None, slopes=None) -> dict:
    """{forward, reverse, i_max, spline}. energies: image energies (eV) in band order; path: cumulative
    distance of the images (A, default evenly spaced); slopes: dE/ds at each image (eV/A; -F.tangent),
    which makes the spline a Hermite one. spline = {used, s (fraction of the path), energy, barrier, reason}."""
    from scipy.interpolate import CubicHermiteSpline, CubicSpline

    e = np.asarray(energies, float)
    i_max = int(np.argmax(e))
    out = {"forward": float(e[i_max] - e[0]), "reverse": float(e[i_max] - e[-1]), "i_max": i_max}
    s = np.linspace(0.0, 1.0, len(e)) if path is None else np.asarray(path, float)
    if len(e) < 3 or s[-1] <= 0 or np.any(np.diff(s) <= 0):
        out["spline"] = {"used": False, "reason": "too few or coincident images for a spline"}
        return out
    x = s / s[-1]
    sp = CubicSpline(x, e) if slopes is None else CubicHermiteSpline(x, e, np.asarray(slopes, float) * s[-1])
    roots = sp.derivative().roots(extrapolate=True)
    roots = roots[np.isfinite(roots)]
    maxima = [float(r) for r in roots if sp(r, 2) < 0]
    inside = [r for r in maxima if 0.0 < r < 1.0]
    if not inside:
        where = ", ".join(f"{r:.2f}" for r in sorted(maxima)) or "none"
        out["spline"] = {"used": False, "reason": f"spline maximum outside the path (maxima at s = {where}); "
                                                  "barrier from the images"}
        return out
    r = max(inside, key=lambda v: float(sp(v)))
    out["spline"] = {"used": True, "s": round(r, 5), "energy": float(sp(r)), "barrier": float(sp(r) - e[0]),
                     "reason": ""}
    return out


@dataclass
class NebResult(Result):
    """One climbing-image band. energies absolute (eV), path cumulative image distance (A); positions
    per image (A) with the shared geometry {symbols, cell, pbc}; cost = band wall time per force call and
    per atom (s)."""

    TYPE = "NebResult"

    formula: str
    energies: list
    path: list
    forward_barrier: float
    reverse_barrier: float
    climbing_image: int
    spline: dict
    converged: bool
    steps: int
    max_force: float                   # final NEB force (eV/A) on the intermediate images
    geometry: dict                     # {symbols, cell, pbc}
    positions: list                    # per image, n_atoms x 3 (A)
    hop: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    calculator: str = ""
    n_atoms: int = 0
    force_calls: int = 0
    wall_s: float = 0.0
    cost_s_per_call_atom: float = 0.0
    warnings: list = field(default_factory=list)

    @property
    def barrier(self) -> float:
        return self.forward_barrier

    def relative_energies(self) -> list:
        return [e - self.energies[0] for e in self.energies]

    def images(self) -> list:
        """The band as ASE Atoms (energies attached as info['energy'])."""
        from ase import Atoms

        g = self.geometry
        return [Atoms(g["symbols"], positions=p, cell=g["cell"], pbc=g["pbc"], info={"energy": e})
                for p, e in zip(self.positions, self.energies)]

    def write_extxyz(self, path) -> None:
        from ase.io import write

        write(str(path), self.images(), format="extxyz")


@dataclass
class NebPathway(Result):
    """The NEB hops of one structure. min/max barrier over the hops computed; when every distinct hop up to
    the percolation length was computed (complete), max_barrier bounds the percolating barrier from above."""

    TYPE = "NebPathway"

    formula: str
    mode: str
    hops: list                         # NebResult per hop
    supercell: list
    min_barrier: float
    max_barrier: float
    complete: bool
    potential: dict = field(default_factory=dict)
    bvse: dict = field(default_factory=dict)   # E1D/E2D/E3D of the same structure, eV
    plots: list = field(default_factory=list)
    warnings: list = field(default_factory=list)


def pathway(formula: str, mode: str, hops: list, supercell, complete: bool, **kw) -> NebPathway:
    fw = [h.forward_barrier for h in hops]
    return NebPathway(formula, mode, hops, list(supercell), min(fw) if fw else math.inf,
                      max(fw) if fw else math.inf, complete, **kw)
