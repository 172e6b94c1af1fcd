"""A Stage: one unit of work described once, run anywhere (serial, process pool, Ray, a funnel, a cluster).

A stage is a name, a version, a frozen parameters dataclass, a run function `run(subject, params)` and
declared resources. Each parameter is a `param(...)` field carrying its default, unit, help text and
whether it is *science* (changes the answer: enters the resume key) or an *execution* option (how or
where it runs: jobs, devices, work and cache folders; never in the key). CLI flags, the funnel's TOML
schema and the defaults table in docs/defaults.md are all generated from these fields.

The resume key is: stage name + version + science parameters + resolved identities (SHA-256 of model
and weight files, calculator and model names, reference-set hashes) + the intake settings.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Callable

from perovscreen.core.errors import InputError
from perovscreen.core.hashing import value_hash

_KINDS = {bool: "bool", int: "int", float: "float", str: "str"}


def param(default, help: str, unit: str = "", science: bool = True, kind: str | None = None,
          choices: tuple | None = None, minimum: float | None = None, exclusive: bool = False,
          maximum: float | None = None, flag: str | None = None, cli: bool = True):
    """A stage parameter field. kind: bool|int|float|str|floats|path (inferred from the default);
    minimum (exclusive when `exclusive`), maximum (inclusive; values beyond it would hang or exhaust
    memory) and choices are checked by `Stage.make`; flag overrides the CLI flag (e.g. '--no-relax' for a
    True default); cli=False keeps it out of the command line."""
    if kind is None:
        kind = "floats" if isinstance(default, tuple) else _KINDS.get(type(default), "str")
    meta = {"help": help, "unit": unit, "science": science, "kind": kind, "choices": choices,
            "minimum": minimum, "exclusive": exclusive, "maximum": maximum, "flag": flag, "cli": cli}
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Resources:
    """What one task needs on a cluster (per subject); a scheduler request is built from it."""
    cores: int = 1
    memory_gb: float = 2.0
    walltime_min: float = 30.0
    gpus: int = 0


@dataclass(frozen=True)
class Stage:
    name: str
    version: int
    params: type                    # frozen dataclass of param(...) fields
    run: Callable                   # run(subject, params) -> Result | dict; raises InputError on bad input
    help: str = ""
    subject: str = "structure"      # structure | composition
    resources: Resources = Resources()
    identities: Callable | None = None  # identities(params) -> {name: hash}: models, weights, reference sets

    # ---- parameters -------------------------------------------------------------------------------
    def fields(self) -> list[dataclasses.Field]:
        return list(dataclasses.fields(self.params))

    def make(self, values: dict | None = None, where: str = "", **overrides):
        """Validated parameters (see `make_params`)."""
        return make_params(self.params, {**(values or {}), **overrides}, where, self.name)

    def science(self, params) -> dict:
        return {f.name: getattr(params, f.name) for f in self.fields() if f.metadata.get("science", True)}

    def execution(self, params) -> dict:
        return {f.name: getattr(params, f.name) for f in self.fields() if not f.metadata.get("science", True)}

    # ---- resume key -------------------------------------------------------------------------------
    def key_parts(self, params, intake: dict | None = None) -> dict:
        """What the result depends on (and nothing about how it runs)."""
        return {"stage": self.name, "version": self.version, "params": self.science(params),
                "identities": self.identities(params) if self.identities else {}, "intake": intake or {}}

    def resume_key(self, params, intake: dict | None = None) -> str:
        return value_hash(self.key_parts(params, intake))

    def add_arguments(self, parser: argparse.ArgumentParser, skip=()) -> None:
        add_param_arguments(parser, self.params, skip)

    def from_args(self, args: argparse.Namespace, **extra):
        return params_from_args(self.params, args, self.name, **extra)


def make_params(cls, values: dict | None = None, where: str = "", label: str = ""):
    """Validated parameters of dataclass `cls`: defaults overlaid with `values`; unknown names, wrong
    types and out-of-range values raise InputError naming the parameter."""
    values = values or {}
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(names))
    prefix = f"{where}: " if where else ""
    label = label or cls.__name__
    if unknown:
        raise InputError(f"{prefix}{label}: unknown parameter(s) {unknown} (known: {', '.join(names)})")
    return cls(**{n: _check(f, values.get(n, f.default), f"{prefix}{label} {n}") for n, f in names.items()})


def add_param_arguments(parser: argparse.ArgumentParser, cls, skip=()) -> None:
    """One flag per parameter of dataclass `cls` (help shows default and unit); flags left unset stay None
    so `params_from_args` can tell them from the defaults."""
    for f in dataclasses.fields(cls):
        m = f.metadata
        if not m.get("cli", True) or f.name in skip:
            continue
        flag = m["flag"] or "--" + f.name.replace("_", "-")
        unit = f" {m['unit']}" if m["unit"] else ""
        hint = f"{m['help']} (default {show_value(f.default)}{unit})"
        if m["kind"] == "bool":
            parser.add_argument(flag, dest=f.name, action="store_false" if f.default else "store_true",
                                default=None, help=m["help"])
        elif m["kind"] == "floats":
            parser.add_argument(flag, dest=f.name, type=float, nargs="+", default=None, help=hint)
        else:
            typ = {"int": int, "float": float}.get(m["kind"], str)
            parser.add_argument(flag, dest=f.name, type=typ, default=None, choices=m["choices"], help=hint)


def params_from_args(cls, args: argparse.Namespace, label: str = "", **extra):
    """Parameters of `cls` from parsed flags (unset flags keep the defaults) and `extra` values."""
    values = {}
    for f in dataclasses.fields(cls):
        v = getattr(args, f.name, None)
        if v is not None:
            values[f.name] = tuple(v) if f.metadata.get("kind") == "floats" else v
    return make_params(cls, {**values, **extra}, "", label)


def show_value(v) -> str:
    if isinstance(v, tuple):
        return " ".join(show_value(x) for x in v)
    return "none" if v is None or v == "" else str(v)


def _check(f: dataclasses.Field, v: Any, name: str):
    m = f.metadata
    kind = m.get("kind", "str")
    if v is None and f.default is None:
        return None
    if kind == "bool":
        ok = isinstance(v, bool)
    elif kind == "int":
        ok = isinstance(v, int) and not isinstance(v, bool)
    elif kind == "float":
        ok = isinstance(v, (int, float)) and not isinstance(v, bool)
        v = float(v) if ok else v
    elif kind == "floats":
        ok = isinstance(v, (list, tuple)) and all(isinstance(x, (int, float)) and not isinstance(x, bool)
                                                 for x in v)
        v = tuple(float(x) for x in v) if ok else v
        if ok and not v:
            raise InputError(f"{name}: give at least one value")
    else:
        ok = isinstance(v, str)
    if not ok:
        raise InputError(f"{name}: expected {kind}, got {v!r}")
    values = v if isinstance(v, tuple) else (v,)
    for x in values:
        if isinstance(x, float) and not math.isfinite(x):
            raise InputError(f"{name}: must be finite, got {x!r}")
        lo = m.get("minimum")
        if lo is not None and isinstance(x, (int, float)) and (x < lo or (m.get("exclusive") and x == lo)):
            raise InputError(f"{name}: must be {'>' if m.get('exclusive') else '>='} {lo}, got {x!r}")
        hi = m.get("maximum")
        if hi is not None and isinstance(x, (int, float)) and x > hi:
            raise InputError(f"{name}: must be <= {hi}, got {x!r}")
    if m.get("choices") and v not in m["choices"]:
        raise InputError(f"{name}: must be one of {', '.join(map(str, m['choices']))}, got {v!r}")
    return v


def defaults_table(stages) -> str:
    """Markdown table of every stage parameter: default, unit, science/execution, help."""
    lines = ["| stage (version) | parameter | default | unit | kind | enters resume key | help |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for s in stages:
        for f in s.fields():
            m = f.metadata
            lines.append(f"| {s.name} (v{s.version}) | `{f.name}` | {show_value(f.default)} | {m['unit']} | {m['kind']} | "
                         f"{'yes' if m['science'] else 'no (execution)'} | {m['help']} |")
    return "\n".join(lines) + "\n"
