"""Elastic constants: wall time per structure of perovscreen's stress-strain fit vs an atomate-style loop,
same potential, same run, and how far their tensors differ.

    python benchmarks/advanced_speed.py [--potential chgnet] [--structures LiF-rocksalt,Li3OCl] [--repeat 3]

perovscreen: one relaxed cell; six independent Green-Lagrange strains at +-0.5% and +-1% (24 cells); the atoms
relaxed in each strained cell (one evaluation where symmetry already zeroes the forces); pymatgen's
independent-strain fit, symmetrised over the point group.
atomate-style: pymatgen's DeformedStructureSet default (normal deformations +-0.5% and +-1%, shear
deformations +-3% and +-6%, over 3 + 3 components: 24 cells; the shear deformation gradients are
non-symmetric),
each cell converted to ASE and relaxed from scratch by a fresh optimizer with the positions re-read from
pymatgen; the zero-strain stress subtracted; pymatgen's pseudo-inverse fit over all 24 (Moore-Penrose), then
pymatgen's conversion to the IEEE frame (with its symmetry fit) so the two tensors compare element by element.
Both start from the same relaxed cell. Wall times depend on the load: the script prints `uptime` beside them.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np


def structure(name):
    from perovscreen.potentials.references import REFERENCES_BY_NAME, build_reference
    from perovscreen.structures.examples import get_example

    if name in REFERENCES_BY_NAME:
        return build_reference(REFERENCES_BY_NAME[name])
    s = get_example(name)
    s.remove_oxidation_states()
    return s


def atomate_style(s, calc, fmax=0.005):
    """24 DeformedStructureSet cells, each relaxed from scratch (ASE BFGS), pseudo-inverse fit."""
    import warnings

    from ase.optimize import BFGS
    from ase.units import GPa
    from pymatgen.analysis.elasticity.strain import DeformedStructureSet
    from pymatgen.core.elasticity.elastic import ElasticTensor
    from pymatgen.io.ase import AseAtomsAdaptor

    atoms0 = AseAtomsAdaptor.get_atoms(s)
    atoms0.calc = calc
    eq = atoms0.get_stress(voigt=False) / GPa
    dss = DeformedStructureSet(s)
    strains, stresses = [], []
    for d, ds in zip(dss.deformations, dss):
        a = AseAtomsAdaptor.get_atoms(ds)
        a.calc = calc
        BFGS(a, logfile=None).run(fmax=fmax, steps=300)
        strains.append(d.green_lagrange_strain)
        stresses.append(a.get_stress(voigt=False) / GPa - eq)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "pseudo-inverse fitting ... use with caution" (about VASP data)
        fit = ElasticTensor.from_pseudoinverse(strains, stresses)
    return fit.convert_to_ieee(s), len(dss)  # pymatgen's standard frame (with its symmetry fit), as ours


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--potential", default="chgnet")
    ap.add_argument("--structures", default="LiF-rocksalt,Li3OCl")
    ap.add_argument("--repeat", type=int, default=3, help="timed repetitions of each (median)")
    args = ap.parse_args()

    from perovscreen.potentials.calculators import get_calculator
    from perovscreen.potentials.elastic import elastic_constants
    from perovscreen.potentials.tasks import relax

    calc = get_calculator(args.potential)
    print(f"potential {args.potential}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for name in args.structures.split(","):
        s0 = structure(name)
        s = relax(s0, calc, fmax=0.005, steps=300, optimizer="BFGS").structure  # shared start, not timed
        t_ours, t_theirs = [], []
        for _ in range(args.repeat):  # alternated, so a change of load hits both alike; medians reported
            t = time.perf_counter()
            ours = elastic_constants(s, calc, relax_first=False)
            t_ours.append(time.perf_counter() - t)
            t = time.perf_counter()
            theirs, n = atomate_style(s, calc)
            t_theirs.append(time.perf_counter() - t)
        t_ours, t_theirs = float(np.median(t_ours)), float(np.median(t_theirs))
        theirs = np.asarray(theirs.voigt)
        c = np.asarray(ours.c_ij)
        diff = np.abs(c - theirs).max()
        print(f"{name} ({len(s)} atoms): perovscreen {t_ours:.1f} s ({ours.n_calculations} evaluations), "
              f"atomate-style {t_theirs:.1f} s ({n} cells); ratio {t_theirs / t_ours:.2f}; "
              f"max |C_ij difference| {diff:.2f} GPa; C11 C12 C44 ours {c[0, 0]:.1f} {c[0, 1]:.1f} {c[3, 3]:.1f}, "
              f"theirs {theirs[0, 0]:.1f} {theirs[0, 1]:.1f} {theirs[3, 3]:.1f} GPa; load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
