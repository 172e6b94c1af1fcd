"""Composition descriptors, vectorised for screening 10^6 formulas.

- magpie: matminer's ElementProperty "magpie" preset (22 elemental properties x 6 statistics: minimum,
  maximum, range, mean, avg_dev, mode; Ward et al., npj Comput. Mater. 2, 16028 (2016)), reimplemented on
  arrays with matminer's shipped element tables and checked against matminer in tests.
- extras: Li fraction, anion-family fractions, charge-balance oxidation states and electronegativity
  differences (see `EXTRA_NAMES`).

Anion rule (composition only, no structure): O, F, Cl, Br, I are anions; S/Se/Te are anions unless the
O:chalcogen ratio is >= 3 (sulfate/selenate: then cations); N is an anion unless O:N >= 2 (nitrate/nitrite);
H is an anion (H-) only when nothing else is (hydrides, borohydrides, closo-borates).
Mean cation oxidation state = total anion charge / number of cations (charge balance, any mixed valence);
mean_noli_cation_ox = (anion charge - Li count) / non-Li cation count, 0 when Li is the only cation.
"""
from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np

from perovscreen.features.formula import SYMBOLS, parse_formula

MAGPIE_PROPS = ("Number", "MendeleevNumber", "AtomicWeight", "MeltingT", "Column", "Row", "CovalentRadius",
                "Electronegativity", "NsValence", "NpValence", "NdValence", "NfValence", "NValence",
                "NsUnfilled", "NpUnfilled", "NdUnfilled", "NfUnfilled", "NUnfilled", "GSvolume_pa",
                "GSbandgap", "GSmagmom", "SpaceGroupNumber")
MAGPIE_STATS = ("minimum", "maximum", "range", "mean", "avg_dev", "mode")
MAGPIE_NAMES = tuple(f"magpie_{s}_{p}" for p in MAGPIE_PROPS for s in MAGPIE_STATS)
EXTRA_NAMES = ("li_frac", "n_elements", "frac_O", "frac_S", "frac_halide", "frac_N", "li_per_anion",
               "anion_frac", "mean_anion_ox", "mean_cation_ox", "mean_noli_cation_ox",
               "en_anion_minus_cation", "en_anion_minus_li", "en_range_pauling")
NAMES = MAGPIE_NAMES + EXTRA_NAMES
_ANION_OX = {"O": -2, "S": -2, "Se": -2, "Te": -2, "N": -3, "F": -1, "Cl": -1, "Br": -1, "I": -1}
NZ = 104  # rows indexed by Z (0 unused)


@lru_cache(maxsize=1)
def element_tables() -> tuple[np.ndarray, np.ndarray]:
    """(magpie[NZ, 22], pauling[NZ]) from matminer's and pymatgen's shipped data (NaN where unknown)."""
    from matminer.utils.data import MagpieData
    from pymatgen.core.periodic_table import Element

    data = MagpieData().all_elemental_props
    mag = np.full((NZ, len(MAGPIE_PROPS)), np.nan)
    pauling = np.full(NZ, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pymatgen warns for noble gases without Pauling values
        for sym, z in SYMBOLS.items():
            mag[z] = [data[p].get(sym, np.nan) for p in MAGPIE_PROPS]
            pauling[z] = Element(sym).X
    return mag, pauling


def encode(formulas, width: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Padded arrays (Z[n, m], amount[n, m]) with Z=0 and amount=0 as padding."""
    parsed = [parse_formula(f) for f in formulas]
    m = width or max(len(p) for p in parsed)
    z = np.zeros((len(parsed), m), dtype=np.int16)
    a = np.zeros((len(parsed), m))
    for i, p in enumerate(parsed):
        for j, (e, amt) in enumerate(p):
            z[i, j] = SYMBOLS[e]
            a[i, j] = amt
    return z, a


def _magpie(z: np.ndarray, w: np.ndarray, mag: np.ndarray) -> np.ndarray:
    present = w > 0
    v = mag[z]  # n, m, k
    vmask = np.where(present[..., None], v, np.nan)
    with np.errstate(all="ignore"):
        mn = np.nanmin(np.where(present[..., None], v, np.inf), axis=1)
        mx = np.nanmax(np.where(present[..., None], v, -np.inf), axis=1)
        mean = np.einsum("nm,nmk->nk", w, np.nan_to_num(v)) / w.sum(1, keepdims=True)
        dev = np.einsum("nm,nmk->nk", w, np.nan_to_num(np.abs(vmask - mean[:, None, :])))
        nan_any = (np.isnan(v) & present[..., None]).any(1)
        top = np.isclose(w, w.max(1, keepdims=True)) & present
        mode = np.nanmin(np.where(top[..., None], v, np.inf), axis=1)
    mn[~np.isfinite(mn)] = np.nan
    mx[~np.isfinite(mx)] = np.nan
    mode[~np.isfinite(mode)] = np.nan
    for arr in (mean, dev):  # matminer propagates NaN element data into mean and deviation
        arr[nan_any] = np.nan
    out = np.stack([mn, mx, mx - mn, mean, dev, mode], axis=2)  # n, k, 6
    return out.reshape(len(z), -1)


def _extras(z: np.ndarray, a: np.ndarray, pauling: np.ndarray) -> np.ndarray:
    sym = {s: SYMBOLS[s] for s in _ANION_OX}
    amt = {s: (a * (z == zz)).sum(1) for s, zz in sym.items()}
    tot = a.sum(1)
    li = (a * (z == 3)).sum(1)
    ox = np.zeros_like(a)
    for s, zz in sym.items():
        on = z == zz
        if s in ("S", "Se", "Te"):
            on &= (amt["O"] < 3 * amt[s])[:, None]
        elif s == "N":
            on &= (amt["O"] < 2 * amt["N"])[:, None]
        ox[on] = _ANION_OX[s]
    no_anion = ~(ox < 0).any(1)
    ox[(z == 1) & no_anion[:, None]] = -1  # hydrides / closo-borates: H- when nothing else is an anion
    is_an = ox < 0
    is_cat = (~is_an) & (a > 0)
    n_an = (a * is_an).sum(1)
    n_cat = (a * is_cat).sum(1)
    q_an = -(a * ox).sum(1)
    q_an[n_an == 0] = np.nan  # no anion: charge balance undefined
    en = pauling[z]
    with np.errstate(all="ignore"):
        en_an = np.nansum(a * is_an * en, 1) / n_an
        en_cat = np.nansum(a * is_cat * en, 1) / n_cat
        en_ok = np.where(a > 0, en, np.nan)
        cols = [li / tot, (a > 0).sum(1), amt["O"] / tot,
                (amt["S"] + amt["Se"] + amt["Te"]) * (amt["O"] < 3 * (amt["S"] + amt["Se"] + amt["Te"])) / tot,
                (amt["F"] + amt["Cl"] + amt["Br"] + amt["I"]) / tot,
                amt["N"] * (amt["O"] < 2 * amt["N"]) / tot,
                li / n_an, n_an / tot, -q_an / n_an, q_an / n_cat, np.where(n_cat - li > 1e-9, (q_an - li) / (n_cat - li), 0.0),
                en_an - en_cat, en_an - pauling[3], np.nanmax(en_ok, 1) - np.nanmin(en_ok, 1)]
    out = np.stack(cols, axis=1).astype(float)
    out[~np.isfinite(out)] = np.nan
    return out


def featurize_compositions(formulas, chunk: int = 50_000) -> np.ndarray:
    """Descriptor matrix [len(formulas), len(NAMES)] (float32); NaN where undefined (e.g. no anion)."""
    formulas = list(formulas)
    mag, pauling = element_tables()
    out = np.empty((len(formulas), len(NAMES)), dtype=np.float32)
    for s in range(0, len(formulas), chunk):
        z, a = encode(formulas[s:s + chunk])
        w = a / a.sum(1, keepdims=True)
        out[s:s + chunk, :len(MAGPIE_NAMES)] = _magpie(z, w, mag)
        out[s:s + chunk, len(MAGPIE_NAMES):] = _extras(z, a, pauling)
    return out


def composition_descriptors(formula: str) -> dict[str, float]:
    """Descriptor dict of one formula."""
    return dict(zip(NAMES, featurize_compositions([formula])[0].astype(float).tolist()))
