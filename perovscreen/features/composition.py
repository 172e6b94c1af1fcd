"""Composition descriptors, vectorised for screening 10^6 formulas.

- magpie: matminer's ElementProperty "magpie" preset (22 elemental properties x 6 statistics: minimum,
  maximum, range, mean, avg_dev, mode; Ward et al., npj Comput. Mater. 2, 16028 (2016)), reimplemented on
  arrays with matminer's shipped element tables and checked against matminer in tests.
- extras: Li fraction, anion-family fractions, charge-balance oxidation states and electronegativity
  differences (`EXTRA_NAMES`), and chemistry descriptors (`CHEM_NAMES`): anion-framework size
  (mean Shannon radius of the anions), mixed-anion and cation-mixing entropies, polyanion formers per
  anion, Li per cation, and the atomic fractions of the framework elements of the common Li-conductor
  families (garnet, NASICON, LGPS, argyrodite, perovskite, halide, hydride).

`featurize_encoded(z, amounts)` is the array entry point (padded atomic numbers and amounts; used by the
chemical-space enumerator); `featurize_compositions(formulas)` encodes strings and calls it in chunks.

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

from numba import njit, prange

from perovscreen.core.errors import InputError
from perovscreen.features.formula import SYMBOLS, encode_formulas

MAGPIE_PROPS = ("Number", "MendeleevNumber", "AtomicWeight", "MeltingT", "Column", "Row", "CovalentRadius",
                "Electronegativity", "NsValence", "NpValence", "NdValence", "NfValence", "NValence",
                "NsUnfilled", "NpUnfilled", "NdUnfilled", "NfUnfilled", "NUnfilled", "GSvolume_pa",
                "GSbandgap", "GSmagmom", "SpaceGroupNumber")
MAGPIE_STATS = ("minimum", "maximum", "range", "mean", "avg_dev", "mode")
MAGPIE_NAMES = tuple(f"magpie_{s}_{p}" for p in MAGPIE_PROPS for s in MAGPIE_STATS)
EXTRA_NAMES = ("li_frac", "n_elements", "frac_O", "frac_S", "frac_halide", "frac_N", "li_per_anion",
               "anion_frac", "mean_anion_ox", "mean_cation_ox", "mean_noli_cation_ox",
               "en_anion_minus_cation", "en_anion_minus_li", "en_range_pauling")
FAMILY_ELEMENTS = ("F", "Cl", "Br", "I", "La", "Ti", "Zr", "Hf", "Ta", "Nb", "Al", "Ga", "Ge", "Si", "Sn", "P",
                   "Y", "Sc", "In", "B", "H")
CHEM_NAMES = ("anion_radius_mean", "n_anion_species", "anion_mix_entropy", "cation_mix_entropy",
              "former_per_anion", "li_per_cation") + tuple(f"frac_el_{e}" for e in FAMILY_ELEMENTS)
NAMES = MAGPIE_NAMES + EXTRA_NAMES + CHEM_NAMES
_ANION_OX = {"O": -2, "S": -2, "Se": -2, "Te": -2, "N": -3, "F": -1, "Cl": -1, "Br": -1, "I": -1}
# Shannon (Acta Cryst. A32, 751 (1976)) radii at CN VI (N3- at CN IV); H- approximate (not tabulated)
_ANION_RADIUS = {"O": 1.40, "S": 1.84, "Se": 1.98, "Te": 2.21, "N": 1.46, "F": 1.33, "Cl": 1.81, "Br": 1.96,
                 "I": 2.20, "H": 1.40}
_FORMERS = ("B", "Si", "Ge", "P", "As")  # tetrahedral polyanion / thio-polyanion formers (+ S, Se as cations)
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


@njit(cache=True)
def _merge(z, a):
    """Per row: unique atomic numbers in order of appearance, amounts summed, non-positive dropped."""
    n, m = z.shape
    zo = np.zeros((n, m), np.int64)
    ao = np.zeros((n, m))
    for i in range(n):
        k = 0
        for j in range(m):
            if a[i, j] <= 0:
                continue
            q = 0
            while q < k and zo[i, q] != z[i, j]:
                q += 1
            if q == k:
                zo[i, k] = z[i, j]
                k += 1
            ao[i, q] += a[i, j]
    return zo, ao


@njit(parallel=True, cache=True)
def _magpie(z, a, mag, out):
    """matminer ElementProperty statistics (min, max, range, mean, avg_dev, mode) into out[:, :6K].
    Mean and avg_dev are NaN if any present element lacks the property (as matminer); min/max/mode skip it."""
    n, m = z.shape
    for i in prange(n):
        tot, wmax = 0.0, 0.0
        for j in range(m):
            tot += a[i, j]
            wmax = max(wmax, a[i, j])
        wmax /= tot
        for k in range(mag.shape[1]):
            mn, mx, mean, mode, nan_any = np.inf, -np.inf, 0.0, np.inf, False
            for j in range(m):
                if a[i, j] > 0:
                    v, w = mag[z[i, j], k], a[i, j] / tot
                    if np.isnan(v):
                        nan_any = True
                        continue
                    mn, mx, mean = min(mn, v), max(mx, v), mean + w * v
                    if abs(w - wmax) <= 1e-8 + 1e-5 * wmax:
                        mode = min(mode, v)
            dev = 0.0
            for j in range(m):
                if a[i, j] > 0 and not np.isnan(mag[z[i, j], k]):
                    dev += a[i, j] / tot * abs(mag[z[i, j], k] - mean)
            if nan_any:
                mean, dev = np.nan, np.nan
            mn = mn if np.isfinite(mn) else np.nan
            mx = mx if np.isfinite(mx) else np.nan
            c = 6 * k
            out[i, c], out[i, c + 1], out[i, c + 2] = mn, mx, mx - mn
            out[i, c + 3], out[i, c + 4], out[i, c + 5] = mean, dev, mode if np.isfinite(mode) else np.nan


def _extras(z: np.ndarray, a: np.ndarray, pauling: np.ndarray, out: np.ndarray) -> None:
    """EXTRA_NAMES + CHEM_NAMES columns of merged (z, a) arrays, written into `out` (NaN if undefined)."""
    amt = _element_amounts(z, a)
    tot = a.sum(1)
    li = (a * (z == 3)).sum(1)
    chalc = amt["S"] + amt["Se"] + amt["Te"]
    ox = np.zeros_like(a)
    rad = np.zeros_like(a)
    for s, ox_s in _ANION_OX.items():
        on = z == SYMBOLS[s]
        if s in ("S", "Se", "Te"):
            on &= (amt["O"] < 3 * amt[s])[:, None]
        elif s == "N":
            on &= (amt["O"] < 2 * amt["N"])[:, None]
        ox[on] = ox_s
        rad[on] = _ANION_RADIUS[s]
    no_anion = ~(ox < 0).any(1)
    hyd = (z == 1) & no_anion[:, None]
    ox[hyd] = -1  # hydrides / closo-borates: H- when nothing else is an anion
    rad[hyd] = _ANION_RADIUS["H"]
    is_an = ox < 0
    is_cat = (~is_an) & (a > 0)
    n_an = (a * is_an).sum(1)
    n_cat = (a * is_cat).sum(1)
    q_an = -(a * ox).sum(1)
    q_an[n_an == 0] = np.nan  # no anion: charge balance undefined
    en = pauling[z]
    formers = sum(amt[s] for s in _FORMERS) + (amt["S"] + amt["Se"]) * (amt["O"] >= 3 * chalc)
    noli_cat = is_cat & (z != 3)
    with np.errstate(all="ignore"):
        en_an = np.nansum(a * is_an * en, 1) / n_an
        en_cat = np.nansum(a * is_cat * en, 1) / n_cat
        en_ok = np.where(a > 0, en, np.nan)
        cols = [li / tot, (a > 0).sum(1), amt["O"] / tot, chalc * (amt["O"] < 3 * chalc) / tot,
                (amt["F"] + amt["Cl"] + amt["Br"] + amt["I"]) / tot,
                amt["N"] * (amt["O"] < 2 * amt["N"]) / tot,
                li / n_an, n_an / tot, -q_an / n_an, q_an / n_cat,
                np.where(n_cat - li > 1e-9, (q_an - li) / (n_cat - li), 0.0),
                en_an - en_cat, en_an - pauling[3], np.nanmax(en_ok, 1) - np.nanmin(en_ok, 1),
                (a * rad).sum(1) / n_an, is_an.sum(1), _entropy(a, is_an), _entropy(a, noli_cat),
                formers / n_an, li / n_cat] + [amt[s] / tot for s in FAMILY_ELEMENTS]
    for c, v in enumerate(cols):
        out[:, c] = np.where(np.isfinite(v), v, np.nan)


_TRACKED = sorted(set(_ANION_OX) | set(_FORMERS) | set(FAMILY_ELEMENTS), key=SYMBOLS.get)
_COLUMN_OF_Z = np.full(NZ, -1, np.int64)
_COLUMN_OF_Z[[SYMBOLS[s] for s in _TRACKED]] = np.arange(len(_TRACKED))


@njit(cache=True)
def _amounts(z, a, column_of_z, k):
    out = np.zeros((z.shape[0], k))
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            c = column_of_z[z[i, j]]
            if c >= 0:
                out[i, c] += a[i, j]
    return out


def _element_amounts(z, a) -> dict[str, np.ndarray]:
    """{symbol: amount per row} for the elements the extras use."""
    m = _amounts(z, a, _COLUMN_OF_Z, len(_TRACKED))
    return {s: m[:, i] for i, s in enumerate(_TRACKED)}


def _entropy(a: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Ideal mixing entropy -sum x ln x (units of k_B per site) over the entries in `mask`."""
    x = a * mask
    with np.errstate(all="ignore"):
        x = x / x.sum(1, keepdims=True)
        return 0.0 - np.where(x > 0, x * np.log(x), 0.0).sum(1)


def featurize_encoded(z, amounts, chunk: int = 65_536) -> np.ndarray:
    """Descriptor matrix float32 [n, len(NAMES)] of padded arrays z (atomic numbers, int [n, m]) and
    amounts (float [n, m], any normalisation; padding: amount 0). Repeated elements in a row are merged.
    NaN where a descriptor is undefined (e.g. no anion)."""
    z, a = np.asarray(z), np.asarray(amounts, dtype=float)
    if z.ndim != 2 or z.shape != a.shape:
        raise InputError(f"featurize_encoded: z and amounts must be 2-D arrays of one shape, got {z.shape}, {a.shape}")
    if not np.issubdtype(z.dtype, np.integer):
        raise InputError(f"featurize_encoded: z must hold integer atomic numbers, got {z.dtype}")
    present = a > 0
    if not np.isfinite(a).all() or ((z < 1) | (z >= NZ))[present].any() or not present.any(1).all():
        raise InputError("featurize_encoded: amounts must be finite, every row needs a positive amount, and "
                         f"atomic numbers of present elements must lie in 1..{NZ - 1}")
    mag, pauling = element_tables()
    out = np.empty((len(z), len(NAMES)), dtype=np.float32)
    k = len(MAGPIE_NAMES)
    for s in range(0, len(z), chunk):
        zz, aa = _merge(z[s:s + chunk].astype(np.int64), a[s:s + chunk])
        _magpie(zz, aa, mag, out[s:s + chunk, :k])
        _extras(zz, aa, pauling, out[s:s + chunk, k:])
    return out


def featurize_compositions(formulas, chunk: int = 100_000) -> np.ndarray:
    """Descriptor matrix [len(formulas), len(NAMES)] (float32); InputError names the first bad formula."""
    formulas = list(formulas)
    out = np.empty((len(formulas), len(NAMES)), dtype=np.float32)
    for s in range(0, len(formulas), chunk):
        out[s:s + chunk] = featurize_encoded(*encode_formulas(formulas[s:s + chunk]))
    return out


def composition_descriptors(formula: str) -> dict[str, float]:
    """Descriptor dict of one formula."""
    return dict(zip(NAMES, featurize_compositions([formula])[0].astype(float).tolist()))
