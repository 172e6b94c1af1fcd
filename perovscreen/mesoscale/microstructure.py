"""Polycrystal microstructures on periodic voxel grids: grain map, orientations, grain boundaries.

A `Microstructure` is what the conductivity solvers and the phase-field model exchange: an integer
grain map (one id per voxel), one orientation per grain, an order-parameter colour per grain (adjacent
grains never share one, so a few order parameters carry many grains), and, once a GB width is chosen,
the GB voxels and their unit normals.

GB voxels: width w = 0 none; 0 < w < 2 the voxels on one side of every grain-grain face (one voxel
thick, and every path between two grains crosses it); w >= 2 the voxels within (w - 2)/2 of the
two-sided boundary layer. Normals: minus the gradient of the Gaussian-smoothed indicator of the voxel's
own colour (a smooth estimate of the interface normal, free of voxel staircase directions).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from perovscreen.core.errors import InputError
from perovscreen.core.results import Result
from perovscreen.mesoscale.tensors import random_orientations

MAX_VOXELS = 512 ** 3


def check_grid(size, dim: int) -> tuple:
    """A grid shape from a side or a tuple; one-line InputError for impossible grids."""
    if dim not in (2, 3):
        raise InputError(f"dimension must be 2 or 3, got {dim!r}")
    shape = (size,) * dim if isinstance(size, (int, np.integer)) else tuple(size)
    if len(shape) != dim or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in shape):
        raise InputError(f"grid {size!r}: expected {dim} integer sides")
    if min(shape) < 4:
        raise InputError(f"grid {'x'.join(map(str, shape))}: every side needs at least 4 voxels")
    if math.prod(shape) > MAX_VOXELS:
        raise InputError(f"grid {'x'.join(map(str, shape))}: more than {MAX_VOXELS} voxels")
    return tuple(int(n) for n in shape)


@dataclass
class GrainStats(Result):
    """Grain-size statistics (lengths in voxels: equivalent-circle/sphere diameters)."""

    TYPE = "MesoGrainStats"

    n_grains: int
    mean_diameter: float
    std_diameter: float
    median_diameter: float
    gb_fraction: float
    diameters: list = field(default_factory=list)


@dataclass
class Microstructure:
    grains: np.ndarray                 # int32 grid of grain ids 0..n-1
    orientations: np.ndarray           # angles (n,) in 2D, matrices (n, 3, 3) in 3D
    colors: np.ndarray                 # order-parameter index of each grain
    gb: np.ndarray | None = None       # bool grid: GB voxels
    normals: np.ndarray | None = None  # (d, *grid) float32 unit GB normals (zero off the GB)
    gb_width: float = 0.0
    meta: dict = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return self.grains.ndim

    @property
    def shape(self) -> tuple:
        return self.grains.shape

    @property
    def n_grains(self) -> int:
        return int(self.grains.max()) + 1

    def with_gb(self, width: float, smoothing: float = 1.5) -> "Microstructure":
        gb, normals = grain_boundaries(self.grains, self.colors, width, smoothing)
        return Microstructure(self.grains, self.orientations, self.colors, gb, normals, float(width), dict(self.meta))

    def stats(self) -> GrainStats:
        counts = np.bincount(self.grains.ravel(), minlength=self.n_grains)
        counts = counts[counts > 0].astype(float)
        d = 2 * np.sqrt(counts / math.pi) if self.dim == 2 else 2 * np.cbrt(3 * counts / (4 * math.pi))
        gbf = float(self.gb.mean()) if self.gb is not None else 0.0
        return GrainStats(len(counts), float(d.mean()), float(d.std()), float(np.median(d)), gbf,
                          [round(float(x), 3) for x in d])

    def save(self, path) -> None:
        arrays = {"grains": self.grains, "orientations": self.orientations, "colors": self.colors,
                  "meta": np.array(json.dumps({**self.meta, "gb_width": self.gb_width}))}
        if self.gb is not None:
            arrays["gb"] = self.gb
            arrays["normals"] = self.normals
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path) -> "Microstructure":
        try:
            z = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise InputError(f"{path}: not a microstructure file ({exc})") from None
        with z:
            if "grains" not in z:
                raise InputError(f"{path}: not a microstructure file (no grain map)")
            meta = json.loads(str(z["meta"])) if "meta" in z else {}
            w = float(meta.pop("gb_width", 0.0))
            return cls(z["grains"].astype(np.int32), z["orientations"], z["colors"],
                       z["gb"] if "gb" in z else None, z["normals"] if "normals" in z else None, w, meta)


def periodic_voronoi(shape, n_grains: int, seed: int = 0, n_colors: int | None = None) -> Microstructure:
    """Periodic Voronoi tessellation of n_grains uniform random seeds with random orientations."""
    dim = len(shape)
    shape = check_grid(tuple(shape), dim)
    if not isinstance(n_grains, (int, np.integer)) or n_grains < 1 or n_grains > math.prod(shape) // 8:
        raise InputError(f"grains: need 1 <= n <= voxels/8 = {math.prod(shape) // 8}, got {n_grains!r}")
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    seeds = rng.uniform(0, 1, (n_grains, dim)) * np.array(shape)
    tree = cKDTree(seeds, boxsize=np.array(shape, float))
    grains = np.empty(shape, np.int32)
    # query slab by slab: bounded memory for 256^3 and beyond
    axes = [np.arange(n) + 0.5 for n in shape[1:]]
    rest = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, dim - 1)
    for i in range(shape[0]):
        pts = np.column_stack([np.full(len(rest), i + 0.5), rest])
        grains[i] = tree.query(pts, workers=-1)[1].reshape(shape[1:])
    grains = relabel(grains)
    n = int(grains.max()) + 1
    colors = color_grains(grains, n_colors)
    return Microstructure(grains, random_orientations(n, dim, seed + 1), colors,
                          meta={"source": "voronoi", "seed": seed, "requested_grains": n_grains})


def relabel(grains: np.ndarray) -> np.ndarray:
    """Ids 0..n-1 of the grains present (a seed can own no voxel at coarse resolution)."""
    ids, inv = np.unique(grains, return_inverse=True)
    return inv.reshape(grains.shape).astype(np.int32)


def adjacency(grains: np.ndarray) -> set:
    """Pairs (a, b), a < b, of grains sharing a voxel face (periodic)."""
    pairs = set()
    for j in range(grains.ndim):
        nb = np.roll(grains, -1, j)
        m = nb != grains
        a, b = grains[m], nb[m]
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        pairs.update(set(np.unique(lo.astype(np.int64) * (1 << 31) + hi).tolist()))
    return {(p >> 31, p & ((1 << 31) - 1)) for p in pairs}


def color_grains(grains: np.ndarray, n_colors: int | None = None, reach: int = 2) -> np.ndarray:
    """Greedy colouring of the grain graph (neighbours and neighbours of neighbours when reach=2, so two
    grains of one colour stay apart while they grow); n_colors caps the palette by reusing the
    least-used colour (legal for the first-neighbour graph as long as the cap exceeds its degree)."""
    n = int(grains.max()) + 1
    nbrs = [set() for _ in range(n)]
    for a, b in adjacency(grains):
        nbrs[a].add(b)
        nbrs[b].add(a)
    far = nbrs if reach < 2 else [set().union(nbrs[g], *(nbrs[h] for h in nbrs[g])) - {g} for g in range(n)]
    colors = -np.ones(n, np.int32)
    for g in sorted(range(n), key=lambda g: -len(far[g])):
        near = {int(colors[h]) for h in nbrs[g] if colors[h] >= 0}
        taken = {int(colors[h]) for h in far[g] if colors[h] >= 0}
        free = [c for c in range(n_colors or n) if c not in taken]
        if not free:  # palette exhausted: any colour not used by a first neighbour
            free = [c for c in range(n_colors) if c not in near] or [0]
        colors[g] = free[0]
    return colors


def _periodic_edt(mask: np.ndarray, pad: int) -> np.ndarray:
    """Distance of every voxel to the nearest True voxel of mask, periodic within `pad` voxels."""
    p = np.pad(~mask, pad, mode="wrap")
    d = ndimage.distance_transform_edt(p)
    return d[tuple(slice(pad, pad + n) for n in mask.shape)]


def grain_boundaries(grains: np.ndarray, colors: np.ndarray, width: float, smoothing: float = 1.5):
    """(gb mask, normals) for GB width `width` in voxels (see module doc); (None, None) for width 0."""
    if not math.isfinite(width) or width < 0:
        raise InputError(f"GB width must be >= 0 voxels, got {width!r}")
    if width == 0:
        return None, None
    if width > min(grains.shape) / 4:
        raise InputError(f"GB width {width} voxels is more than a quarter of the grid side {min(grains.shape)}")
    one = np.zeros(grains.shape, bool)
    two = np.zeros(grains.shape, bool)
    for j in range(grains.ndim):
        diff = np.roll(grains, -1, j) != grains
        one |= diff
        two |= diff | np.roll(diff, 1, j)
    if width < 2:
        gb = one
    elif width == 2:
        gb = two
    else:
        r = (width - 2) / 2
        gb = _periodic_edt(two, int(math.ceil(r)) + 2) <= r
    return gb, gb_normals(grains, colors, gb, smoothing)


def gb_normals(grains: np.ndarray, colors: np.ndarray, gb: np.ndarray, smoothing: float = 1.5) -> np.ndarray:
    dim = grains.ndim
    cmap = colors[grains]
    normals = np.zeros((dim,) + grains.shape, np.float32)
    for c in np.unique(cmap[gb]):
        sel = gb & (cmap == c)
        s = ndimage.gaussian_filter((cmap == c).astype(np.float32), smoothing, mode="wrap")
        for j in range(dim):
            g = 0.5 * (np.roll(s, -1, j) - np.roll(s, 1, j))
            normals[j][sel] = -g[sel]
    norm = np.sqrt((normals ** 2).sum(0))
    ok = norm > 1e-12
    normals[:, ok] /= norm[ok]
    normals[0][gb & ~ok] = 1.0  # flat smoothed indicator (isolated voxel): any direction
    return normals
