"""Reading and validating structures: CIF, POSCAR and anything pymatgen reads.

`load_structures` never raises for a bad file: each input gives one or more `StructureRecord`s
and a bad one carries `error`, a one-line reason naming the file.
"""
from __future__ import annotations

import glob
import itertools
import hashlib
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from pymatgen.core import Structure

from perovscreen.core.hashing import file_sha256
from perovscreen.structures.safe_json import load_structure_json
from perovscreen.core.errors import InputError
from perovscreen.structures.identity import identity_hash

DEFAULT_MAX_ATOMS = 2000
MIN_DISTANCE = 0.5  # A; closer sites must be alternatives (sum of occupancies <= 1)
STRUCTURE_SUFFIXES = {".cif", ".mcif", ".vasp", ".poscar", ".json", ".xsf", ".cssr", ".res", ".xyz"}


@dataclass
class StructureRecord:
    """One structure read from a file, with what intake found out about it."""

    id: str
    file: str
    file_hash: str
    block: int = 0
    structure: Structure | None = field(default=None, repr=False)
    formula: str | None = None
    identity: str | None = None
    ion: str = "Li"
    oxidation_source: str | None = None  # file | bvanalyzer | composition_guess
    n_sites: int = 0
    n_mobile_sites: int = 0
    mobile_occupancy: float = 0.0
    is_ordered: bool | None = None
    warnings: list[str] = field(default_factory=list)
    duplicate_of: str | None = None
    error: str | None = None

    @property
    def key(self) -> str:
        """Content address of this record: file hash and block index."""
        return f"{self.file_hash}:{self.block}"

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("structure")
        d["key"] = self.key
        return d


def expand_paths(paths) -> list[Path]:
    """Files from paths, directories (recursively, structure suffixes only) and glob patterns."""
    out: list[Path] = []
    for p in [paths] if isinstance(paths, (str, Path)) else paths:
        p = str(p)
        matches = sorted(glob.glob(p, recursive=True)) if any(c in p for c in "*?[") else [p]
        for m in matches:
            mp = Path(m)
            if mp.is_dir():
                out += sorted(f for f in mp.rglob("*") if f.is_file() and _looks_like_structure(f))
            else:
                out.append(mp)
    seen, unique = set(), []
    for f in out:
        if f.resolve() not in seen:
            seen.add(f.resolve())
            unique.append(f)
    return unique


def _looks_like_structure(f: Path) -> bool:
    name = f.name.upper()
    return f.suffix.lower() in STRUCTURE_SUFFIXES or name.startswith(("POSCAR", "CONTCAR"))


def _read_file(path: Path) -> list[Structure]:
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError(f"{path}: empty file")
    if b"\x00" in raw[:4096]:
        raise InputError(f"{path}: binary data, not a structure file")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            raw.decode("latin-1")
        except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes anything
            raise InputError(f"{path}: not a text file") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if path.suffix.lower() in (".cif", ".mcif"):
                from pymatgen.io.cif import CifParser

                structures = CifParser(str(path), occupancy_tolerance=1.05).parse_structures(primitive=False)
            else:
                structures = [load_structure_json(path) if path.suffix.lower() == ".json"
                              else Structure.from_file(str(path))]
    except Exception as exc:  # pymatgen raises many types for malformed input
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: could not parse structure ({msg[:200]})") from None
    if not structures:
        raise InputError(f"{path}: no structure found in file")
    return structures


def _has_file_oxidation_states(s: Structure) -> bool:
    return all(getattr(sp, "oxi_state", None) not in (None,) for site in s for sp in site.species)


_ANIONS = {"O", "S", "Se", "Te", "N", "F", "Cl", "Br", "I"}


def guess_oxidation_states(composition, tolerance: float = 0.25) -> tuple[dict[str, int], float]:
    """Common oxidation states that best balance a (possibly fractional) composition.

    Every combination of each element's common oxidation states is tried; anions must be more
    electronegative than every cation, and typical anions (O, S, N, halogens) taking a positive
    state cost a penalty. Returns the states and the relative net charge |sum q n| / (sum |q| n / 2).
    Refinements with unlocated or partially occupied mobile ions rarely balance exactly, so up to
    `tolerance` relative imbalance is accepted (the caller records it as a warning).
    """
    els = sorted(composition.elements, key=lambda e: e.X)
    amounts = np.array([composition[e] for e in els])
    options = [sorted(set(e.common_oxidation_states) | ({1, -1} if e.symbol == "H" else set()),
                      key=abs) or [0] for e in els]
    best, best_cost, best_rel = None, np.inf, np.inf
    for combo in itertools.product(*options):
        q = np.array(combo)
        neg = np.nonzero(q < 0)[0]
        if len(neg) and np.any(q[neg.min():] > 0):
            continue
        scale = float(np.abs(q) @ amounts) / 2 or 1.0
        rel = abs(float(q @ amounts)) / scale
        unusual = sum(1 for e, x in zip(els, combo) if e.symbol in _ANIONS and x > 0)
        cost = rel + 0.05 * unusual
        if cost < best_cost - 1e-12:
            best, best_cost, best_rel = combo, cost, rel
    if best is None or best_rel > tolerance:
        shown = " ".join(f"{e.symbol}{q:+d}" for e, q in zip(els, best)) if best else "none"
        raise InputError(f"best charge balance ({shown}) leaves {best_rel:.0%} net charge")
    return {e.symbol: int(q) for e, q in zip(els, best)}, best_rel


def assign_oxidation_states(s: Structure) -> tuple[Structure, str, list[str]]:
    """Oxidation states from the file's labels, else BVAnalyzer, else a composition guess.

    Returns the decorated structure, the source used and warnings.
    """
    if _has_file_oxidation_states(s) and any(sp.oxi_state for site in s for sp in site.species):
        return s, "file", []
    s = s.copy()
    s.remove_oxidation_states()
    if s.is_ordered:
        try:
            from pymatgen.analysis.bond_valence import BVAnalyzer

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return BVAnalyzer().get_oxi_state_decorated_structure(s), "bvanalyzer", []
        except Exception:
            pass
    try:
        states, imbalance = guess_oxidation_states(s.composition)
    except InputError as exc:
        raise InputError(f"unassignable oxidation states: {exc}") from None
    s.add_oxidation_state_by_element(states)
    notes = [f"charge imbalance {imbalance:.1%} with guessed oxidation states"] if imbalance > 0.02 else []
    return s, "composition_guess", notes


def no_ion(ion: str | None) -> bool:
    """True when no mobile ion is required (--ion none: Li-free controls, references)."""
    return ion is None or str(ion).lower() == "none"


def validate(s: Structure, name: str, ion: str, max_atoms: int = DEFAULT_MAX_ATOMS) -> list[str]:
    """Raise InputError for structures that cannot be used; return warnings for odd but usable ones."""
    if len(s) > max_atoms:
        raise InputError(f"{name}: {len(s)} sites exceeds the atom limit of {max_atoms} (--max-atoms)")
    if not np.all(np.isfinite(s.lattice.matrix)) or not np.all(np.isfinite(s.frac_coords)):
        raise InputError(f"{name}: NaN or infinite lattice or coordinates")
    if not s.lattice.volume > 1e-3:
        raise InputError(f"{name}: degenerate cell (volume {s.lattice.volume:.3g} A^3)")
    if not no_ion(ion) and ion not in {el.symbol for el in s.composition.elements}:
        raise InputError(f"{name}: no {ion} sites (mobile ion {ion} absent)")
    notes = []
    occ = np.array([site.species.num_atoms for site in s])
    i_idx, j_idx, _, dist = s.get_neighbor_list(MIN_DISTANCE)
    for i, j, d in zip(i_idx, j_idx, dist):
        if i < j or (i == j and d > 1e-8):
            if occ[i] + occ[j] > 1.0 + 1e-3 or i == j:
                raise InputError(f"{name}: overlapping atoms, sites {i} and {j} are {d:.3f} A apart "
                                 f"(< {MIN_DISTANCE} A)")
            notes.append(f"split sites {i},{j} {d:.2f} A apart (occupancies sum to {occ[i] + occ[j]:.2f})")
    if np.any(occ > 1.0 + 1e-3):
        raise InputError(f"{name}: site occupancy above 1 ({occ.max():.3f})")
    return notes


def _record_from_structure(s: Structure, rec: StructureRecord, max_atoms: int) -> StructureRecord:
    name = rec.file or rec.id
    rec.warnings += validate(s, name, rec.ion, max_atoms)
    try:
        s, rec.oxidation_source, notes = assign_oxidation_states(s)
    except InputError as exc:
        raise InputError(f"{name}: {exc}") from None
    rec.warnings += notes
    rec.structure = s
    rec.formula = s.composition.reduced_formula
    rec.is_ordered = s.is_ordered
    rec.n_sites = len(s)
    mobile = [site.species.get_el_amt_dict().get(rec.ion, 0.0) for site in s]
    rec.n_mobile_sites = int(sum(m > 0 for m in mobile))
    rec.mobile_occupancy = float(sum(mobile))
    rec.identity = identity_hash(s)
    return rec


def load_file(path: str | Path, ion: str = "Li", max_atoms: int = DEFAULT_MAX_ATOMS) -> list[StructureRecord]:
    """Every structure in one file as records; a failure gives one record with `error` set."""
    path = Path(path)
    base = StructureRecord(id=path.stem, file=str(path), file_hash="", ion=ion)
    try:
        base.file_hash = file_sha256(path)
    except OSError as exc:
        base.error = f"{path}: cannot read ({exc.strerror or exc})"
        return [base]
    try:
        structures = _read_file(path)
    except InputError as exc:
        base.error = str(exc)
        return [base]
    records = []
    for k, s in enumerate(structures):
        rec = StructureRecord(id=path.stem if len(structures) == 1 else f"{path.stem}#{k}", file=str(path),
                              file_hash=base.file_hash, block=k, ion=ion)
        try:
            _record_from_structure(s, rec, max_atoms)
        except InputError as exc:
            rec.error = str(exc)
        except Exception as exc:  # unexpected: still one line, naming the file
            rec.error = f"{path}: {type(exc).__name__}: {str(exc).strip()[:200]}"
        records.append(rec)
    return records


def record_from_structure(structure: Structure, id: str, ion: str = "Li",
                          max_atoms: int = DEFAULT_MAX_ATOMS) -> StructureRecord:
    """A record for an in-memory structure (API use); raises InputError on bad input."""
    digest = hashlib.sha256(structure.to_json().encode()).hexdigest()
    rec = StructureRecord(id=id, file="", file_hash=digest, ion=ion)
    return _record_from_structure(structure, rec, max_atoms)


def mark_duplicates(records: list[StructureRecord]) -> None:
    """Set `duplicate_of` on every record whose identity was seen earlier in the list."""
    first: dict[str, str] = {}
    for r in records:
        if r.identity is None:
            continue
        if r.identity in first:
            r.duplicate_of = first[r.identity]
        else:
            first[r.identity] = r.id


def load_structures(paths, ion: str = "Li", max_atoms: int = DEFAULT_MAX_ATOMS) -> list[StructureRecord]:
    """Read files, directories and globs; returns records (bad inputs carry `error`), duplicates marked."""
    records = [r for f in expand_paths(paths) for r in load_file(f, ion=ion, max_atoms=max_atoms)]
    mark_duplicates(records)
    return records


