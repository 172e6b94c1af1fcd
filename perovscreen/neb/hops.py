"""Li hops of a structure and their NEB endpoints.

Symmetry-distinct hops come from pymatgen-analysis-diffusion's `DistinctPathFinder` (up to the shortest
length at which the hops percolate, unless a length is given). Endpoint supercells are diagonal, every
perpendicular width >= min_length and at least 2x the hop along each axis (so the minimum image of the
hop is the hop itself): vacancy mode removes the Li at the end site and moves the one at the start site
there; interstitial mode puts one Li into the Li-free host (the dilute limit, as pymatgen-analysis-
diffusion's `MigrationHop.get_sc_structures(vac_mode=False)` builds it). The atom order is the same in
both endpoints by construction. Each hop is also located on the BVSE landscape of the same cell: the
straight-line BVSE barrier along it, and whether it passes a BVSE percolation bottleneck."""
from __future__ import annotations

import math

import numpy as np
from pymatgen.core import Structure

from perovscreen.core.errors import InputError
from perovscreen.structures.ordering import scaling_for

BOTTLENECK_TOL = 1.0  # A: a hop "passes" a BVSE bottleneck within this distance of its straight line


def _plain(structure: Structure) -> Structure:
    s = structure.copy()
    s.remove_oxidation_states()
    return s


def distinct_hops(structure: Structure, ion: str = "Li", max_length: float = 0.0, symprec: float = 0.1,
                  max_hops: int = 0) -> tuple[list, bool]:
    """(MigrationHop list, shortest first, complete): complete is False when max_hops cut the list."""
    from pymatgen.analysis.diffusion.neb.pathfinder import DistinctPathFinder

    s = _plain(structure)
    if not s.is_ordered:
        raise InputError(f"{s.composition.reduced_formula}: hops need an ordered structure")
    if not any(sp.symbol == ion for sp in s.composition.elements):
        raise InputError(f"{s.composition.reduced_formula} contains no {ion}")
    try:
        hops = DistinctPathFinder(s, ion, max_path_length=max_length or None, symprec=symprec).get_paths()
    except (ValueError, RuntimeError) as exc:
        raise InputError(f"{s.composition.reduced_formula}: no {ion} hops found ({exc})") from None
    if not hops:
        raise InputError(f"{s.composition.reduced_formula}: no {ion} hops found")
    hops = sorted(hops, key=lambda h: h.length)
    complete = not max_hops or len(hops) <= max_hops
    return (hops if complete else hops[:max_hops]), complete


def hop_scaling(structure: Structure, hop, min_length: float) -> list[int]:
    """Diagonal supercell: widths >= min_length and |hop| < half the cell along each axis."""
    df = np.abs(hop.esite.frac_coords - hop.isite.frac_coords)
    return [max(n, int(math.floor(2 * x + 1e-6)) + 1) for n, x in zip(scaling_for(structure, min_length), df)]


def _index(sc: Structure, frac, ion: str) -> int:
    d = sc.lattice.get_all_distances(np.asarray(frac)[None, :], sc.frac_coords)[0]
    i = int(np.argmin(d))
    if d[i] > 0.05 or sc[i].specie.symbol != ion:
        raise InputError(f"hop site {np.round(frac, 4).tolist()} is not a {ion} site of the supercell")
    return i


def hop_endpoints(structure: Structure, hop, mode: str = "vacancy", min_length: float = 10.0,
                  ion: str = "Li") -> tuple[Structure, Structure, dict]:
    """(start, end, description) supercells for one hop."""
    s = _plain(structure)
    scale = hop_scaling(s, hop, min_length)
    fi = hop.isite.frac_coords / scale
    fe = hop.esite.frac_coords / scale
    if mode == "vacancy":
        sc = s * scale
        i, j = _index(sc, fi, ion), _index(sc, fe % 1.0, ion)
        start = sc.copy()
        start.remove_sites([j])
        end = start.copy()
        k = i - (j < i)
        end.replace(k, ion, coords=sc[i].frac_coords + (fe - fi), coords_are_cartesian=False)
    elif mode == "interstitial":
        host = s.copy()
        host.remove_species([ion])
        if len(host) == 0:
            raise InputError(f"{s.composition.reduced_formula}: no host left without {ion}")
        host = host * scale
        start, end = host.copy(), host.copy()
        start.append(ion, fi)
        end.append(ion, fe)
    else:
        raise InputError(f"mode must be vacancy or interstitial, got {mode!r}")
    info = {"mode": mode, "supercell": [int(x) for x in scale], "length": round(float(hop.length), 4),
            "isite": np.round(hop.isite.frac_coords, 5).tolist(), "esite": np.round(hop.esite.frac_coords, 5).tolist()}
    return start, end, info


def _equivalent_points(structure: Structure, fracs) -> np.ndarray:
    """Every symmetry image of the given fractional points (BVSE reports one bottleneck per dimension)."""
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    if not len(fracs):
        return np.zeros((0, 3))
    ops = SpacegroupAnalyzer(_plain(structure), symprec=0.1).get_symmetry_operations()
    pts = np.array([op.operate(f) for op in ops for f in fracs]) % 1.0
    return np.unique(np.round(pts, 4) % 1.0, axis=0)


def bvse_map(structure: Structure, hops, ion: str = "Li") -> tuple[dict, list[dict]]:
    """BVSE barriers {E1D, E2D, E3D} of the cell and, per hop, {bvse_line_barrier, on_bvse_path}: the
    highest site energy on the straight hop above its start, and whether a percolation bottleneck lies
    within BOTTLENECK_TOL of it."""
    from scipy.ndimage import map_coordinates

    from perovscreen.bvse.core import compute_bvse

    res = compute_bvse(structure, ion=ion, with_paths=False)
    grid = res.energy - res.e_min
    shape = np.array(grid.shape)
    necks = _equivalent_points(structure, [b["frac"] for b in res.bottlenecks])
    out = []
    for h in hops:
        pts = np.linspace(h.isite.frac_coords, h.esite.frac_coords, 61)
        e = map_coordinates(grid, (pts * shape).T, order=1, mode="grid-wrap")
        near = bool(len(necks)) and float(structure.lattice.get_all_distances(pts, necks).min()) < BOTTLENECK_TOL
        out.append({"bvse_line_barrier": round(float(e.max() - e[0]), 4), "on_bvse_path": near})
    barriers = {k: (round(v, 4) if math.isfinite(v) else None) for k, v in res.barriers.items()}
    return barriers, out
