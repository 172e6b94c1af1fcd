"""Temperature dependence from bulk and GB Arrhenius laws; the equal and the crossover temperatures.

D_i(T) = D0_i exp(-Ea_i / kT). With the same carrier density in grain and boundary (Nernst-Einstein,
sigma = n q^2 D / kT), sigma_eff / sigma_bulk depends on T only through r(T) = D_gb / D_bulk, so:
  Te: r(Te) = 1, the grain and GB conductivities are equal (closed form);
  Tc: the transition from grain- to GB-dominated conduction: GBs carry half of the mean current
      (the fast-GB side, r > 1); depends on the microstructure;
  T_gb_limited: on the slow-GB side (r < 1), GBs hold half of the resistance (dissipation).
Both are found by bisection on log r, one solve per step (each share is monotonic on its side).
Definitions follow Heo, Wood et al., npj Comput. Mater. 7, 214 (2021), doi 10.1038/s41524-021-00681-8.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from perovscreen.core.errors import InputError
from perovscreen.core.results import Result
from perovscreen.mesoscale.tensors import check_positive

K_B = 8.617333262e-5  # eV/K

# The LLZO regression case of the npj 2021 study (Fig. 1): bulk and GB diffusivities
LLZO_BULK = (3.72e-4, 0.28)  # D0 cm^2/s, Ea eV
LLZO_GB = (10.0, 0.52)


def diffusivity(T, D0: float, Ea: float):
    return D0 * np.exp(-Ea / (K_B * np.asarray(T, float)))


def equal_temperature(bulk=LLZO_BULK, gb=LLZO_GB) -> float:
    """Te where D_gb(Te) = D_bulk(Te); nan when the two laws never cross at T > 0."""
    (d0b, eab), (d0g, eag) = _law(bulk, "bulk"), _law(gb, "GB")
    num, den = eag - eab, K_B * math.log(d0g / d0b)
    return num / den if den != 0 and num / den > 0 else math.nan


def _law(p, name):
    if len(p) != 2:
        raise InputError(f"{name} Arrhenius law: expected (D0, Ea), got {p!r}")
    d0 = check_positive(p[0], f"{name} D0")
    ea = float(p[1])
    if not math.isfinite(ea) or ea < 0:
        raise InputError(f"{name} Ea must be finite and >= 0 eV, got {p[1]!r}")
    return d0, ea


@dataclass
class TemperatureSweep(Result):
    """D_eff(T) in units of D (cm^2/s; times n q^2 / kT for S/cm), the GB shares of resistance and of
    current, and the temperatures Te, Tc, T_gb_limited (see module doc)."""

    TYPE = "MesoTemperatureSweep"

    temperatures: list
    D_bulk: list
    D_gb: list
    D_eff: list
    gb_share: list
    gb_current: list
    Te: float
    Tc: float | None
    ratio_at_Tc: float | None
    T_gb_limited: float | None
    ratio_at_gb_limited: float | None
    bulk_law: list
    gb_law: list
    notes: list = field(default_factory=list)


def _temperature_of_ratio(r, d0b, eab, d0g, eag):
    """T with D_gb/D_bulk = r: (d0g/d0b) exp(-(eag - eab)/kT) = r."""
    den = math.log(d0g / d0b) - math.log(r)
    t = (eag - eab) / (K_B * den) if den != 0 else -1.0
    return t if t > 0 else None


def _bisect(f, lo, hi, tol):
    """Root of an increasing f on [lo, hi] (None when it does not change sign)."""
    flo, fhi = f(lo), f(hi)
    if flo > 0 or fhi < 0:
        return None
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if f(mid) < 0 else (lo, mid)
    return 0.5 * (lo + hi)


def temperature_sweep(solve, temperatures, bulk=LLZO_BULK, gb=LLZO_GB, find_tc: bool = True,
                      tol_log10: float = 0.01) -> TemperatureSweep:
    """solve(D_bulk, D_gb) -> (D_eff, GB resistance share, GB current share) for one microstructure,
    evaluated at each temperature; then Tc and T_gb_limited by bisection on log10 r."""
    (d0b, eab), (d0g, eag) = _law(bulk, "bulk"), _law(gb, "GB")
    T = [check_positive(t, "temperature") for t in temperatures]
    db, dg = diffusivity(T, d0b, eab), diffusivity(T, d0g, eag)
    out = [solve(float(b), float(g)) for b, g in zip(db, dg)]
    Te = equal_temperature((d0b, eab), (d0g, eag))
    tc = rc = tl = rl = None
    notes = []
    if find_tc:
        x = _bisect(lambda lr: solve(1.0, 10.0 ** lr)[2] - 0.5, 0.0, 8.0, tol_log10)
        if x is None:
            notes.append("GBs never carry half the current for 1 < D_gb/D_bulk < 1e8: no Tc")
        else:
            rc = 10.0 ** x
            tc = _temperature_of_ratio(rc, d0b, eab, d0g, eag)
        x = _bisect(lambda lr: 0.5 - solve(1.0, 10.0 ** lr)[1], -8.0, 0.0, tol_log10)
        if x is None:
            notes.append("GBs never hold half the resistance for 1e-8 < D_gb/D_bulk < 1")
        else:
            rl = 10.0 ** x
            tl = _temperature_of_ratio(rl, d0b, eab, d0g, eag)
    return TemperatureSweep(T, db.tolist(), dg.tolist(), [o[0] for o in out], [o[1] for o in out],
                            [o[2] for o in out], Te, tc, rc, tl, rl, [d0b, eab], [d0g, eag], notes)
