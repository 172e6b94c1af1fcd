"""Reading and validating structures: CIF, POSCAR and anything pymatgen reads.

`load_structures` never raises for a bad file: each input gives one or more `StructureRecord`s
and a bad one carries `error`, a one-line reason naming the file.
"""
from __future__ import annotations

import errno
import glob
import itertools
import math
import hashlib
import re
import sys
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
# Size checks before parsing (pymatgen's CIF parse time grows about quadratically with the sites): an
# estimate this far above --max-atoms is refused unread; closer ones are parsed and checked exactly.
SIZE_SLACK = 0.02
BYTES_PER_ATOM = 4096  # formats without a count: a file larger than max_atoms x this (and 64 MiB) is refused
FILE_CHARGE_TOLERANCE = 0.25  # oxidation states given in the file: refuse above this net/cation charge
CHARGE_WARNING = 0.02  # warn above this relative imbalance (file or guessed states)
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


_REPORTED: set[str] = set()


def _symlink_loop(p: Path) -> bool:
    """True when following `p` never ends (a link to itself, or a cycle of links)."""
    try:
        p.stat()
        return False
    except OSError as exc:
        return exc.errno == errno.ELOOP
    except RuntimeError:  # pragma: no cover - older pathlib reports loops this way
        return True


def expand_paths(paths, skipped: list | None = None) -> list[Path]:
    """Files from paths, directories (recursively, structure suffixes only) and glob patterns.

    A symlink loop (named on the command line, matched by a glob or met in a directory) is skipped with
    one line on stderr (once per path and process) and, when `skipped` is a list, appended to it as
    (path, reason) so a caller can turn it into an error row. A missing path stays in the list: reading
    it gives the record's `cannot read` error.
    """
    out: list[Path] = []

    def skip(p: Path, why: str) -> None:
        if skipped is not None:
            skipped.append((p, why))
        if str(p) not in _REPORTED:
            _REPORTED.add(str(p))
            print(f"warning: skipping {p}: {why}", file=sys.stderr)

    for p in [paths] if isinstance(paths, (str, Path)) else paths:
        p = str(p)
        matches = sorted(glob.glob(p, recursive=True)) if any(c in p for c in "*?[") else [p]
        for m in matches:
            mp = Path(m)
            if _symlink_loop(mp):
                skip(mp, "symlink loop")
            elif mp.is_dir():
                for f in sorted(mp.rglob("*")):
                    if f.is_file() and _looks_like_structure(f):
                        out.append(f)
                    elif f.is_symlink() and _looks_like_structure(f) and _symlink_loop(f):
                        skip(f, "symlink loop")
            else:
                out.append(mp)
    seen, unique = set(), []
    for f in out:
        try:
            real = f.resolve()
        except (OSError, RuntimeError):
            real = f.absolute()
        if real not in seen:
            seen.add(real)
            unique.append(f)
    return unique


def _looks_like_structure(f: Path) -> bool:
    name = f.name.upper()
    return f.suffix.lower() in STRUCTURE_SUFFIXES or name.startswith(("POSCAR", "CONTCAR"))


@dataclass
class _Block:
    """One structure read from a file (a CIF data block, or the whole file), or why it could not be."""

    index: int
    name: str | None = None
    structure: Structure | None = None
    error: str | None = None


def _decode(path: Path, raw: bytes) -> str:
    if not raw.strip():
        raise InputError(f"{path}: empty file")
    if b"\x00" in raw[:4096]:
        raise InputError(f"{path}: binary data, not a structure file")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # decodes any bytes


def _too_many(path: Path, n: int, max_atoms: int, how: str, where: str = "") -> InputError:
    return InputError(f"{path}: {where}about {n} atoms ({how}, before parsing) exceeds the atom limit of "
                      f"{max_atoms} (--max-atoms)")


def _over(n: int, max_atoms: int) -> bool:
    return n > max_atoms + max(2, int(SIZE_SLACK * max_atoms))


def _is_poscar(path: Path) -> bool:
    return path.suffix.lower() in (".vasp", ".poscar") or path.name.upper().startswith(("POSCAR", "CONTCAR"))


def _check_size_other(path: Path, raw: bytes, text: str, max_atoms: int) -> None:
    """Atom count of a non-CIF file from its header (POSCAR counts, XYZ first line, JSON sites), else a
    file-size bound; refuses clearly oversized files before pymatgen reads them."""
    n, how = None, ""
    if _is_poscar(path):
        lines = text.splitlines()
        for line in lines[5:7]:
            words = line.split()
            if words and all(w.isdigit() for w in words):
                n, how = sum(map(int, words)), "POSCAR counts line"
                break
    elif path.suffix.lower() == ".xyz":
        first = text.lstrip().split("\n", 1)[0].split()
        if first and first[0].isdigit():
            n, how = int(first[0]), "XYZ count line"
    elif path.suffix.lower() == ".json":
        n, how = raw.count(b'"species"'), "sites in the JSON"
    if n is not None and _over(n, max_atoms):
        raise _too_many(path, n, max_atoms, how)
    if len(raw) > max(64 << 20, BYTES_PER_ATOM * max_atoms):
        raise _too_many(path, len(raw) // BYTES_PER_ATOM, max_atoms,
                        f"file size {len(raw) >> 20} MiB at {BYTES_PER_ATOM} bytes per atom")


def _read_file(path: Path, max_atoms: int = DEFAULT_MAX_ATOMS) -> list[_Block]:
    """Structures in one file; whole-file problems raise InputError, a bad CIF block is a _Block with error."""
    raw = path.read_bytes()
    text = _decode(path, raw)
    if path.suffix.lower() in (".cif", ".mcif"):
        return _read_cif(path, text, max_atoms)
    _check_size_other(path, raw, text, max_atoms)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            structures = [load_structure_json(path) if path.suffix.lower() == ".json"
                          else Structure.from_file(str(path))]
    except Exception as exc:  # pymatgen raises many types for malformed input
        raise InputError(f"{path}: could not parse structure ({_reason(exc, caught)})") from None
    if not structures:
        raise InputError(f"{path}: no structure found in file")
    return [_Block(k, None, s) for k, s in enumerate(structures)]


# -- CIF ---------------------------------------------------------------------------------------------

_BOILERPLATE = ("Issues encountered while parsing CIF", "No _symmetry_equiv_pos_as_xyz", "default value of primitive",
                "No structure parsed for section", "1-line symmetry op", "fractional coordinates rounded",
                "Possible issue in CIF file")
# symbols pymatgen's CIF reader maps itself (water, hydroxide, nitrate)
_SPECIAL_SYMBOLS = {"Hw", "Ow", "Wat", "wat", "OH", "OH2", "NO3"}


def _one_line(text: str) -> str:
    lines = [ln.strip() for ln in str(text).strip().splitlines() if ln.strip()]
    return (lines[0] if lines else "")[:200]


def _reason(exc: BaseException, caught=()) -> str:
    """pymatgen's underlying reason for a failed parse, in one line."""
    root = exc  # parse_structures(on_error="raise") wraps the real error: unwrap only that
    while root.__cause__ is not None and "No structure parsed for section" in str(root):
        root = root.__cause__
    if isinstance(root, KeyError) and root.args:
        msg = f"missing {root.args[0]}"
    else:
        msg = _one_line(root)
    if not msg or "no structures" in msg:
        said = [_one_line(w.message) for w in caught if not any(b in str(w.message) for b in _BOILERPLATE)]
        said = [m for m in said if m]
        msg = said[-1] if said else (msg or type(root).__name__)
        if "no structures" in msg:
            msg = "no atom sites found"
    return msg


def _cif_blocks(text: str) -> list[tuple[str, str]]:
    """(name, text) of every data block, split as pymatgen splits them."""
    parts = re.split(r"^\s*data_", f"x\n{text}", flags=re.MULTILINE | re.DOTALL)[1:]
    return [((p.split(None, 1) or [""])[0], f"data_{p}") for p in parts]


def _num(value) -> float | None:
    """A CIF number (standard uncertainty in brackets allowed); None for '?', '.' and text."""
    if isinstance(value, list):
        value = value[0] if value else None
    if not isinstance(value, str):
        return None
    m = re.fullmatch(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?:\(\d+\))?\s*", value)
    return float(m.group(1)) if m else None


def _column(data: dict, key: str) -> list | None:
    v = data.get(key)
    return [v] if isinstance(v, str) else v


def _check_cif_values(data: dict) -> None:
    """Refuse values pymatgen would silently drop or misread (raises InputError without the file name)."""
    for ax in "abc":
        key = f"_cell_length_{ax}"
        v = _num(data.get(key))
        if v is not None and not v > 0:
            raise InputError(f"cell parameter {key} = {data[key]} is not positive")
    for ang in ("alpha", "beta", "gamma"):
        key = f"_cell_angle_{ang}"
        v = _num(data.get(key))
        if v is not None and not 0 < v < 180:
            raise InputError(f"cell angle {key} = {data[key]} is not between 0 and 180 degrees")
    labels = _column(data, "_atom_site_label") or []
    if labels and not all(f"_cell_length_{ax}" in data for ax in "abc") and not (
            data.get("_symmetry_cell_setting") or data.get("_space_group_crystal_system")):
        missing = [f"_cell_length_{ax}" for ax in "abc" if f"_cell_length_{ax}" not in data]
        raise InputError(f"missing cell parameter(s) {', '.join(missing)}")
    occ = _column(data, "_atom_site_occupancy") or []
    for i, o in enumerate(occ):
        v = _num(o)
        if v is not None and v < 0:
            site = labels[i] if i < len(labels) else f"row {i}"
            raise InputError(f"negative occupancy {o} at site {site}")
    from pymatgen.core import Element

    for i, sym in enumerate(_column(data, "_atom_site_type_symbol") or []):
        m = re.fullmatch(r"([A-Za-z]{1,2})\d*[+-]?\d*", sym.strip())
        if m and sym.strip() not in _SPECIAL_SYMBOLS and not Element.is_valid_symbol(m.group(1).capitalize()):
            site = labels[i] if i < len(labels) else f"row {i}"
            raise InputError(f"unknown element {m.group(1)!r} at site {site}")


_GRID = 1000  # positions are compared on a 0.001 grid (finer than pymatgen's own merging is not needed)
_GRID_OFFSET = 0.3183098861837907  # 1/pi: published decimals never sit on a bin edge


def _cif_site_estimate(data: dict, symops) -> tuple[int, int]:
    """(distinct positions in the rows, sites after applying the symmetry operations) of a CIF block.

    Rows with the same position (mixed occupancy) count once, rows pymatgen skips (zero occupancy,
    unreadable coordinates) not at all. Each row is expanded by every operation and distinct images
    counted on a 0.001 grid, with 1/3 and 2/3 snapped as pymatgen snaps them, so special positions
    count their true multiplicity: the count errs low (never refusing a file within the limit), never
    high by more than a rare grid-edge coincidence. `symops=None` gives only the first number.
    """
    cols = [_column(data, f"_atom_site_fract_{ax}") or [] for ax in "xyz"]
    n = min(map(len, cols))
    if n == 0:
        return 0, 0
    occ = _column(data, "_atom_site_occupancy") or []
    xyz = np.full((n, 3), np.nan)
    for k, col in enumerate(cols):
        xyz[:, k] = [_num(v) if _num(v) is not None else np.nan for v in col[:n]]
    keep = np.all(np.isfinite(xyz), axis=1)
    if len(occ) == n:
        keep &= np.array([(_num(o) if _num(o) is not None else 1.0) > 0 for o in occ])
    xyz = xyz[keep]
    for frac in (1 / 3, 2 / 3):
        xyz[np.abs(xyz / frac - 1) <= 1e-4] = frac

    def distinct(points: np.ndarray) -> int:
        cell = np.floor(np.mod(points, 1.0) * _GRID + _GRID_OFFSET).astype(np.int64) % _GRID
        return len(np.unique(cell[:, 0] * _GRID * _GRID + cell[:, 1] * _GRID + cell[:, 2]))

    rows = distinct(xyz) if len(xyz) else 0
    if symops is None or len(symops) <= 1 or len(xyz) * len(symops) > 5_000_000:
        return rows, rows
    images = np.concatenate([xyz @ op.rotation_matrix.T + op.translation_vector for op in symops])
    return rows, distinct(images)


def _read_cif(path: Path, text: str, max_atoms: int) -> list[_Block]:
    from pymatgen.io.cif import CifBlock, CifParser

    blocks = _cif_blocks(text)
    multi = len(blocks) > 1
    out: list[_Block] = []
    for k, (name, block_text) in enumerate(blocks):
        where = f"block {k} '{name}': " if multi else ""
        if "powder_pattern" in block_text.split("\n", 1)[0]:
            continue  # diffraction data, skipped by pymatgen too
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                block = CifBlock.from_str(block_text)
                data = block.data
            except Exception as exc:
                out.append(_Block(k, name, error=f"{path}: could not parse structure ({where}{_reason(exc, caught)})"))
                continue
            if not any(key.startswith(("_atom_site", "_cell_length")) for key in data):
                continue  # not a structure (publication or global block)
            try:
                _check_cif_values(data)
            except InputError as exc:
                out.append(_Block(k, name, error=f"{path}: could not parse structure ({where}{exc})"))
                continue
            try:
                rows, _ = _cif_site_estimate(data, None)
                if _over(rows, max_atoms):
                    raise _too_many(path, rows, max_atoms, "atom_site rows", where)
                parser = CifParser.from_str(block_text, occupancy_tolerance=1.05)
                _, sites = _cif_site_estimate(data, parser.get_symops(block))
                if _over(sites, max_atoms):
                    raise _too_many(path, sites, max_atoms,
                                    f"{rows} atom_site rows expanded by the symmetry operations", where)
                structure = parser.parse_structures(primitive=False, on_error="raise")[0]
            except InputError as exc:
                msg = str(exc)
                out.append(_Block(k, name, error=msg if msg.startswith(str(path)) else f"{path}: {where}{msg}"))
                continue
            except Exception as exc:  # pymatgen raises many types for malformed input
                out.append(_Block(k, name, error=f"{path}: could not parse structure ({where}{_reason(exc, caught)})"))
                continue
        out.append(_Block(k, name, structure))
    if not out:
        raise InputError(f"{path}: could not parse structure (no data block with atom sites)")
    return out


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


def file_charge_balance(s: Structure) -> tuple[float, float, float]:
    """(cation charge, anion charge, relative net charge |net| / cation charge) of the states on `s`."""
    pos = neg = 0.0
    for site in s:
        for sp, occ in site.species.items():
            q = float(getattr(sp, "oxi_state", 0) or 0) * occ
            pos, neg = (pos + q, neg) if q > 0 else (pos, neg + q)
    return pos, neg, (abs(pos + neg) / pos if pos > 0 else math.inf)


def assign_oxidation_states(s: Structure) -> tuple[Structure, str, list[str]]:
    """Oxidation states from the file's labels, else BVAnalyzer, else a composition guess.

    States given in the file are checked for charge balance: a net charge above
    FILE_CHARGE_TOLERANCE (25 %) of the cation charge is refused, above CHARGE_WARNING (2 %) warned
    (refinements with unlocated or partially occupied Li rarely balance exactly).
    Returns the decorated structure, the source used and warnings.
    """
    if _has_file_oxidation_states(s) and any(sp.oxi_state for site in s for sp in site.species):
        pos, neg, rel = file_charge_balance(s)
        if rel > FILE_CHARGE_TOLERANCE:
            raise InputError(f"oxidation states given in the file leave {rel:.0%} net charge (cations "
                             f"{pos:+.4g}, anions {neg:+.4g}; more than {FILE_CHARGE_TOLERANCE:.0%} of the "
                             f"cation charge): fix or remove them")
        notes = [f"charge imbalance {rel:.1%} with the file's oxidation states"] if rel > CHARGE_WARNING else []
        return s, "file", notes
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
    notes = [f"charge imbalance {imbalance:.1%} with guessed oxidation states"] if imbalance > CHARGE_WARNING else []
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
    from pymatgen.core import DummySpecies, Element

    for site in s:
        for sp in site.species:
            if isinstance(sp, DummySpecies) or not Element.is_valid_symbol(getattr(sp, "symbol", "")):
                raise InputError(f"{name}: unknown element {getattr(sp, 'symbol', str(sp))!r}")
            if site.species[sp] < 0:
                raise InputError(f"{name}: negative occupancy {site.species[sp]:g} of {sp}")
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
        blocks = _read_file(path, max_atoms)
    except InputError as exc:
        base.error = str(exc)
        return [base]
    except OSError as exc:
        base.error = f"{path}: cannot read ({exc.strerror or exc})"
        return [base]
    records = []
    for b in blocks:
        rec = StructureRecord(id=path.stem if len(blocks) == 1 else f"{path.stem}#{b.index}", file=str(path),
                              file_hash=base.file_hash, block=b.index, ion=ion, error=b.error)
        if b.structure is not None:
            try:
                _record_from_structure(b.structure, rec, max_atoms)
            except InputError as exc:
                rec.error = str(exc)
            except Exception as exc:  # unexpected: still one line, naming the file
                rec.error = f"{path}: {type(exc).__name__}: {_one_line(exc)}"
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


