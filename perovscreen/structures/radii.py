"""Shannon ionic radii and the perovskite tolerance factors (Goldschmidt t, Bartel tau), in one place.

Used by the chemical-space filters (vectorised over candidates) and by the structure descriptors.
"""
from __future__ import annotations

import math
import warnings
from functools import lru_cache

import numpy as np

from perovscreen.core.errors import InputError

_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10,
          "XI": 11, "XII": 12, "XIV": 14}


@lru_cache(maxsize=4096)
def shannon_radius(symbol: str, oxidation: float, cn: int | str = 6, strict: bool = False) -> float:
    """Shannon ionic radius (A) at the tabulated coordination nearest to `cn` (an int or a Roman numeral;
    ties go to the higher coordination), high spin where both are listed. Without a Shannon entry:
    InputError when `strict`, else pymatgen's ionic radius, else the element's average ionic radius."""
    from pymatgen.core import Species

    want = _ROMAN[cn] if isinstance(cn, str) else int(cn)
    sp = Species(symbol, oxidation)
    table = sp.element.data.get("Shannon radii", {}).get(str(int(oxidation)))
    if table:
        key = min(table, key=lambda k: (abs(_ROMAN.get(k, 99) - want), -_ROMAN.get(k, 0)))
        spins = table[key]
        entry = spins.get("High Spin") or spins.get("") or next(iter(spins.values()))
        return float(entry["ionic_radius"])
    if strict:
        raise InputError(f"no Shannon radius for {symbol}{int(oxidation):+d}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = sp.ionic_radius
    return float(r) if r is not None else float(sp.element.average_ionic_radius)


def goldschmidt_t(r_a, r_b, r_x):
    """Goldschmidt tolerance factor t = (rA + rX) / (sqrt(2) (rB + rX)); scalars or arrays."""
    return (np.asarray(r_a) + r_x) / (math.sqrt(2) * (np.asarray(r_b) + r_x))


def bartel_tau(r_a, r_b, r_x, n_a):
    """Bartel et al., Sci. Adv. 5, eaav0693 (2019): tau = rX/rB - nA (nA - (rA/rB)/ln(rA/rB)); defined
    for rA > rB (inf otherwise); tau < 4.18 predicts a perovskite."""
    r_a, r_b = np.asarray(r_a, float), np.asarray(r_b, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = r_a / r_b
        tau = r_x / r_b - n_a * (n_a - ratio / np.log(ratio))
    return np.where(r_a > r_b, tau, np.inf)
