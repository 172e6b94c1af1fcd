"""Liverpool ionics database (Hargreaves et al., npj Comput. Mater. 9, 9 (2023)): composition-only
conductivities vs temperature. Licence unverified: research use with citation."""
from __future__ import annotations

import pandas as pd

from perovscreen.core.paths import dataset_file

CSV_NAME = "liverpool_ionics.csv"


def load_liverpool(root=None, near_room_temperature: bool = False, parsable_only: bool = True) -> pd.DataFrame:
    """Read the Liverpool table; optionally only 15-35 C rows and only pymatgen-parsable formulas."""
    path = dataset_file("liverpool_ionics", CSV_NAME, root)
    df = pd.read_csv(path)
    df["formula"] = df["formula"].astype(str).str.strip().str.strip('"')
    if parsable_only:
        df = df[df["composition_parsed"].astype(str).str.lower().eq("true")]
    if near_room_temperature:
        df = df[df["is_near_room_temperature"].astype(str).str.lower().eq("true")]
    df = df.reset_index(drop=True)
    df["censored"] = False
    df.attrs["source_file"] = str(path)
    return df
