"""Where the datasets live: explicit path, else $PEROVSCREEN_DATA, else ../shared/data."""
from __future__ import annotations

import os
from pathlib import Path

from perovscreen.errors import InputError

ENV_VAR = "PEROVSCREEN_DATA"


def data_root(root: str | os.PathLike | None = None) -> Path:
    """Resolve the data root directory (does not check that it exists)."""
    if root is not None:
        return Path(root)
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    return Path("..") / "shared" / "data"


def dataset_file(name: str, filename: str, root=None) -> Path:
    """Path of `filename` in dataset `name`; `root` may point at the data root or the dataset folder."""
    base = data_root(root)
    for cand in (base / name / filename, base / filename):
        if cand.is_file():
            return cand
    raise InputError(
        f"{name}: {filename} not found under {base.resolve()} "
        f"(pass root=..., set ${ENV_VAR}, or run from a directory with ../shared/data)"
    )
