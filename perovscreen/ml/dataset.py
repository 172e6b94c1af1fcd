"""Training tables: descriptors + targets from OBELiX (and optionally Liverpool), with groups.

Targets
- log10_sigma: log10 of the room-temperature conductivity (S/cm). Upper-bound rows ("<1E-10") are
  censored: their target is NaN (never regressed on) and `censor_bound` holds the bound, used only for
  inequality checks (is the prediction / interval below the bound?).
- Ea: activation energy (eV), Laskowski et al. join (238 rows).
- n_li_sites: number of crystallographically distinct Li sites in the CIF's asymmetric unit (rows with a
  CIF that has Li).
Groups: reduced fractional composition (3 decimals), so duplicates never straddle CV folds (the easy
split). Clusters: same paper or near-duplicate composition, connected (`ml.cv.cluster_labels`; the hard,
leave-cluster-out split).
"""
from __future__ import annotations

import hashlib
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from perovscreen.data import load_liverpool, load_obelix
from perovscreen.features.composition import NAMES as COMPOSITION_NAMES, featurize_compositions
from perovscreen.features.descriptors import STRUCTURE_NAMES, compute_descriptors
from perovscreen.features.formula import parse_formula
from perovscreen.ml.cv import cluster_labels

TARGETS = ("log10_sigma", "Ea", "n_li_sites")
UNITS = {"log10_sigma": "log10(S/cm)", "Ea": "eV", "n_li_sites": "count"}


def composition_group(formula: str, decimals: int = 3) -> str:
    """Reduced fractional composition key, e.g. 'Cl:0.2 Li:0.6 O:0.2'."""
    parts = parse_formula(formula)
    tot = sum(a for _, a in parts)
    return " ".join(f"{e}:{a / tot:.{decimals}f}" for e, a in sorted(parts))


def count_li_sites(cif_path: str) -> float:
    """Number of Li rows in the CIF's _atom_site loop (distinct Li sites); NaN if none or unreadable."""
    from pymatgen.io.cif import CifFile

    try:
        block = next(iter(CifFile.from_file(cif_path).data.values()))
        symbols = block.data.get("_atom_site_type_symbol") or block.data.get("_atom_site_label") or []
    except Exception:  # noqa: BLE001  unreadable CIF -> missing target
        return math.nan
    n = sum(1 for s in symbols if str(s).rstrip("0123456789+-.") == "Li")
    return float(n) if n else math.nan


def _read_structure(path: str):
    from pymatgen.core import Structure

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Structure.from_file(path)


@dataclass
class TrainingTable:
    X: pd.DataFrame
    Y: pd.DataFrame
    groups: np.ndarray
    ids: list
    formulas: list
    censor_bound: np.ndarray  # NaN unless the log10_sigma row is an upper bound
    source: dict = field(default_factory=dict)
    evaluate: np.ndarray | None = None  # rows scored in CV (False for auxiliary training-only rows)
    clusters: np.ndarray | None = None  # leave-cluster-out groups (hard split); default: from the formulas

    def __post_init__(self):
        if self.evaluate is None:
            self.evaluate = np.ones(len(self.X), bool)
        if self.clusters is None:
            self.clusters = cluster_labels(self.formulas) if self.formulas else np.zeros(0, int)

    def split_groups(self, split: str = "composition") -> np.ndarray:
        """CV groups: 'composition' (reduced composition, easy) or 'cluster' (leave-cluster-out, hard)."""
        if split not in ("composition", "cluster"):
            raise ValueError(f"split must be 'composition' or 'cluster', got {split!r}")
        return self.groups if split == "composition" else self.clusters

    def subset(self, mask) -> "TrainingTable":
        mask = np.asarray(mask)
        return TrainingTable(self.X[mask].reset_index(drop=True), self.Y[mask].reset_index(drop=True),
                             self.groups[mask], [i for i, m in zip(self.ids, mask) if m],
                             [f for f, m in zip(self.formulas, mask) if m], self.censor_bound[mask], self.source,
                             self.evaluate[mask], self.clusters[mask])

    def data_hash(self) -> str:
        h = hashlib.sha256()
        h.update(pd.util.hash_pandas_object(self.X, index=False).values.tobytes())
        h.update(pd.util.hash_pandas_object(self.Y, index=False).values.tobytes())
        return h.hexdigest()


def obelix_table(root=None, structures: bool = False, bvse: bool = True, cache=None,
                 with_liverpool: bool = False) -> TrainingTable:
    """OBELiX training split as descriptors + targets. With `structures`, only rows with a CIF that has
    Li are kept and structure descriptors are added; otherwise composition descriptors for every row.
    `with_liverpool` appends Liverpool near-room-temperature rows (composition only, log10_sigma only)."""
    df = load_obelix(root)
    if structures:
        df = df[df["has_cif"] & df["cif_has_li"].astype(str).str.lower().eq("true")].reset_index(drop=True)
    X = pd.DataFrame(featurize_compositions(df["formula"]), columns=list(COMPOSITION_NAMES))
    if structures:
        rows = []
        for p in df["cif_path"]:
            try:
                d = compute_descriptors(_read_structure(p), cache=cache, bvse=bvse)
                rows.append([d[k] for k in STRUCTURE_NAMES])
            except Exception:  # noqa: BLE001  unreadable CIF -> NaN structure features
                rows.append([math.nan] * len(STRUCTURE_NAMES))
        X = pd.concat([X, pd.DataFrame(rows, columns=list(STRUCTURE_NAMES))], axis=1)
    y = df["log10_sigma"].astype(float).where(~df["censored"])
    Y = pd.DataFrame({"log10_sigma": y, "Ea": pd.to_numeric(df["activation_energy_eV"], errors="coerce"),
                      "n_li_sites": [count_li_sites(p) if isinstance(p, str) else math.nan for p in df["cif_path"]]})
    bound = np.where(df["censored"], df["log10_sigma"].astype(float), np.nan)
    src = {"obelix": df.attrs.get("source_file"), "obelix_sha256": df.attrs.get("sha256")}
    table = TrainingTable(X, Y, np.array([composition_group(f) for f in df["formula"]]), df["id"].tolist(),
                          df["formula"].tolist(), bound, src,
                          clusters=cluster_labels(df["formula"], df["doi"] if "doi" in df else None))
    if with_liverpool:
        table = _append_liverpool(table, root, list(df["doi"]) if "doi" in df else None)
    return table


def _append_liverpool(table: TrainingTable, root, papers=None) -> TrainingTable:
    lv = load_liverpool(root, near_room_temperature=True)
    ok = []
    for f in lv["formula"]:
        try:
            parse_formula(f)
            ok.append(True)
        except ValueError:
            ok.append(False)
    lv = lv[ok].reset_index(drop=True)
    Xl = pd.DataFrame(featurize_compositions(lv["formula"]), columns=list(COMPOSITION_NAMES))
    Xl = Xl.reindex(columns=table.X.columns)
    Yl = pd.DataFrame({"log10_sigma": lv["log10_sigma"].astype(float)}).reindex(columns=table.Y.columns)
    src = dict(table.source, liverpool=lv.attrs.get("source_file"), liverpool_rows=len(lv))
    formulas = table.formulas + lv["formula"].tolist()
    papers = (papers or [None] * len(table.formulas)) + [None] * len(lv)
    return TrainingTable(pd.concat([table.X, Xl], ignore_index=True), pd.concat([table.Y, Yl], ignore_index=True),
                         np.concatenate([table.groups, [composition_group(f) for f in lv["formula"]]]),
                         table.ids + lv["id"].tolist(), formulas,
                         np.concatenate([table.censor_bound, np.full(len(lv), np.nan)]), src,
                         np.concatenate([table.evaluate, np.zeros(len(lv), bool)]), cluster_labels(formulas, papers))
