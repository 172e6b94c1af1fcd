"""One entry point for descriptors, with a swappable cache keyed by structure hash.

compute_descriptors("Li3OCl")            -> composition descriptors (COMPOSITION_NAMES)
compute_descriptors(structure)           -> composition + structure descriptors (ALL_NAMES)
The cache is any object with get(key) -> dict | None and put(key, dict): MemoryCache, DiskCache, or
StoreCache(store) over the results store's get_cached/put_cached; open_cache(path) picks one from a path. Only the structure descriptors
(the expensive part, incl. BVSE) are cached; composition descriptors are recomputed (microseconds).
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from pymatgen.core import Structure

from perovscreen.core.paths import cache_dir
from perovscreen.core.errors import InputError
from perovscreen.features import composition, structure as struct_mod

DESCRIPTOR_VERSION = "1"
COMPOSITION_NAMES = composition.NAMES
STRUCTURE_NAMES = struct_mod.NAMES
ALL_NAMES = COMPOSITION_NAMES + STRUCTURE_NAMES


class MemoryCache(dict):
    def put(self, key: str, value: dict) -> None:
        self[key] = value


class DiskCache:
    """One JSON file per key under `directory` (default $PEROVSCREEN_CACHE/descriptors or
    ~/.cache/perovscreen/descriptors)."""

    def __init__(self, directory=None):
        self.directory = cache_dir("descriptors", directory)

    def get(self, key: str):
        f = self.directory / f"{key}.json"
        if not f.is_file():
            return None
        try:
            return json.loads(f.read_text())
        except (OSError, ValueError):
            return None

    def put(self, key: str, value: dict) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.directory / f".{key}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(value))
        tmp.replace(self.directory / f"{key}.json")


class StoreCache:
    """Cache adapter over a results store with get_cached(namespace, key) / put_cached(namespace, key, dict)
    (perovscreen.store SQLiteStore)."""

    def __init__(self, store, namespace: str = "descriptors"):
        if not (callable(getattr(store, "get_cached", None)) and callable(getattr(store, "put_cached", None))):
            raise InputError(f"StoreCache: {type(store).__name__} has no get_cached/put_cached methods")
        self.store, self.namespace = store, namespace

    def get(self, key: str):
        return self.store.get_cached(self.namespace, key)

    def put(self, key: str, value: dict) -> None:
        self.store.put_cached(self.namespace, key, value)


_STORES: dict = {}


def open_cache(spec):
    """A descriptor cache from a user-facing spec: None -> no cache; a results store file (.db, .sqlite,
    .sqlite3) -> StoreCache over its cache table (one connection per process); a directory -> DiskCache."""
    if not spec:
        return None
    if Path(spec).suffix in (".db", ".sqlite", ".sqlite3"):
        from perovscreen.store import open_store

        key = (os.getpid(), str(Path(spec).resolve()))
        if key not in _STORES:
            _STORES[key] = open_store(spec)
        return StoreCache(_STORES[key])
    return DiskCache(spec)


def structure_key(s: Structure, params: dict | None = None) -> str:
    """SHA-256 of the structure (lattice, species, occupancies, coordinates) + descriptor version/params."""
    payload = {"v": DESCRIPTOR_VERSION, "p": params or {},
               "lattice": [round(x, 6) for row in s.lattice.matrix for x in row],
               "sites": [[sorted((str(sp), round(a, 6)) for sp, a in site.species.items()),
                          [round(x, 6) for x in site.frac_coords]] for site in s]}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def formula_of(s: Structure) -> str:
    return " ".join(f"{el.symbol}{amt:.8g}" for el, amt in s.composition.element_composition.items())


def compute_descriptors(obj, cache=None, bvse: bool = True, bvse_resolution: float = 0.3) -> dict[str, float]:
    """Descriptors of a formula string or a pymatgen Structure (see module doc). NaN where undefined."""
    if isinstance(obj, str):
        return composition.composition_descriptors(obj)
    if not isinstance(obj, Structure):
        raise InputError(f"compute_descriptors: expected a formula or a pymatgen Structure, got {type(obj).__name__}")
    key = structure_key(obj, {"bvse": bvse, "res": bvse_resolution}) if cache is not None else None
    hit = cache.get(key) if key is not None else None
    if isinstance(hit, dict) and all(k in hit for k in STRUCTURE_NAMES):
        struct = {k: float(hit[k]) for k in STRUCTURE_NAMES}
    else:
        struct = struct_mod.structure_descriptors(obj, bvse=bvse, bvse_resolution=bvse_resolution)
        if key is not None:
            cache.put(key, struct)
    out = composition.composition_descriptors(formula_of(obj))
    out.update(struct)
    return out
