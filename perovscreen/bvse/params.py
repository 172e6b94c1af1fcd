"""softBV parameter table (Chen & Adams 2017; Chen, Wong & Adams 2019), shipped in data/softbv_params.json."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from perovscreen.core.errors import InputError

DATA_FILE = Path(__file__).parent / "data" / "softbv_params.json"


def ion_key(symbol: str, charge: float) -> str:
    """'Li', 1 -> 'Li+1'; fractional (mixed-valence) charges are rounded to the nearest integer."""
    return f"{symbol}{int(round(charge)):+d}"


@dataclass(frozen=True)
class PairParams:
    r0: float    # bond-valence R0 (A)
    b: float     # softness b (A); alpha = 1/b
    rmin: float  # Morse minimum distance (A)
    d0: float    # bond-breaking energy D0 (eV)


class SoftBVTable:
    def __init__(self, doc: dict):
        self.doc = doc
        self.pairs = doc["pairs"]
        self.radii = doc["covalent_radii"]
        self.quantum = doc["principal_quantum_number"]

    def mobile_charges(self, symbol: str) -> list[int]:
        return sorted(int(k[len(symbol):]) for k in self.pairs if k[len(symbol):][:1] in "+-"
                      and k[: len(symbol)] == symbol)

    def pair(self, mobile: str, counter: str) -> PairParams:
        try:
            return PairParams(*self.pairs[mobile][counter])
        except KeyError:
            raise InputError(f"no softBV parameters for the pair {mobile}/{counter}") from None

    def radius(self, symbol: str, charge: float) -> float:
        key = ion_key(symbol, charge)
        if key in self.radii:
            return self.radii[key]
        # softBV radii are per element apart from anion/cation forms: fall back on a same-sign entry
        same_sign = [v for k, v in self.radii.items() if k[: len(symbol)] == symbol
                     and k[len(symbol):][:1] == key[len(symbol)]]
        if not same_sign:
            raise InputError(f"no softBV covalent radius for {key}")
        return same_sign[0]

    def n(self, symbol: str) -> int:
        try:
            return self.quantum[symbol]
        except KeyError:
            raise InputError(f"no principal quantum number for {symbol}") from None

    @property
    def citation(self) -> list[str]:
        return self.doc["citation"]


@lru_cache(maxsize=1)
def load_table(path: str | None = None) -> SoftBVTable:
    with open(path or DATA_FILE) as fh:
        return SoftBVTable(json.load(fh))
