"""Typed results that round-trip through JSON, and `Estimate`: the one shape of every uncertain number.

`Result` subclasses are dataclasses; `to_dict()` tags them with "@type" and "@version" so `decode()` can
rebuild the object from the store. Fields marked `transient()` (grids, structures) are not serialised.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import ClassVar

from perovscreen.core.errors import InputError

_TYPES: dict[str, type] = {}


def transient(default=None):
    """A dataclass field kept in memory only (large arrays, live objects): not written by `to_dict`."""
    return field(default=default, repr=False, compare=False, metadata={"transient": True})


def encode(x):
    """A JSON-able value: Results and Estimates become tagged dicts, tuples lists; nan/inf stay floats."""
    if isinstance(x, (Result, Estimate)):
        return x.to_dict()
    if isinstance(x, dict):
        return {str(k): encode(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [encode(v) for v in x]
    if hasattr(x, "item") and getattr(x, "ndim", 1) == 0:  # numpy scalar
        return x.item()
    return x


def json_str(s) -> str:
    """A string as a JSON literal, fast for the common case (printable, nothing to escape)."""
    if s is None:
        return "null"
    if s.isprintable() and '"' not in s and "\\" not in s:
        return f'"{s}"'
    return json.dumps(s)


def decode(x):
    """Inverse of `encode`: tagged dicts back to their classes, recursively."""
    if isinstance(x, dict):
        tag = x.get("@type")
        if tag is not None:
            cls = _TYPES.get(tag)
            if cls is None:
                raise InputError(f"unknown result type {tag!r}")
            return cls.from_dict(x)
        return {k: decode(v) for k, v in x.items()}
    if isinstance(x, list):
        return [decode(v) for v in x]
    return x


class Result:
    """Base of typed stage results (subclasses are dataclasses; set TYPE and VERSION)."""

    TYPE: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if cls.__dict__.get("TYPE"):
            _TYPES[cls.TYPE] = cls

    def to_dict(self) -> dict:
        out = {"@type": self.TYPE, "@version": self.VERSION}
        for f in dataclasses.fields(self):
            if not f.metadata.get("transient"):
                out[f.name] = encode(getattr(self, f.name))
        return out

    @classmethod
    def from_dict(cls, d: dict):
        if d.get("@type", cls.TYPE) != cls.TYPE:
            raise InputError(f"expected a {cls.TYPE} result, got {d.get('@type')!r}")
        if d.get("@version", cls.VERSION) != cls.VERSION:
            raise InputError(f"{cls.TYPE} result version {d.get('@version')} is not {cls.VERSION}; recompute it")
        names = {f.name for f in dataclasses.fields(cls) if f.init and not f.metadata.get("transient")}
        return cls(**{k: decode(v) for k, v in d.items() if k in names})


@dataclass(frozen=True)
class Estimate:
    """A value with an interval: [lower, upper] holds the quantity with probability `level` under `method`
    (e.g. 'conformal', 'ensemble', 'bootstrap', 'bayesian'). `samples` optionally carries draws."""

    TYPE: ClassVar[str] = "Estimate"

    value: float
    lower: float | None = None
    upper: float | None = None
    level: float | None = None
    unit: str = ""
    method: str = ""
    samples: tuple | None = None

    def __post_init__(self):
        if self.level is not None and not 0 < self.level < 1:
            raise InputError(f"Estimate level must lie in (0, 1), got {self.level}")
        if self.lower is not None and self.upper is not None and self.lower > self.upper:
            raise InputError(f"Estimate lower {self.lower} > upper {self.upper}")

    @classmethod
    def normal(cls, mean: float, std: float, level: float = 0.9, **kw) -> "Estimate":
        """mean +- z std, the central interval of a Gaussian with that spread."""
        from scipy.stats import norm

        z = float(norm.ppf(0.5 + level / 2))
        return cls(float(mean), float(mean - z * std), float(mean + z * std), level, **kw)

    @property
    def width(self) -> float:
        return math.nan if self.lower is None or self.upper is None else self.upper - self.lower

    def contains(self, x: float) -> bool:
        return self.lower is not None and self.upper is not None and self.lower <= x <= self.upper

    def to_dict(self) -> dict:
        d = {"@type": self.TYPE, "value": self.value, "lower": self.lower, "upper": self.upper,
             "level": self.level, "unit": self.unit, "method": self.method}
        if self.samples is not None:
            d["samples"] = list(self.samples)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Estimate":
        s = d.get("samples")
        return cls(d["value"], d.get("lower"), d.get("upper"), d.get("level"), d.get("unit", ""),
                   d.get("method", ""), tuple(s) if s is not None else None)


_TYPES[Estimate.TYPE] = Estimate
