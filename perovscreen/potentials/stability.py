"""Energy above the convex hull from a universal potential (pymatgen PhaseDiagram).

The candidate and its competing phases are relaxed with the same potential, so systematic errors of the
potential largely cancel. Competing phases come from the shipped reference set (references.py, relaxed once
per potential and cached on disk) and/or a user's ComputedEntry JSON (e.g. exported from Materials Project):
entries that carry a structure (ComputedStructureEntry) are re-relaxed with the potential; bare ComputedEntry
energies are used as given (only meaningful if they come from the same potential).
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from monty.json import MontyEncoder
from pymatgen.analysis.phase_diagram import PhaseDiagram
from pymatgen.core import Structure
from pymatgen.entries.computed_entries import ComputedEntry, ComputedStructureEntry

from perovscreen.core.paths import cache_dir as _cache_dir
from perovscreen.core.errors import InputError
from perovscreen.core.results import Result
from perovscreen.structures.safe_json import check_classes, read_json, structure_classes
from perovscreen.potentials.calculators import get_calculator
from perovscreen.potentials.references import MOLECULES, references_for
from perovscreen.potentials.tasks import plain_ordered, relax


def cache_dir(path: str | os.PathLike | None = None) -> Path:
    """Reference cache: ``path``, else <cache root>/references."""
    return _cache_dir("references", path)


@dataclass
class StabilityResult(Result):
    TYPE = "StabilityResult"

    formula: str
    energy_per_atom: float  # eV/atom, potential's total energy of the (relaxed) candidate
    e_above_hull: float  # eV/atom, >= 0
    hull_distance: float  # eV/atom, signed: < 0 means below the hull of the references alone
    formation_energy_per_atom: float  # eV/atom vs the elemental references
    decomposition: dict  # reduced formula -> fraction of the decomposition products (atoms)
    backend: str
    n_references: int
    stand_ins: list = field(default_factory=list)
    relaxed: bool = True
    ordering: dict | None = None  # report of the ordered approximant a disordered input was evaluated on


def _tag(calculator, kw: dict) -> str | None:
    """Cache key of a potential; None (no caching) for a user-passed calculator object."""
    if not isinstance(calculator, str):
        return None
    key = json.dumps({"name": calculator.lower(), **{k: str(v) for k, v in sorted(kw.items()) if k != "device"}})
    return f"{calculator.lower()}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"


def _relaxed_entry(name: str, structure: Structure, calculator, kw, fmax, steps, cache: Path | None,
                   meta: dict) -> ComputedStructureEntry:
    f = cache / f"{name}.json" if cache else None
    start = hashlib.sha256(json.dumps(structure.as_dict(), sort_keys=True, cls=MontyEncoder).encode()).hexdigest()
    if f and f.is_file():
        d = json.loads(f.read_text())
        if (d.get("start") == start and d.get("fmax", 1e9) <= fmax
                and (d["entry"]["data"].get("converged") or d.get("steps", 0) >= steps)):
            return ComputedStructureEntry.from_dict(d["entry"])
    molecule = name.endswith("-molecule")
    r = relax(structure, calculator, fmax=fmax, steps=steps, relax_cell=not molecule, **kw)
    entry = ComputedStructureEntry(r.structure, r.final_energy, entry_id=name,
                                   data={**meta, "converged": r.converged, "steps": r.steps})
    if f:
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps({"fmax": fmax, "steps": steps, "start": start, "entry": entry.as_dict()},
                                cls=MontyEncoder))
    return entry


def relaxed_entries(named, calculator="chgnet", fmax: float = 0.05, steps: int = 300,
                    cache: str | os.PathLike | None = None, **kw) -> list[ComputedStructureEntry]:
    """(name, structure, citation) triples relaxed with the potential (cached per potential after the first
    time)."""
    tag = _tag(calculator, kw)
    folder = cache_dir(cache) / tag if tag else None
    return [_relaxed_entry(name, s, calculator, kw, fmax, steps, folder, {"citation": cite})
            for name, s, cite in named]


def reference_entries(elements, calculator="chgnet", fmax: float = 0.05, steps: int = 300,
                      cache: str | os.PathLike | None = None, **kw) -> list[ComputedStructureEntry]:
    """Shipped references within ``elements``, relaxed with the potential (cached after the first time)."""
    return relaxed_entries(references_for(elements), calculator, fmax, steps, cache, **kw)


def require_elements(elements, entries, advice: str = "") -> None:
    """InputError unless every element has an elemental entry (the phase diagram's zero of energy)."""
    missing = sorted(el for el in elements if not any(
        e.composition.is_element and e.composition.elements[0].symbol == el for e in entries))
    if missing:
        raise InputError(f"no elemental reference for {', '.join(missing)}{advice}")


def candidate_entry(structure: Structure, calc, relax_candidate: bool = True, fmax: float = 0.05,
                    steps: int = 300) -> ComputedStructureEntry:
    """The candidate's entry: relaxed with `calc`, or a single point as given."""
    if relax_candidate:
        r = relax(structure, calc, fmax=fmax, steps=steps)
        return ComputedStructureEntry(r.structure, r.final_energy, entry_id="candidate")
    from perovscreen.potentials.tasks import single_point

    return ComputedStructureEntry(structure, single_point(structure, calc).energy, entry_id="candidate")


def _warm_one(task: tuple) -> str:
    name, structure, cite, calculator, kw, fmax, steps, folder = task
    _relaxed_entry(name, structure, calculator, kw, fmax, steps, folder, {"citation": cite})
    return name


def warm_references(elements, calculator: str = "chgnet", fmax: float = 0.05, steps: int = 300,
                    cache: str | os.PathLike | None = None, executor=None, **kw) -> list[str]:
    """Relax (in parallel through `executor`) and cache every reference within ``elements``.

    Later `reference_entries` calls, in any process, read the cache instead of relaxing again.
    """
    from perovscreen.jobs.executors import SerialExecutor

    tag = _tag(calculator, kw)
    if tag is None:
        return []
    folder = cache_dir(cache) / tag
    tasks = [(name, s, cite, calculator, kw, fmax, steps, folder) for name, s, cite in references_for(elements)]
    done = []
    for tr in (executor or SerialExecutor()).map_unordered(_warm_one, tasks):
        if tr.ok:
            done.append(tr.value)
    return done


def load_entries(path: str | os.PathLike) -> list[ComputedEntry]:
    """A JSON list of pymatgen ComputedEntry / ComputedStructureEntry dicts (e.g. an MP export).

    Read as data: plain JSON, every ``@module``/``@class`` checked against the allowed pymatgen classes before
    pymatgen's ``from_dict`` sees it; anything else is an ``InputError`` naming the file."""
    from pymatgen.entries import computed_entries as ce

    # pymatgen's from_dict decodes nested dicts with MontyDecoder, which imports whatever @module a dict names:
    # every reference is checked first. Names come from the classes (pymatgen.core.entries now) plus the
    # legacy pymatgen.entries.computed_entries.
    entry_classes = [ComputedEntry, ComputedStructureEntry, ce.EnergyAdjustment, ce.ConstantEnergyAdjustment,
                     ce.ManualEnergyAdjustment, ce.CompositionEnergyAdjustment, ce.TemperatureEnergyAdjustment]
    allowed = structure_classes()
    allowed.setdefault("pymatgen.entries.computed_entries", set()).update(c.__name__ for c in entry_classes)
    for c in entry_classes:
        allowed.setdefault(c.__module__, set()).add(c.__name__)
    p = Path(path)
    if not p.is_file():
        raise InputError(f"entries file not found: {p}")
    data = read_json(p)
    data = data if isinstance(data, list) else [data]
    out = []
    for i, d in enumerate(data):
        if not isinstance(d, dict):
            raise InputError(f"{p}: entry {i} is a {type(d).__name__}, expected a ComputedEntry dict")
        check_classes(d, allowed, f"{p}: entry {i}")
        name = d.get("@class", "ComputedStructureEntry" if "structure" in d else "ComputedEntry")
        if name not in ("ComputedEntry", "ComputedStructureEntry"):
            raise InputError(f"{p}: entry {i} is a {name}, expected ComputedEntry or ComputedStructureEntry")
        cls = ComputedStructureEntry if name == "ComputedStructureEntry" else ComputedEntry
        try:
            out.append(cls.from_dict(d))
        except Exception as exc:  # missing keys, bad values
            raise InputError(f"{p}: entry {i} is not a valid {name} ({type(exc).__name__}: {exc})") from None
    return out


def energy_above_hull(structure: Structure, calculator="chgnet", entries=None, use_references: bool = True,
                      relax_candidate: bool = True, fmax: float = 0.05, steps: int = 300,
                      cache: str | os.PathLike | None = None, **kw) -> StabilityResult:
    """Energy above hull of ``structure`` against competing phases relaxed with the same potential.

    entries: extra competing phases (list of ComputedEntry or a JSON path, see ``load_entries``);
    use_references: include the shipped reference set; relax_candidate: relax the candidate first.
    """
    structure = plain_ordered(structure)
    elements = {el.symbol for el in structure.composition.elements}
    calc = get_calculator(calculator, **kw)
    comp = []
    if use_references:
        comp += reference_entries(elements, calculator, fmax, steps, cache, **kw)
    user = load_entries(entries) if isinstance(entries, (str, os.PathLike)) else list(entries or [])
    for i, e in enumerate(user):
        if not {el.symbol for el in e.composition.elements} <= elements:
            continue
        if isinstance(e, ComputedStructureEntry):  # re-evaluate with the same potential
            e = _relaxed_entry(f"user-{i}", e.structure, calculator, kw, fmax, steps, None,
                               {"source": str(e.entry_id)})
        comp.append(e)
    require_elements(elements, comp, ": pass entries with those elements")
    cand = candidate_entry(structure, calc, relax_candidate, fmax, steps)
    pd = PhaseDiagram(comp)
    decomp, dist = pd.get_decomp_and_e_above_hull(cand, allow_negative=True)
    if dist < 0:  # below the references' hull: the hull with the candidate passes through it
        decomp = {cand: 1.0}
    stand_ins = sorted({e.entry_id for e in comp if "[stand-in]" in e.data.get("citation", "")})
    from perovscreen.potentials.calculators import backend_name

    return StabilityResult(structure.composition.reduced_formula, cand.energy_per_atom, max(0.0, dist), dist,
                           pd.get_form_energy_per_atom(cand),
                           {e.composition.reduced_formula: round(float(x), 6) for e, x in decomp.items()},
                           backend_name(calc), len(comp), stand_ins, relax_candidate)


__all__ = ["StabilityResult", "energy_above_hull", "reference_entries", "warm_references", "load_entries",
           "cache_dir", "MOLECULES"]
