"""Endpoint checks before any energy is computed: same atoms in the same order and the same cell, and
under the minimum-image convention only the mover travels far. Bad endpoints are refused with one line.

Why: a band between endpoints that are not index-matched, or where an atom crosses the cell edge
(0.9998 -> 0.0002), interpolates through nonsense and a DFT band wastes hours on it
(pymatgen-analysis-diffusion #436, atst-tools #1)."""
from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.geometry import find_mic

from perovscreen.core.errors import InputError

MAX_OTHER = 1.5  # A: how far any atom but the mover may move between the endpoints


def as_atoms(x) -> Atoms:
    """An ASE Atoms from Atoms or a pymatgen Structure (ordered)."""
    if isinstance(x, Atoms):
        return x.copy()
    from pymatgen.core import Structure
    from pymatgen.io.ase import AseAtomsAdaptor

    if isinstance(x, Structure):
        if not x.is_ordered:
            raise InputError(f"{x.composition.reduced_formula}: NEB endpoints must be ordered structures")
        return AseAtomsAdaptor.get_atoms(x.remove_oxidation_states() if hasattr(x, "remove_oxidation_states") else x)
    raise InputError(f"an NEB endpoint must be an ASE Atoms or a pymatgen Structure, got {type(x).__name__}")


def _second_image(d: np.ndarray, atoms: Atoms) -> float:
    """Length of the second-shortest periodic image of displacement d (inf without periodic axes)."""
    shifts = np.array([(i, j, k) for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)], float)
    shifts *= np.asarray(atoms.pbc, float)
    shifts = np.unique(shifts, axis=0)  # non-periodic axes collapse onto the zero shift
    lengths = np.sort(np.linalg.norm(d + shifts @ np.asarray(atoms.cell), axis=1))
    return float(lengths[1]) if len(lengths) > 1 else float("inf")


def check_endpoints(start, end, max_other: float = MAX_OTHER) -> tuple[Atoms, Atoms, dict]:
    """(start, end aligned to start by minimum image, info {mover, hop_length, max_other}) or InputError.

    The end image is rewritten as start + minimum-image displacement, so an atom that wrapped across the
    cell boundary is interpolated the short way."""
    a, b = as_atoms(start), as_atoms(end)
    if len(a) != len(b):
        raise InputError(f"NEB endpoints differ in atom count: {len(a)} vs {len(b)}")
    sa, sb = a.get_chemical_symbols(), b.get_chemical_symbols()
    if sa != sb:
        i = next(k for k in range(len(sa)) if sa[k] != sb[k])
        raise InputError(f"NEB endpoints differ in species order at atom {i}: {sa[i]} vs {sb[i]}")
    if not np.array_equal(a.pbc, b.pbc) or not np.allclose(a.cell, b.cell, atol=1e-3):
        raise InputError("NEB endpoints have different cells (NEB images share one fixed cell)")
    d = b.positions - a.positions
    if a.pbc.any():
        d, _ = find_mic(d, a.cell, a.pbc)
    dist = np.linalg.norm(d, axis=1)
    mover = int(np.argmax(dist))
    others = np.delete(dist, mover)
    hop = float(dist[mover])
    if hop < 1e-3:
        raise InputError("NEB endpoints are identical: nothing moves")
    if others.size and others.max() > max_other:
        j = int(np.argsort(dist)[-2])
        raise InputError(f"NEB endpoints: atom {j} ({sa[j]}) moves {others.max():.2f} A besides the mover "
                         f"(atom {mover}, {hop:.2f} A); at most {max_other} A is allowed (not index-matched?)")
    if a.pbc.any():
        second = _second_image(d[mover], a)
        if second - hop < 0.05:
            raise InputError(f"NEB hop of {hop:.2f} A is ambiguous under periodic images (another image is "
                             f"{second:.2f} A away): use a larger supercell")
    b.positions = a.positions + d
    return a, b, {"mover": mover, "mover_symbol": sa[mover], "hop_length": round(hop, 4),
                  "max_other": round(float(others.max()) if others.size else 0.0, 4), "n_atoms": len(a)}
