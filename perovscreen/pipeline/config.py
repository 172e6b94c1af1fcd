"""Screening configuration: defaults, TOML loading and validation with errors that name the key."""
from __future__ import annotations

import copy
import tomllib
from pathlib import Path

from perovscreen.errors import InputError

DEFAULTS: dict = {
    "run": {"out": "results", "ion": "Li", "jobs": 2, "executor": "local", "address": "", "max_atoms": 2000,
            "seed": 0},
    "space": {"keep": 8, "min_length": 7.5, "relax": False, "calculator": "chgnet", "fmax": 0.1, "steps": 200},
    "bvse": {"enabled": True, "resolution": 0.25, "cutoff": 10.0, "keep": 1.0},
    "ml": {"enabled": True, "model": "", "structures": False, "keep": 1.0},
    "stability": {"enabled": True, "calculator": "chgnet", "relax": True, "fmax": 0.1, "steps": 150,
                  "max_e_above_hull": 0.2, "keep": 1.0, "min_length": 7.5},
    "md": {"enabled": True, "top": 1, "temperatures": [1000.0, 1400.0], "time_ps": 2.0, "timestep_fs": 2.0,
           "equilibration_ps": 0.5, "min_length": 7.5, "calculator": "chgnet", "vacancies": 0},
    "ranking": {"weights": {"log10_sigma": 1.0, "barrier": 1.0, "e_above_hull": 1.0}},
}


def _check(section: str, key: str, value, default):
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, (int, float)):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif isinstance(default, str):
        ok = isinstance(value, str)
    elif isinstance(default, list):
        ok = isinstance(value, list) and all(isinstance(v, (int, float)) for v in value)
    else:
        ok = isinstance(value, dict)
    if not ok:
        raise InputError(f"config [{section}] {key}: expected {type(default).__name__}, got {value!r}")


def validate_config(data: dict, where: str = "config") -> dict:
    """Defaults overlaid with `data`; unknown sections or keys and wrong types raise InputError."""
    cfg = copy.deepcopy(DEFAULTS)
    for section, values in (data or {}).items():
        if section not in DEFAULTS:
            raise InputError(f"{where}: unknown section [{section}] (known: {', '.join(DEFAULTS)})")
        if not isinstance(values, dict):
            raise InputError(f"{where}: [{section}] must be a table")
        for key, value in values.items():
            if key not in DEFAULTS[section]:
                raise InputError(f"{where}: unknown key {key!r} in [{section}] "
                                 f"(known: {', '.join(DEFAULTS[section])})")
            _check(section, key, value, DEFAULTS[section][key])
            cfg[section][key] = value
    for section in ("bvse", "ml", "stability"):
        keep = cfg[section]["keep"]
        if keep <= 0:
            raise InputError(f"{where}: [{section}] keep must be > 0 (a fraction <= 1 or a count > 1)")
    if cfg["run"]["executor"] not in ("local", "serial", "ray"):
        raise InputError(f"{where}: [run] executor must be local, serial or ray")
    unknown_w = set(cfg["ranking"]["weights"]) - {"log10_sigma", "barrier", "e_above_hull"}
    if unknown_w:
        raise InputError(f"{where}: [ranking] weights has unknown objective(s) {sorted(unknown_w)}")
    return cfg


def load_config(path: str | Path | None) -> dict:
    if not path:
        return validate_config({})
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None
    return validate_config(data, str(path))


def keep_count(keep: float, n: int) -> int:
    """A fraction (<= 1) of n, rounded up, or an absolute count (> 1)."""
    return min(n, int(keep) if keep > 1 else max(1 if n else 0, int(-(-keep * n // 1))))
