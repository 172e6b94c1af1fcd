"""Perovskite chemical spaces: definition files, vectorised enumeration and filters.

A space file (YAML or TOML) names a family, candidate species per site with oxidation states and a
fraction grid. Enumeration builds, per site, every occupancy vector on the grid with at most
`max_species` species, then takes the product over sites. Filters are evaluated on arrays (10^6
compositions in about a second) and each candidate records the first filter that removed it:

- ``neutrality``: sum of multiplicity x fraction x oxidation state is zero (SMACT's rule, with the
  states given in the file, which must be states SMACT knows);
- ``electronegativity``: every cation less electronegative (Pauling) than every anion (SMACT's
  Pauling test);
- ``tolerance``: Goldschmidt t = (rA + rX) / (sqrt(2) (rB + rX)) inside [t_min, t_max], Shannon ionic
  radii (A: XII, B: VI, X: VI coordination; nearest tabulated coordination when missing),
  occupancy-weighted on mixed sites;
- ``tau``: Bartel et al., Sci. Adv. 5, eaav0693 (2019): tau = rX/rB - nA (nA - (rA/rB) / ln(rA/rB))
  < 4.18 (perovskite predicted); needs rA > rB; not applied to antiperovskites.
"""
from __future__ import annotations

import itertools
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from perovscreen.core.errors import InputError
from perovscreen.structures.radii import bartel_tau, goldschmidt_t, shannon_radius

# site multiplicity per formula unit; antiperovskites X3BA are written with Li on X (e.g. Li3OCl:
# X = Li+, B = O2-, A = Cl-)
FAMILIES = {
    "ABX3": {"A": 1, "B": 1, "X": 3},
    "A_deficient": {"A": 1, "B": 1, "X": 3},
    "double": {"A": 2, "B": 2, "X": 6},
    "antiperovskite": {"A": 1, "B": 1, "X": 3},
}
CN = {"A": "XII", "B": "VI", "X": "VI"}
ANTI_CN = {"A": "XII", "B": "VI", "X": "VI"}
FILTERS = ("neutrality", "electronegativity", "tolerance", "tau")
# a space's name prefixes the CIFs written under --out: a plain file name, never a path
NAME_PATTERN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}")


def space_name(data: dict, where: str) -> str:
    """The space's `name` (validated) or, when absent, the definition file's stem made safe."""
    if "name" not in data:
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(where).stem).lstrip(".")[:100] or "space"
    name = data["name"]
    if isinstance(name, int) and not isinstance(name, bool):
        name = str(name)  # YAML reads `name: 2024` as a number
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise InputError(f"{where}: name {name!r} must be a plain file name (letters, digits, '-', '_', '.', "
                         f"not starting with a dot, at most 100 characters): it names the CIFs written under --out")
    return name


@dataclass(frozen=True)
class Candidate:
    element: str
    oxidation: int
    radius: float
    electronegativity: float


@dataclass
class SiteSpec:
    name: str
    candidates: list[Candidate]
    max_species: int = 2
    allow_vacancy: bool = False
    fixed: dict | None = None  # {element: fraction} forced on every candidate of this site


@dataclass
class SpaceSpec:
    name: str
    family: str
    sites: dict[str, SiteSpec]
    step: float = 0.125
    t_range: tuple = (0.8, 1.1)
    tau_max: float = 4.18
    require_ion: str | None = "Li"
    source: str = ""
    raw: dict = field(default_factory=dict)


def _parse_candidate(item, site: str, where: str, cn: str) -> Candidate:
    from smact import Element as SmactElement

    if isinstance(item, str):
        raise InputError(f"{where}: site {site}: candidate {item!r} needs an oxidation state, "
                         f"e.g. {{element: {item}, oxidation: 1}}")
    try:
        el, ox = str(item["element"]), int(item["oxidation"])
    except (KeyError, TypeError, ValueError):
        raise InputError(f"{where}: site {site}: each candidate needs 'element' and an integer 'oxidation'") from None
    try:
        sm = SmactElement(el)
    except Exception:
        raise InputError(f"{where}: site {site}: unknown element {el!r}") from None
    if ox not in (sm.oxidation_states or []):
        raise InputError(f"{where}: site {site}: {el}{ox:+d} is not a known oxidation state of {el} "
                         f"(known: {sm.oxidation_states})")
    if sm.pauling_eneg is None:
        raise InputError(f"{where}: site {site}: no Pauling electronegativity for {el}")
    return Candidate(el, ox, shannon_radius(el, ox, cn, strict=True), float(sm.pauling_eneg))


def parse_space(data: dict, where: str = "space") -> SpaceSpec:
    """Validate a space definition (already parsed YAML/TOML) with errors naming the bad key."""
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a mapping at the top level")
    unknown = set(data) - {"name", "family", "sites", "step", "filters", "require_ion"}
    if unknown:
        raise InputError(f"{where}: unknown key(s) {sorted(unknown)}")
    spec_name = space_name(data, where)
    family = data.get("family", "ABX3")
    if family not in FAMILIES:
        raise InputError(f"{where}: family {family!r} not one of {list(FAMILIES)}")
    step = float(data.get("step", 0.125))
    if not 0 < step <= 1 or abs(round(1 / step) - 1 / step) > 1e-9:
        raise InputError(f"{where}: step {step} must divide 1 (e.g. 0.5, 0.25, 0.125, 1/12)")
    raw_sites = data.get("sites")
    if not isinstance(raw_sites, dict) or set(raw_sites) != set(FAMILIES[family]):
        raise InputError(f"{where}: 'sites' must define exactly {sorted(FAMILIES[family])} for family {family}")
    sites = {}
    for name, sd in raw_sites.items():
        if isinstance(sd, list):
            sd = {"candidates": sd}
        cands = sd.get("candidates") if isinstance(sd, dict) else None
        if not cands:
            raise InputError(f"{where}: site {name}: no candidates")
        cn = (ANTI_CN if family == "antiperovskite" else CN)[name]
        parsed = [_parse_candidate(c, name, where, cn) for c in cands]
        ms = int(sd.get("max_species", 2))
        if ms < 1:
            raise InputError(f"{where}: site {name}: max_species must be >= 1")
        sites[name] = SiteSpec(name, parsed, ms, bool(sd.get("allow_vacancy", family == "A_deficient" and name == "A")))
    flt = data.get("filters", {}) or {}
    t_range = tuple(flt.get("tolerance", (0.8, 1.1)))
    if len(t_range) != 2 or not t_range[0] < t_range[1]:
        raise InputError(f"{where}: filters.tolerance must be [min, max] with min < max")
    return SpaceSpec(spec_name, family, sites, step, t_range,
                     float(flt.get("tau_max", 4.18)), data.get("require_ion", "Li"), where, data)


def load_space(path: str | Path) -> SpaceSpec:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: not valid {'TOML' if path.suffix == '.toml' else 'YAML'}: "
                         f"{str(exc).splitlines()[0]}") from None
    return parse_space(data, str(path))


def site_options(site: SiteSpec, step: float) -> np.ndarray:
    """All occupancy vectors (rows) on the grid with <= max_species non-zero entries."""
    n_grid = int(round(1 / step))
    c = len(site.candidates)
    rows = []
    for k in range(1, min(site.max_species, c) + 1):
        for combo in itertools.combinations(range(c), k):
            for parts in _compositions(n_grid, k, site.allow_vacancy):
                v = np.zeros(c)
                v[list(combo)] = np.array(parts) / n_grid
                rows.append(v)
    return np.unique(np.array(rows), axis=0) if rows else np.zeros((0, c))


def _compositions(n: int, k: int, allow_less: bool):
    """k positive integers summing to n (or to <= n when vacancies are allowed)."""
    totals = range(k, n + 1) if allow_less else [n]
    for total in totals:
        for cuts in itertools.combinations(range(1, total), k - 1):
            b = (0, *cuts, total)
            yield tuple(b[i + 1] - b[i] for i in range(k))


@dataclass
class SpaceTable:
    """Enumerated compositions: per-site option indices, derived properties and filter results."""

    spec: SpaceSpec
    options: dict  # site -> (n_opt, n_cand) occupancy matrix
    index: dict  # site -> (N,) option index per composition
    charge: np.ndarray
    t: np.ndarray
    tau: np.ndarray
    removed_by: np.ndarray  # "" for survivors, else the first failing filter's name

    def __len__(self):
        return len(self.charge)

    @property
    def survivors(self) -> np.ndarray:
        return np.nonzero(self.removed_by == "")[0]

    def counts(self) -> dict:
        names, n = np.unique(self.removed_by, return_counts=True)
        return {("passed" if k == "" else k): int(v) for k, v in zip(names, n)}

    def formula(self, i: int) -> str:
        """Formula of composition i (per formula unit of the family)."""
        mult = FAMILIES[self.spec.family]
        parts = []
        for name in _formula_order(self.spec.family):
            occ = self.options[name][self.index[name][i]]
            for cand, x in zip(self.spec.sites[name].candidates, occ):
                if x > 0:
                    amt = x * mult[name]
                    parts.append(f"{cand.element}{'' if abs(amt - 1) < 1e-9 else _fmt(amt)}")
        return "".join(parts)

    def encoded(self, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(Z [n, m], amounts [n, m]) per formula unit for compositions `rows` (default: all), built from
        the occupancy arrays without formula strings (for vectorised featurisation)."""
        from pymatgen.core import Element

        rows = np.arange(len(self)) if rows is None else np.asarray(rows)
        mult = FAMILIES[self.spec.family]
        zs, amts = [], []
        for name, site in self.spec.sites.items():
            occ = self.options[name][self.index[name][rows]]  # n, c
            zs.append(np.broadcast_to([Element(c.element).Z for c in site.candidates], occ.shape))
            amts.append(occ * mult[name])
        return np.concatenate(zs, axis=1).astype(np.int16), np.concatenate(amts, axis=1)

    def occupancies(self, i: int) -> dict:
        """{site: {element: fraction}} of composition i."""
        return {name: {c.element: float(x) for c, x in zip(self.spec.sites[name].candidates,
                                                             self.options[name][self.index[name][i]]) if x > 0}
                for name in self.spec.sites}


def _fmt(x: float) -> str:
    return f"{x:.4f}".rstrip("0").rstrip(".")


def _formula_order(family: str) -> list[str]:
    return ["X", "B", "A"] if family == "antiperovskite" else ["A", "B", "X"]


def enumerate_space(spec: SpaceSpec) -> SpaceTable:
    """Enumerate and filter the whole space with array operations."""
    mult = FAMILIES[spec.family]
    names = list(spec.sites)
    options = {n: site_options(spec.sites[n], spec.step) for n in names}
    sizes = [len(options[n]) for n in names]
    grids = np.meshgrid(*[np.arange(s, dtype=np.int32) for s in sizes], indexing="ij")
    index = {n: g.ravel() for n, g in zip(names, grids)}
    prop = {}
    for n in names:
        occ = options[n]
        cands = spec.sites[n].candidates
        q = np.array([c.oxidation for c in cands], float)
        r = np.array([c.radius for c in cands])
        en = np.array([c.electronegativity for c in cands])
        filled = occ.sum(1)
        prop[n] = {
            "charge": mult[n] * occ @ q,
            "radius": (occ @ r) / filled,
            "q": (occ @ q) / filled,
            "en_max_cation": np.where(occ * (q > 0) > 0, en, -np.inf).max(1),
            "en_min_anion": np.where(occ * (q < 0) > 0, en, np.inf).min(1),
        }
    g = {n: {k: v[index[n]] for k, v in prop[n].items()} for n in names}
    charge = sum(g[n]["charge"] for n in names)
    en_cat = np.max([g[n]["en_max_cation"] for n in names], axis=0)
    en_an = np.min([g[n]["en_min_anion"] for n in names], axis=0)
    rA, rB, rX = g["A"]["radius"], g["B"]["radius"], g["X"]["radius"]
    t = goldschmidt_t(rA, rB, rX)
    tau = bartel_tau(rA, rB, rX, np.abs(g["A"]["q"]))
    if spec.family == "antiperovskite":
        tau = np.full_like(t, np.nan)
    removed = np.full(len(charge), "", dtype=object)
    checks = [
        ("neutrality", np.abs(charge) > 1e-6),
        ("electronegativity", en_cat >= en_an),
        ("tolerance", (t < spec.t_range[0]) | (t > spec.t_range[1])),
        ("tau", ~(tau < spec.tau_max) if spec.family != "antiperovskite" else np.zeros(len(t), bool)),
    ]
    if spec.require_ion:
        has = np.zeros(len(charge), bool)
        for n in names:
            ci = [k for k, c in enumerate(spec.sites[n].candidates) if c.element == spec.require_ion]
            if ci:
                has |= options[n][index[n]][:, ci].sum(1) > 0
        checks.insert(0, ("mobile_ion", ~has))
    for name, bad in checks:
        removed[(removed == "") & bad] = name
    return SpaceTable(spec, options, index, charge, t, tau, removed)
