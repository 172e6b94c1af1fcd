"""Provenance: what a result was computed from, with what code, where."""
from __future__ import annotations

import platform
import subprocess
import sys
from datetime import datetime, timezone
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import perovscreen
from perovscreen.core.hashing import file_sha256, value_hash

LIBRARIES = ("numpy", "scipy", "pymatgen", "ase", "numba", "scikit-learn", "lightgbm", "torch", "chgnet",
             "matminer", "ray")


def params_hash(params: dict) -> str:
    """Stable short hash of a parameter dictionary (key order does not matter)."""
    return value_hash(params)


@lru_cache(maxsize=1)
def code_version() -> str:
    """`git describe` of the source tree when run from a checkout, else the package version."""
    root = Path(perovscreen.__file__).resolve().parent.parent
    if (root / ".git").exists():
        try:
            out = subprocess.run(["git", "describe", "--always", "--dirty", "--tags"], cwd=root,
                                 capture_output=True, text=True, timeout=5)
            if out.returncode == 0 and out.stdout.strip():
                return f"{perovscreen.__version__}+g{out.stdout.strip()}"
        except (OSError, subprocess.SubprocessError):
            pass
    return perovscreen.__version__


@lru_cache(maxsize=1)
def library_versions() -> dict:
    versions = {"python": sys.version.split()[0]}
    for lib in LIBRARIES:
        try:
            versions[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            pass
    return versions


def provenance(params: dict | None = None, files=(), inputs: dict | None = None, **extra) -> dict:
    """Provenance record: parameters and their hash, input hashes, code and library versions, host.

    `files` are hashed here; `inputs` maps already-hashed inputs to their SHA-256.
    """
    params = params or {}
    return {
        "params": params,
        "params_hash": params_hash(params),
        "inputs": {**{str(f): file_sha256(f) for f in files}, **(inputs or {})},
        "code_version": code_version(),
        "libraries": library_versions(),
        "host": platform.node(),
        "platform": platform.platform(),
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **extra,
    }
