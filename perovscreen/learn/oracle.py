"""A measured table as an after-the-fact oracle: items (grouped duplicates), features and a target.

Any CSV with a formula column (or CIF paths) and a numeric target column becomes an oracle. Rows that
share a reduced composition (`--group-by formula`) are one item whose target is the group median; the
spread of the repeated measurements is kept as that item's noise variance (a heteroscedastic surrogate
can use it). Internally the oracle always *maximises*: with `minimize` the stored target is negated and
`sign` = -1 turns it back for display.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from perovscreen.core.errors import InputError

FORMULA_COLUMNS = ("formula", "composition", "reduced_formula", "pretty_formula")
CIF_COLUMNS = ("structure_file", "cif_path", "cif_file", "cif")


@dataclass
class Oracle:
    """N items: features X [N, d], target y [N] (maximised), per-item noise variance (NaN = unknown)."""

    X: np.ndarray
    y: np.ndarray
    names: list
    noise: np.ndarray | None = None
    sign: float = 1.0            # displayed target = sign * y
    target: str = "y"
    source: dict = field(default_factory=dict)

    def __post_init__(self):
        self.X = np.ascontiguousarray(self.X, dtype=np.float32)
        self.y = np.asarray(self.y, dtype=float)
        if len(self.y) == 0:
            raise InputError("empty candidate set: no item has a numeric target")
        if self.X.shape[0] != len(self.y):
            raise InputError(f"features have {self.X.shape[0]} rows but the target has {len(self.y)}")
        if not np.all(np.isfinite(self.y)):
            raise InputError("the target has non-finite values")

    @property
    def n(self) -> int:
        return len(self.y)

    def top_set(self, fraction: float) -> np.ndarray:
        """Indices of the top `fraction` of items (at least one): K = max(1, round(fraction * N)); ties at
        the threshold are broken by index so K is exact."""
        k = max(1, int(round(fraction * self.n)))
        return np.argsort(-self.y, kind="stable")[:k]


def oracle_from_arrays(X, y, names=None, noise=None, minimize: bool = False, target: str = "y") -> Oracle:
    y = np.asarray(y, dtype=float)
    sign = -1.0 if minimize else 1.0
    return Oracle(np.asarray(X), sign * y, list(names) if names is not None else [str(i) for i in range(len(y))],
                  noise, sign, target)


def _pick(df: pd.DataFrame, options, what: str, csv) -> str:
    for c in options:
        if c in df.columns:
            return c
    raise InputError(f"{csv}: no {what} column (looked for {', '.join(options)})")


def _numeric_target(df: pd.DataFrame, target: str, csv) -> pd.Series:
    if target not in df.columns:
        raise InputError(f"{csv}: no column {target!r} (columns: {', '.join(map(str, df.columns[:20]))})")
    raw = df[target]
    y = pd.to_numeric(raw, errors="coerce")
    bad = raw[y.isna() & raw.notna() & raw.astype(str).str.strip().ne("")]
    if len(bad):
        raise InputError(f"{csv}: target column {target!r} is not numeric (row {bad.index[0] + 2}: "
                         f"{str(bad.iloc[0])[:40]!r})")
    return y.astype(float)


def _structure_features(paths, base: Path) -> np.ndarray:
    """Composition + structure descriptors (no BVSE: fast) of CIF files (paths relative to the CSV)."""
    from pymatgen.core import Structure

    from perovscreen.features.composition import featurize_compositions
    from perovscreen.features.descriptors import STRUCTURE_NAMES, compute_descriptors

    rows, formulas = [], []
    for p in paths:
        f = Path(p) if Path(p).is_absolute() else base / p
        try:
            s = Structure.from_file(str(f))
        except Exception as exc:  # noqa: BLE001  unreadable CIF -> one-line error naming it
            raise InputError(f"cannot read structure {f}: {exc}") from None
        formulas.append(s.composition.reduced_formula)
        d = compute_descriptors(s, bvse=False)
        rows.append([d[k] for k in STRUCTURE_NAMES])
    return np.hstack([featurize_compositions(formulas), np.asarray(rows, dtype=np.float32)])


def load_oracle(csv, target: str, minimize: bool = False, features: str = "composition",
                group_by: str = "formula", formula_column: str | None = None) -> Oracle:
    """Oracle from a CSV: `features` composition (the project's descriptors of the formula column) or
    structure (CIF paths column; composition + structure descriptors); `group_by` formula (reduced
    composition; a group is one item with the median target) or none (every row is an item)."""
    from perovscreen.features.composition import featurize_compositions
    from perovscreen.ml.dataset import composition_group

    if features not in ("composition", "structure"):
        raise InputError(f"--features must be composition or structure, got {features!r}")
    if group_by not in ("formula", "none"):
        raise InputError(f"--group-by must be formula or none, got {group_by!r}")
    path = Path(csv)
    if not path.is_file():
        raise InputError(f"no such table: {csv}")
    try:
        df = pd.read_csv(path)
    except Exception as exc:  # noqa: BLE001  malformed CSV -> one line
        raise InputError(f"{csv}: cannot read CSV ({str(exc).splitlines()[0]})") from None
    y = _numeric_target(df, target, csv)
    keep = y.notna().to_numpy()
    if not keep.any():
        raise InputError(f"empty candidate set: {csv} has no row with a numeric {target!r}")
    df, y = df[keep].reset_index(drop=True), y[keep].reset_index(drop=True)
    if features == "composition" or group_by == "formula":
        fcol = formula_column or _pick(df, FORMULA_COLUMNS, "formula", csv)
        formulas = df[fcol].astype(str).tolist()
    if features == "composition":
        try:
            X = featurize_compositions(formulas)
        except (InputError, ValueError) as exc:
            raise InputError(f"{csv}: {exc}") from None
    else:
        X = _structure_features(df[_pick(df, CIF_COLUMNS, "CIF path", csv)].tolist(), path.parent)
    if group_by == "formula":
        try:
            keys = np.array([composition_group(f) for f in formulas])
        except ValueError as exc:
            raise InputError(f"{csv}: {exc}") from None
    else:
        keys = np.arange(len(df)).astype(str)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first)                      # items in order of first appearance
    yv = y.to_numpy()
    ys, noise, names, Xs = [], [], [], []
    for g in order:
        members = np.flatnonzero(inverse == g)
        vals = yv[members]
        ys.append(float(np.median(vals)))
        # variance of the group median ~ var / m (NaN for a single measurement: unknown)
        noise.append(float(np.var(vals, ddof=1) / len(vals)) if len(vals) > 1 else math.nan)
        names.append(str(formulas[members[0]]) if features == "composition" or group_by == "formula"
                     else str(members[0]))
        Xs.append(X[members[0]])
    sign = -1.0 if minimize else 1.0
    return Oracle(np.asarray(Xs), sign * np.asarray(ys), names, np.asarray(noise), sign, target,
                  {"csv": str(path), "rows": int(keep.sum()), "items": len(ys), "features": features,
                   "group_by": group_by})
