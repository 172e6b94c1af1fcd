"""OBELiX (Therrien et al., arXiv:2502.14234, CC-BY-4.0): measured room-temperature Li conductivities.

Upper-bound rows (`sigma_is_upper_bound`, e.g. "<1E-10") are censored: `log10_sigma` holds the bound,
not a measurement, and `censored` is True. Models exclude them from regression targets and use them as
inequality checks only (see perovscreen.ml.dataset).
"""
from __future__ import annotations

import hashlib
import io
import tarfile
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd

from perovscreen.core.paths import dataset_file
from perovscreen.core.errors import InputError

OBELIX_COMMIT = "4eaac889809dd489e3bae468c45d5c0e02b9147a"
_BASE = f"https://raw.githubusercontent.com/NRC-Mila/OBELiX/{OBELIX_COMMIT}/data/downloads"
OBELIX_URL = f"{_BASE}/train.csv"  # the training split only: never tune on the test split
OBELIX_CIFS_URL = f"{_BASE}/train_cifs.tar.gz"
CSV_NAME = "obelix_train.csv"
UPSTREAM_NAME = "train.csv"
_UPSTREAM_COLUMNS = {"ID": "id", "Reduced Composition": "formula", "True Composition": "cell_composition",
                     "Ionic conductivity (S cm-1)": "sigma_raw", "Space group #": "space_group_number",
                     "Family": "family", "DOI": "doi"}
REQUIRED = ("id", "formula", "log10_sigma", "sigma_is_upper_bound")


def load_obelix(root=None) -> pd.DataFrame:
    """Read the OBELiX training table; adds `censored`, `cif_path` (absolute, or None) and `has_cif`."""
    try:
        path = dataset_file("obelix", CSV_NAME, root)
        df = pd.read_csv(path)
    except InputError:
        try:
            path = dataset_file("obelix", UPSTREAM_NAME, root)
        except InputError:
            raise InputError(f"OBELiX: neither {CSV_NAME} nor upstream {UPSTREAM_NAME} found "
                             f"(root={root!r}; see perovscreen.data.download_obelix)") from None
        df = _from_upstream(pd.read_csv(path), path.parent)
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise InputError(f"{path}: missing columns {missing}")
    df["censored"] = df["sigma_is_upper_bound"].astype(str).str.lower().eq("true")
    sf = df["structure_file"] if "structure_file" in df else pd.Series([None] * len(df))
    df["cif_path"] = [str(path.parent / s) if isinstance(s, str) and s else None for s in sf]
    df["has_cif"] = df["cif_path"].notna()
    df.attrs["source_file"] = str(path)
    df.attrs["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return df


def _from_upstream(raw: pd.DataFrame, folder: Path) -> pd.DataFrame:
    """Map the upstream OBELiX release table onto the columns of obelix_train.csv."""
    df = raw.rename(columns=_UPSTREAM_COLUMNS)
    if "sigma_raw" not in df or "id" not in df:
        raise InputError("OBELiX upstream table: expected columns 'ID' and 'Ionic conductivity (S cm-1)'")
    text = df.pop("sigma_raw").astype(str).str.strip()
    df["sigma_is_upper_bound"] = text.str.startswith("<")
    df["sigma_rt_S_cm"] = pd.to_numeric(text.str.lstrip("<").str.strip(), errors="coerce")
    df["log10_sigma"] = np.log10(df["sigma_rt_S_cm"])
    df["formula"] = df["formula"].astype(str).str.replace(" ", "", regex=False)
    df["structure_file"] = [f"cifs/{i}.cif" if (folder / "cifs" / f"{i}.cif").is_file() else None for i in df["id"]]
    return df


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as r:  # noqa: S310 (user-requested download)
        return r.read()


def download_obelix(dest, url: str = OBELIX_URL, cifs_url: str | None = OBELIX_CIFS_URL, fetch=_fetch) -> Path:
    """Download the public OBELiX training split (table + randomised CIFs) into `dest`, only when asked.

    Writes `dest/train.csv` (upstream columns; `load_obelix(dest)` maps them) and, if `cifs_url`, the CIFs
    into `dest/cifs/`. `url` may be any URL urllib understands (file:// for a local mirror).
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    data = fetch(url)
    if not data.strip():
        raise InputError(f"download_obelix: empty response from {url}")
    (dest / UPSTREAM_NAME).write_bytes(data)
    if cifs_url:
        blob = fetch(cifs_url)
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:*") as tar:
            members = [m for m in tar.getmembers() if m.isfile() and m.name.endswith(".cif")]
            (dest / "cifs").mkdir(exist_ok=True)
            for m in members:  # flatten, never trust member paths
                (dest / "cifs" / Path(m.name).name).write_bytes(tar.extractfile(m).read())
    return dest / UPSTREAM_NAME
