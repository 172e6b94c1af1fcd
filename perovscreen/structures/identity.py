"""Canonical identity of a crystal: the same crystal in any setting gets the same hash.

The fingerprint is the fractional composition, the volume per atom and, for every site species, the
multiset of neighbour species and distances within a cutoff, counted per site. All three
are invariant to origin shift, site order and supercells (a supercell repeats each environment).
Distances are binned at 0.01 A with an irrational offset so that round published values do not
sit on bin edges.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter

from pymatgen.core import Structure

_OFFSET = 0.3183098861837907  # 1/pi, keeps exact decimals away from bin edges


def fingerprint(structure: Structure, cutoff: float = 5.0) -> dict:
    comp = structure.composition
    counts: Counter = Counter()
    for site, nbrs in zip(structure, structure.get_all_neighbors(cutoff)):
        for nb in nbrs:
            counts[(site.species_string, nb.species_string, int(nb.nn_distance * 100 + _OFFSET))] += 1
    env = sorted((a, b, d, round(c / len(structure), 4)) for (a, b, d), c in counts.items())
    return {
        "composition": sorted((str(el), round(x, 5)) for el, x in comp.fractional_composition.items()),
        "volume_per_atom": int(structure.volume / comp.num_atoms * 10 + _OFFSET),
        "environments": env,
    }


def identity_hash(structure: Structure, cutoff: float = 5.0) -> str:
    """Hex SHA-256 (first 16 characters) of the canonical fingerprint."""
    blob = json.dumps(fingerprint(structure, cutoff), separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
