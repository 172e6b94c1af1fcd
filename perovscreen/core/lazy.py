"""Lazy package exports: `from perovscreen.md import run_md` works, but `import perovscreen.cli.md`
(what the CLI does to build its parser) does not pay for torch, numba or scipy.stats."""
from __future__ import annotations

import importlib


def lazy_exports(package: str, mapping: dict[str, str]):
    """A module `__getattr__` resolving each exported name from its submodule on first use."""

    def __getattr__(name: str):
        if name in mapping:
            return getattr(importlib.import_module(f"{package}.{mapping[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
