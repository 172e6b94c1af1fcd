"""Perov-5 (Castelli et al., Energy Environ. Sci. 5, 9034 and 5, 5814 (2012)): 6,058 DFT-relaxed
5-atom perovskites with heat of formation (eV/atom) and GLLB-SC band gaps (eV)."""
from __future__ import annotations

import pandas as pd

from perovscreen.core.paths import dataset_file

CSV_NAME = "perov5.csv"


def load_perov5(root=None, structures: bool = True, limit: int | None = None) -> pd.DataFrame:
    """Rows with `material_id, formula, heat_ref, heat_all, dir_gap, ind_gap, cif` and, if `structures`,
    a `structure` column of pymatgen Structures parsed from the inline CIFs."""
    path = dataset_file("perov5", CSV_NAME, root)
    df = pd.read_csv(path, nrows=limit)
    if structures:
        from pymatgen.core import Structure

        df["structure"] = [Structure.from_str(c, fmt="cif") for c in df["cif"]]
    df.attrs["source_file"] = str(path)
    return df
