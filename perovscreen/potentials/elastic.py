"""Elastic constants from stress-strain fits with any ASE calculator (relaxed-ion constants).

The cell is relaxed first (positions and cell). Each of the six Voigt strains is applied
at +-each magnitude as an exact Green-Lagrange strain (pymatgen's deformation of that strain), the atoms are
relaxed inside the strained cell (so the constants are *relaxed-ion* constants, what an ultrasonic
measurement sees), and C_ij is the slope of stress j against strain i (pymatgen
``ElasticTensor.from_independent_strains``, the zero-strain stress included). The tensor is symmetrised
(C = (C + C^T)/2, then averaged over the crystal's point group) and expressed in the crystal's IEEE
standard frame (pymatgen ``convert_to_ieee``: cubic axes along x, y, z), and pymatgen gives the Voigt, Reuss and
Hill moduli. Born stability is the general criterion: every eigenvalue of the 6x6 Voigt matrix positive
(Mouhat and Coudert, Phys. Rev. B 90, 224104 (2014)). Pugh ratio K/G > 1.75: ductile (Pugh, Philos. Mag.
45, 823 (1954)). Stresses follow ASE's sign (tension positive); units GPa.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from ase.units import GPa
from pymatgen.core import Structure

from perovscreen.core.errors import InputError
from perovscreen.core.results import Estimate, Result
from perovscreen.potentials.calculators import backend_name, get_calculator
from perovscreen.potentials.tasks import plain_ordered, relax, to_atoms

PUGH_DUCTILE = 1.75


@dataclass
class ElasticResult(Result):
    """C_ij (GPa, 6x6 Voigt, relaxed-ion), its symmetry-averaged fit spread, and the derived moduli."""
    TYPE = "ElasticResult"

    formula: str
    c_ij: list  # 6x6 GPa, Voigt order xx yy zz yz xz xy, symmetrised, IEEE standard frame of the crystal
    c_spread: list  # 6x6 GPa: half the range of C_ij fitted at each strain magnitude alone
    k_voigt: float
    k_reuss: float
    k_vrh: Estimate  # GPa, interval: range over strain magnitudes
    g_voigt: float
    g_reuss: float
    g_vrh: Estimate
    youngs_modulus: float  # GPa, from K_VRH and G_VRH
    poisson_ratio: float  # from K_VRH and G_VRH
    pugh_ratio: float  # K_VRH / G_VRH
    ductile: bool  # pugh_ratio > 1.75
    eigenvalues: list  # GPa, of the 6x6 Voigt matrix
    born_stable: bool  # every eigenvalue > 0
    asymmetry: float  # GPa, max |C_ij - C_ji| / 2 before symmetrising (a fit-quality check)
    strains: list  # the strain magnitudes used
    relaxed_ions: bool
    backend: str
    n_atoms: int
    seconds: float
    n_calculations: int = 0
    notes: list = field(default_factory=list)


def _stress(atoms) -> np.ndarray:
    """3x3 stress in GPa (ASE sign: tension positive)."""
    return atoms.get_stress(voigt=False) / GPa


def strained_stresses(structure: Structure, calc, strains, relax_ions: bool = True, fmax: float = 0.005,
                      steps: int = 200):
    """(list of pymatgen Strain, list of 3x3 stresses in GPa, number of optimizer steps) for the six Voigt
    strain states at +-each magnitude; atoms relaxed in each strained cell when ``relax_ions``."""
    from ase.optimize import BFGS
    from pymatgen.core.elasticity.strain import Strain

    base = to_atoms(structure)
    out_strains, out_stresses, n_steps = [], [], 0
    for i in range(6):
        for mag in strains:
            for sign in (-1.0, 1.0):
                v = np.zeros(6)
                v[i] = sign * mag
                e = Strain.from_voigt(v)
                atoms = base.copy()
                atoms.set_cell(base.cell[:] @ np.asarray(e.get_deformation_matrix()).T, scale_atoms=True)
                atoms.calc = calc
                if relax_ions and len(atoms) > 1:  # one evaluation when symmetry already zeroes the forces
                    opt = BFGS(atoms, logfile=None)
                    opt.run(fmax=fmax, steps=steps)
                    n_steps += opt.get_number_of_steps()
                out_strains.append(e)
                out_stresses.append(_stress(atoms))
    return out_strains, out_stresses, n_steps


def fit_tensor(strains, stresses, eq_stress, structure: Structure | None = None, symprec: float = 0.01):
    """(ElasticTensor, asymmetry): pymatgen's independent-strain fit, symmetrised and, with a structure,
    averaged over its point group and turned into the IEEE standard frame of the crystal (so C11, C12, C44
    of a cubic crystal are the tabulated ones whatever the orientation of the cell)."""
    from pymatgen.core.elasticity.elastic import ElasticTensor

    raw = np.asarray(ElasticTensor.from_independent_strains(strains, stresses, eq_stress=eq_stress).voigt)
    asym = float(np.abs(raw - raw.T).max() / 2)
    et = ElasticTensor.from_voigt((raw + raw.T) / 2)
    if structure is not None:
        et = et.fit_to_structure(structure, symprec=symprec).convert_to_ieee(structure)
    return et, asym


def elastic_constants(structure: Structure, calculator="chgnet", strains=(0.005, 0.01), relax_first: bool = True,
                      relax_ions: bool = True, fmax: float = 0.005, steps: int = 300, symprec: float = 0.01,
                      **kw) -> ElasticResult:
    """Relaxed-ion elastic constants of ``structure`` with the given potential (see the module docstring).

    strains: Green-Lagrange strain magnitudes (each applied with both signs); relax_first: relax the cell
    before straining; fmax: force threshold of every relaxation (eV/A)."""
    strains = tuple(float(x) for x in strains)
    if not strains or any(not 0 < x < 0.1 for x in strains):
        raise InputError(f"strain magnitudes must lie in (0, 0.1), got {list(strains)}")
    s = plain_ordered(structure)
    calc = get_calculator(calculator, **kw)
    t0 = time.perf_counter()
    calls = 0
    if relax_first:
        r = relax(s, calc, fmax=fmax, steps=steps, optimizer="BFGS")
        s, calls = r.structure, r.steps + 1
    atoms = to_atoms(s)
    atoms.calc = calc
    eq = _stress(atoms)
    es, ss, n = strained_stresses(s, calc, strains, relax_ions, fmax, steps)
    calls += n + 12 * len(strains) + 1
    et, asym = fit_tensor(es, ss, eq, s, symprec)
    per_mag = []  # the fit at each magnitude alone: its spread is the uncertainty we can honestly give
    for mag in strains:
        pick = [k for k, e in enumerate(es) if np.isclose(np.abs(e.voigt).max(), mag)]
        per_mag.append(fit_tensor([es[k] for k in pick], [ss[k] for k in pick], eq, s, symprec)[0])
    c = np.asarray(et.voigt)
    cs = np.stack([np.asarray(t.voigt) for t in per_mag])
    spread = (cs.max(0) - cs.min(0)) / 2

    def est(name):
        vals = [float(getattr(t, name)) for t in per_mag]
        return Estimate(float(getattr(et, name)), min(vals + [float(getattr(et, name))]),
                        max(vals + [float(getattr(et, name))]), None, "GPa", "range over strain magnitudes")

    k, g = float(et.k_vrh), float(et.g_vrh)
    eig = np.linalg.eigvalsh(c)
    notes = [] if relax_ions else ["clamped-ion constants (atoms not relaxed in the strained cells)"]
    return ElasticResult(s.composition.reduced_formula, np.round(c, 4).tolist(), np.round(spread, 4).tolist(),
                         float(et.k_voigt), float(et.k_reuss), est("k_vrh"), float(et.g_voigt), float(et.g_reuss),
                         est("g_vrh"), 9 * k * g / (3 * k + g), (3 * k - 2 * g) / (2 * (3 * k + g)),
                         k / g if g > 0 else float("inf"), bool(g > 0 and k / g > PUGH_DUCTILE),
                         np.round(eig, 4).tolist(), bool(eig.min() > 0), asym, list(strains), relax_ions,
                         backend_name(calc), len(s), time.perf_counter() - t0, calls, notes)


__all__ = ["ElasticResult", "elastic_constants", "fit_tensor", "strained_stresses", "PUGH_DUCTILE"]
