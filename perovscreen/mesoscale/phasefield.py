"""Multi-order-parameter Allen-Cahn grain growth (Fan-Chen / Moelans) on periodic grids.

    d eta_i/dt = -L [ m (eta_i^3 - eta_i + 2 gamma eta_i sum_{j!=i} eta_j^2) - kappa lap eta_i ]

with the physical GB energy sigma_gb and mobility M_gb mapped as in MOOSE's GBEvolution
(gamma = 1.5, kappa = 3/4 sigma w, m = 6 sigma / w, L = 4/3 M / w, w the interface width), so a
boundary of curvature K moves at v = M sigma K (a circle: dA/dt = -2 pi M sigma). Time stepping is
semi-implicit spectral: the Laplacian and a stabilising linear term S eta are implicit, the rest
explicit. Grain tracking: p order parameters carry many grains (a grain's colour differs from its
neighbours' and their neighbours'); every few steps two grains of one colour that come within a
buffer are separated by moving the smaller one to a colour absent around it (MOOSE GrainTracker).
Lengths in voxels x dx, times in the units of 1 / (M sigma / dx^2).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.fft as sfft
from scipy import ndimage

from perovscreen.core.errors import InputError
from perovscreen.mesoscale.microstructure import Microstructure, check_grid, color_grains, periodic_voronoi
from perovscreen.mesoscale.tensors import check_positive, random_orientations

GAMMA = 1.5


@dataclass(frozen=True)
class GrowthParams:
    sigma_gb: float = 1.0   # GB energy
    mobility: float = 1.0   # GB mobility M
    width: float = 4.0      # diffuse-interface width (voxels x dx)
    dx: float = 1.0
    dt: float = 0.2
    stabilise: float = 0.0  # S in units of m (S > 0 damps large steps but slows the dynamics ~ dt S)
    remap_every: int = 10
    buffer: int = 6         # voxels: closer same-colour grains get remapped

    def coefficients(self):
        s, M, w = (check_positive(getattr(self, n), n) for n in ("sigma_gb", "mobility", "width"))
        check_positive(self.dt, "dt")
        check_positive(self.dx, "dx")
        return 4.0 / 3.0 * M / w, 0.75 * s * w, 6.0 * s / w  # L, kappa, m


@dataclass
class GrowthHistory:
    times: list = field(default_factory=list)
    n_grains: list = field(default_factory=list)
    mean_diameter: list = field(default_factory=list)
    remaps: int = 0


class GrainGrowth:
    """State: eta (p, *grid) and the grain colours; `step(n)` advances, `microstructure()` reads it."""

    def __init__(self, eta: np.ndarray, params: GrowthParams = GrowthParams(), orientations=None):
        self.eta = np.asarray(eta, dtype=np.float64)
        self.p = self.eta.shape[0]
        self.dim = self.eta.ndim - 1
        self.shape = self.eta.shape[1:]
        self.params = params
        self.L, self.kappa, self.m = params.coefficients()
        self.time = 0.0
        self.steps = 0
        self.history = GrowthHistory()
        ks = [2 * np.pi * (sfft.rfftfreq(n) if ax == self.dim - 1 else sfft.fftfreq(n)) / params.dx
              for ax, n in enumerate(self.shape)]
        k2 = 0.0
        for ax, k in enumerate(ks):
            sh = [1] * self.dim
            sh[ax] = len(k)
            k2 = k2 + (k ** 2).reshape(sh)
        self.S = params.stabilise * self.m
        self.denom = 1.0 + params.dt * self.L * (self.kappa * k2 + self.S)
        self._grains = None
        self._orient = {} if orientations is None else dict(orientations)
        self._seed = 0

    # ---- dynamics ---------------------------------------------------------------------------------
    def step(self, n: int = 1) -> None:
        dt, L, m = self.params.dt, self.L, self.m
        for _ in range(n):
            sq = self.eta ** 2
            tot = sq.sum(0)
            for i in range(self.p):
                e = self.eta[i]
                nl = m * (e ** 3 - e + 2 * GAMMA * e * (tot - sq[i])) - self.S * e
                rhs = sfft.rfftn(e - dt * L * nl)
                self.eta[i] = sfft.irfftn(rhs / self.denom, s=self.shape)
            self.time += dt
            self.steps += 1
            if self.params.remap_every and self.steps % self.params.remap_every == 0:
                self.remap()

    def run(self, t_end: float, every: float | None = None, callback=None) -> None:
        """Advance to time t_end, recording grain counts (and calling callback(self)) every `every`."""
        every = every or t_end
        nxt = self.time + every
        while self.time < t_end - 1e-12:
            self.step(1)
            if self.time >= nxt - 1e-12:
                self.record()
                if callback:
                    callback(self)
                nxt += every

    def record(self) -> None:
        st = self.microstructure(gb_width=0).stats()
        h = self.history
        h.times.append(self.time)
        h.n_grains.append(st.n_grains)
        h.mean_diameter.append(st.mean_diameter * self.params.dx)

    # ---- grains -----------------------------------------------------------------------------------
    def labels(self):
        """(grain map, colour of each grain): connected regions of the dominant order parameter."""
        dom = np.argmax(self.eta, 0)
        grains = -np.ones(self.shape, np.int64)
        colors = []
        nxt = 0
        for c in range(self.p):
            lab, n = periodic_label(dom == c)
            if n:
                grains[lab > 0] = lab[lab > 0] - 1 + nxt
                colors += [c] * n
                nxt += n
        return grains, np.array(colors, np.int32)

    def remap(self) -> int:
        """Move grains that approach a same-colour grain to a free colour; returns how many moved."""
        grains, colors = self.labels()
        moved = 0
        buf = self.params.buffer
        struct = ndimage.generate_binary_structure(self.dim, 1)
        for c in range(self.p):
            ids = np.flatnonzero(colors == c)
            if len(ids) < 2:
                continue
            region = np.isin(grains, ids)
            grown = _periodic_dilate(region, buf, struct)
            lab, n = periodic_label(grown)
            if n == len(ids):
                continue
            # a dilated cluster holding several grains: keep the largest, move the others
            sizes = np.bincount(grains[region], minlength=grains.max() + 1)
            cl = lab[region]
            g = grains[region]
            for k in range(1, n + 1):
                members = np.unique(g[cl == k])
                if len(members) < 2:
                    continue
                for gid in sorted(members, key=lambda x: -sizes[x])[1:]:
                    if self._move(grains, gid, c, buf, struct):
                        moved += 1
        self.history.remaps += moved
        return moved

    def _move(self, grains, gid, c, buf, struct) -> bool:
        own = grains == gid
        near = _periodic_dilate(own, buf + int(math.ceil(self.params.width)), struct)
        dom = np.argmax(self.eta, 0)
        busy = set(np.unique(dom[near & ~own]).tolist()) | {c}
        free = [k for k in range(self.p) if k not in busy]
        if not free:
            return False
        k = free[0]
        carry = _periodic_dilate(own, int(math.ceil(self.params.width)) + 1, struct) & (dom != k)
        self.eta[k][carry] = np.maximum(self.eta[k][carry], self.eta[c][carry])
        self.eta[c][carry] = 0.0
        return True

    def microstructure(self, gb_width: float = 0.0) -> Microstructure:
        grains, colors = self.labels()
        n = len(colors)
        orient = random_orientations(n, self.dim, seed=12345)
        gb = normals = None
        if gb_width:
            from perovscreen.mesoscale.microstructure import grain_boundaries

            gb, normals = grain_boundaries(grains.astype(np.int32), colors, gb_width)
        return Microstructure(grains.astype(np.int32), orient, colors, gb, normals, float(gb_width),
                              {"source": "phase-field", "time": self.time, "steps": self.steps,
                               "order_parameters": self.p})


def periodic_label(mask: np.ndarray):
    """Face-connected components of a periodic boolean grid: (labels 1..n, n)."""
    lab, n = ndimage.label(mask)
    if n == 0:
        return lab, 0
    parent = np.arange(n + 1)

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a
    for ax in range(mask.ndim):
        a = np.take(lab, 0, ax).ravel()
        b = np.take(lab, -1, ax).ravel()
        for x, y in set(zip(a[(a > 0) & (b > 0)].tolist(), b[(a > 0) & (b > 0)].tolist())):
            rx, ry = find(x), find(y)
            if rx != ry:
                parent[max(rx, ry)] = min(rx, ry)
    roots = np.array([find(i) for i in range(n + 1)])
    uniq, new = np.unique(roots, return_inverse=True)
    return new[lab], len(uniq) - 1


def _periodic_dilate(mask, r: int, struct):
    if r <= 0:
        return mask.copy()
    p = np.pad(mask, r, mode="wrap")
    d = ndimage.binary_dilation(p, struct, iterations=r)
    return d[tuple(slice(r, r + n) for n in mask.shape)]


def from_microstructure(micro: Microstructure, params: GrowthParams = GrowthParams(),
                        n_order: int | None = None) -> GrainGrowth:
    """Sharp initial order parameters from a grain map; colours recomputed with the growth palette."""
    colors = micro.colors if n_order is None else color_grains(micro.grains, n_order)
    p = int(colors.max()) + 1 if n_order is None else n_order
    eta = np.zeros((p,) + micro.shape)
    cmap = colors[micro.grains]
    for c in range(p):
        eta[c] = cmap == c
    return GrainGrowth(eta, params)


def voronoi_growth(shape, n_grains: int, seed: int = 0, n_order: int = 8,
                   params: GrowthParams = GrowthParams()) -> GrainGrowth:
    """A seeded periodic Voronoi start carried by n_order order parameters."""
    dim = len(shape)
    shape = check_grid(tuple(shape), dim)
    if n_order < 3:
        raise InputError(f"order parameters: need at least 3, got {n_order}")
    micro = periodic_voronoi(shape, n_grains, seed)
    return from_microstructure(micro, params, n_order)


def circle(n: int, radius: float, params: GrowthParams = GrowthParams()) -> GrainGrowth:
    """One circular grain of `radius` (in units of dx) in a matrix grain: the dA/dt = -2 pi M sigma test."""
    x = (np.arange(n) - n / 2 + 0.5) * params.dx
    r = np.hypot(x[:, None], x[None, :])
    prof = 0.5 * (1 - np.tanh((r - radius) / (params.width / 2)))
    return GrainGrowth(np.stack([prof, 1 - prof]), params)
