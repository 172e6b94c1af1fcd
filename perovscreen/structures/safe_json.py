"""pymatgen JSON read as data: monty's decoder imports whatever `@module` a dict names, so every
`@module`/`@class` in the file is checked against an allow-list of pymatgen data classes first."""
from __future__ import annotations

import json
from pathlib import Path

from perovscreen.core.errors import InputError


def structure_classes() -> dict[str, set]:
    """{module: {class names}} of the pymatgen classes a structure file may name."""
    from pymatgen.core import Composition, DummySpecies, Element, IStructure, Lattice, PeriodicSite, Site, Species
    from pymatgen.core import Structure

    allowed: dict[str, set] = {}
    for c in (Structure, IStructure, Lattice, PeriodicSite, Site, Composition, Element, Species, DummySpecies):
        allowed.setdefault(c.__module__, set()).add(c.__name__)
    return allowed


def check_classes(obj, allowed: dict[str, set], where: str) -> None:
    """Raise InputError if any dict in `obj` (at any depth) names a class outside `allowed` or a callable."""
    if isinstance(obj, dict):
        if any(k in obj for k in ("@module", "@class", "@callable")):
            mod, name = obj.get("@module"), obj.get("@class", obj.get("@callable"))
            if "@callable" in obj or name not in allowed.get(mod, ()):
                raise InputError(f"{where} names {mod}.{name}, not a pymatgen data class; refusing to import it")
        for v in obj.values():
            check_classes(v, allowed, where)
    elif isinstance(obj, list):
        for v in obj:
            check_classes(v, allowed, where)


def read_json(path: str | Path):
    p = Path(path)
    try:
        return json.loads(p.read_text())
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{p}: not valid JSON ({exc})") from None


def load_structure_json(path: str | Path):
    """A pymatgen Structure from its JSON (`Structure.as_dict()`), checked before pymatgen decodes it."""
    from pymatgen.core import Structure

    data = read_json(path)
    if not isinstance(data, dict) or "lattice" not in data or "sites" not in data:
        raise InputError(f"{path}: not a pymatgen structure JSON (needs 'lattice' and 'sites')")
    check_classes(data, structure_classes(), str(path))
    try:
        return Structure.from_dict(data)
    except Exception as exc:  # missing keys, bad values
        raise InputError(f"{path}: not a valid structure ({type(exc).__name__}: {exc})") from None
