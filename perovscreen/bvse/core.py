"""compute_bvse: softBV site-energy grid, exact percolation barriers, sites, bottlenecks and paths."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from pymatgen.core import Structure

from perovscreen.core.errors import InputError
from perovscreen.core.results import Estimate, Result, transient
from perovscreen.bvse import percolation
from perovscreen.bvse.framework import build_framework, decorate
from perovscreen.bvse.kernel import compute_energy, grid_shape
from perovscreen.bvse.params import load_table
from perovscreen.bvse.settings import DEFAULTS, BVSEParams
from perovscreen.jobs.stage import make_params
from perovscreen.bvse.writers import write_cube, write_grd

DIMS = ("E1D", "E2D", "E3D")
_D = DEFAULTS


def _json_float(x):
    """Infinite values serialise as the string "inf" (float("inf") parses it back)."""
    return "inf" if math.isinf(x) else float(x)


@dataclass
class BVSEResult(Result):
    TYPE = "BVSEResult"

    formula: str
    ion: str                      # mobile ion with charge, e.g. 'Li+1'
    barriers: dict                # {"E1D", "E2D", "E3D"}: threshold - global minimum (eV), inf if none
    e_min: float                  # absolute global minimum of the site energy (eV)
    grid_shape: tuple
    spacing: list                 # actual grid spacing per axis (A), each <= resolution
    params: dict                  # resolution, cutoff, screening (used), d0_convention, energy_cap, ...
    minima: list                  # [{"frac", "cart", "energy"}] lowest local minima, energy relative to e_min
    bottlenecks: list             # [{"dim", "frac", "cart", "energy", "wrap_vector"}]
    paths: list                   # [{"dim", "wrap_vector", "frac", "energy"}] through each bottleneck
    oxidation_source: str
    screening_info: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    Ea_calibrated: Estimate | None = None  # set by the stage (bvse.calibrate.predict_ea)
    energy: np.ndarray | None = transient()  # absolute site energies (eV), grid i/n
    structure: Structure | None = transient()

    @property
    def saddles(self):
        return self.bottlenecks

    @property
    def dimensionality(self) -> int:
        return sum(not math.isinf(self.barriers[k]) for k in DIMS)

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["barriers"] = {k: _json_float(v) for k, v in self.barriers.items()}
        d["dimensionality"] = self.dimensionality
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "BVSEResult":
        r = super().from_dict(d)
        r.barriers = {k: float(v) for k, v in r.barriers.items()}
        r.grid_shape = tuple(r.grid_shape)
        return r

    def write_cube(self, path):
        write_cube(path, self.structure, self.energy - self.e_min)

    def write_grd(self, path):
        write_grd(path, self.structure, self.energy - self.e_min)


def _point(structure, frac, e):
    frac = np.asarray(frac, float)
    return {"frac": [round(float(x), 5) for x in frac],
            "cart": [round(float(x), 4) for x in structure.lattice.get_cartesian_coords(frac)],
            "energy": round(float(e), 5)}


def compute_bvse(structure: Structure, ion: str = "Li", resolution: float = _D.resolution,
                 cutoff: float = _D.cutoff, screening: float = _D.screening, d0_convention: str = _D.d0_convention,
                 energy_cap: float = _D.energy_cap, tune_screening: bool = _D.tune_screening,
                 covalent_radii: str = _D.covalent_radii, max_minima: int = 50,
                 with_paths: bool = True, grid: tuple | None = None) -> BVSEResult:
    """BVSE of mobile `ion` in `structure` (softBV force field).

    energy_cap: percolation is searched up to global minimum + energy_cap (eV); barriers above it are inf.
    d0_convention: "half" uses D0/2 in the Morse term (bvlain), "full" uses D0.
    tune_screening: pick f so the static softBV pressure is zero (recorded in screening_info).
    covalent_radii: "softbv" (softBV table) or "ase" (element radii, bvlain's default) in the Coulomb term.
    grid: explicit points per axis (overrides resolution), e.g. to match another tool's grid.
    """
    if not isinstance(structure, Structure):
        raise InputError(f"compute_bvse needs a pymatgen Structure, got {type(structure).__name__}")
    make_params(BVSEParams, {"resolution": resolution, "cutoff": cutoff, "screening": screening,
                             "energy_cap": energy_cap, "d0_convention": d0_convention,
                             "covalent_radii": covalent_radii}, label="compute_bvse")  # same limits as the CLI
    if grid is not None and (len(grid) != 3 or min(int(x) for x in grid) < 1):
        raise InputError(f"grid must be three positive integers, got {grid!r}")
    t0 = time.perf_counter()
    table = load_table()
    structure, ox_source = decorate(structure, ion)
    info = {}
    if tune_screening:
        from perovscreen.bvse.screening import tune_screening as _tune
        screening, info = _tune(structure, table, cutoff=cutoff, d0_convention=d0_convention)
    fw = build_framework(structure, ion, table, screening, d0_convention, covalent_radii)
    shape = tuple(int(x) for x in grid) if grid is not None else grid_shape(structure.lattice.matrix, resolution)
    t1 = time.perf_counter()
    energy = compute_energy(fw, structure.lattice.matrix, shape, cutoff)
    t2 = time.perf_counter()
    order = np.argsort(energy, axis=None, kind="stable")
    e_min = float(energy.flat[order[0]])
    saddle, wrap = percolation.thresholds(energy, order, e_min + energy_cap)
    t3 = time.perf_counter()
    n = np.array(shape, float)
    barriers, bottlenecks, paths = {}, [], []
    for d in range(3):
        if saddle[d] < 0:
            barriers[DIMS[d]] = math.inf
            continue
        idx = np.unravel_index(saddle[d], shape)
        e_s = float(energy[idx])
        barriers[DIMS[d]] = e_s - e_min
        wv = [int(x) for x in wrap[d]]
        bottlenecks.append({"dim": d + 1, **_point(structure, np.array(idx) / n, e_s - e_min), "wrap_vector": wv})
        if with_paths:
            vox, sh = percolation.loop_path(energy, saddle[d], e_s, wrap[:max(d, 1)].astype(np.int64), d)
            ijk = np.stack(np.unravel_index(vox, shape), axis=1)
            frac = ijk / n + sh
            paths.append({"dim": d + 1, "wrap_vector": [int(x) for x in (sh[-1] - sh[0])] if len(sh) else wv,
                          "frac": np.round(frac, 5).tolist(),
                          "energy": np.round(energy.ravel()[vox] - e_min, 5).tolist()})
    mins = percolation.local_minima(energy, e_min + energy_cap)
    mins = mins[np.argsort(energy.ravel()[mins], kind="stable")][:max_minima]
    minima = [_point(structure, np.array(np.unravel_index(m, shape)) / n, energy.flat[m] - e_min) for m in mins]
    t4 = time.perf_counter()
    lengths = np.linalg.norm(structure.lattice.matrix, axis=1)
    params = {"resolution": resolution, "cutoff": cutoff, "screening": float(screening),
              "d0_convention": d0_convention, "energy_cap": energy_cap, "tune_screening": tune_screening,
              "covalent_radii": covalent_radii}
    return BVSEResult(
        formula=structure.composition.reduced_formula, ion=fw.ion, barriers=barriers, e_min=e_min,
        grid_shape=tuple(int(x) for x in shape), spacing=[round(float(x), 5) for x in lengths / n],
        params=params, minima=minima, bottlenecks=bottlenecks, paths=paths, oxidation_source=ox_source,
        screening_info=info, warnings=list(fw.warnings),
        timings={"setup_s": round(t1 - t0, 4), "energy_s": round(t2 - t1, 4),
                 "percolation_s": round(t3 - t2, 4), "analysis_s": round(t4 - t3, 4)},
        energy=energy, structure=structure)
