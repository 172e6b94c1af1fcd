"""Where things live: the data root (datasets) and the one cache root every cache hangs from."""
from __future__ import annotations

import os
from pathlib import Path

from perovscreen.core.errors import InputError

ENV_VAR = "PEROVSCREEN_DATA"
CACHE_ENV = "PEROVSCREEN_CACHE"
MODELS_ENV = "PEROVSCREEN_MODELS"


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


def cache_root() -> Path:
    """$PEROVSCREEN_CACHE, else ~/.cache/perovscreen."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "perovscreen")


def cache_dir(kind: str, path: str | os.PathLike | None = None) -> Path:
    """A cache folder: `path` when given, else <cache root>/<kind> (descriptors, references, embeddings)."""
    return Path(path) if path else cache_root() / kind


def models_root() -> Path:
    """$PEROVSCREEN_MODELS, else <cache root>/models (where training writes models)."""
    return Path(os.environ.get(MODELS_ENV) or cache_root() / "models")
