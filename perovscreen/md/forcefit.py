"""Rigid-ion Buckingham + Coulomb potential for Li3OCl force-matched to CHGNet 0.3.0.

Reference set: CHGNet energies and forces of 2x2x2 Li3OCl cells (perfect, strained, with one LiCl Schottky
pair, short Langevin MD at 600-1400 K, a vacancy-hop band), cached as npz. Model: charges s * (Li +1, O -2,
Cl -1), Buckingham A exp(-r/rho) - C/r^6 truncated at 10 A (no Li-Li short range, C only between anions)
and Ewald Coulomb -- the functional form `engine_lammps._forcefield` gives LAMMPS (buck/coul/long + ewald).
Coulomb of unit charges is computed once per configuration (it scales as s^2); the fit is
scipy least_squares on forces plus per-atom energies relative to each cell type's mean.

    python -m perovscreen.md.forcefit --out perovscreen/md/data/li3ocl_chgnet.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from pymatgen.io.ase import AseAtomsAdaptor

from perovscreen.structures.examples import get_example

DATA = Path(__file__).parent / "data"
Z = {"Li": 1.0, "O": -2.0, "Cl": -1.0}  # formal charges; the fitted charges are s * Z (neutral for any s)
PAIRS = (("Li", "O"), ("Li", "Cl"), ("O", "O"), ("O", "Cl"), ("Cl", "Cl"))
DISPERSIVE = (("O", "O"), ("O", "Cl"), ("Cl", "Cl"))  # C > 0 only between anions: no Li collapse
CUTOFF = 10.0
KE = 14.399645  # e^2 / (4 pi eps0) in eV A
A_EXP = get_example("Li3OCl").lattice.a  # 3.9090 A, Zhao & Daemen, JACS 134, 15042 (2012)
# start: Li-O close to Catlow-type oxide values, anion pairs soft; s free in [0.5, 1]
X0 = {"s": 0.8, ("Li", "O"): (600.0, 0.30, 0.0), ("Li", "Cl"): (1200.0, 0.30, 0.0), ("O", "O"): (2000.0, 0.30, 20.0),
      ("O", "Cl"): (2000.0, 0.30, 20.0), ("Cl", "Cl"): (2000.0, 0.33, 30.0)}


# ---------------------------------------------------------------- reference configurations (CHGNet)
def li3ocl(n: int = 2, a: float | None = None) -> Atoms:
    """The built-in Li3OCl example (measured a) as an n x n x n ASE cell, optionally at lattice parameter a."""
    s = get_example("Li3OCl")
    s.remove_oxidation_states()
    cell = AseAtomsAdaptor.get_atoms(s)
    if a is not None:
        cell.set_cell([a] * 3, scale_atoms=True)
    return cell.repeat(n)


def schottky(atoms: Atoms, seed: int = 0) -> tuple[Atoms, np.ndarray]:
    """Remove one Li and one Cl (a LiCl Schottky pair, seeded sites); returns (cell, the Li vacancy position)."""
    rng = np.random.default_rng(seed)
    sym = np.array(atoms.get_chemical_symbols())
    li, cl = rng.choice(np.where(sym == "Li")[0]), rng.choice(np.where(sym == "Cl")[0])
    vac = atoms.positions[li].copy()
    out = atoms.copy()
    del out[[li, cl]]
    return out, vac


def hop_band(atoms: Atoms, vac: np.ndarray, n_images: int = 7) -> list[Atoms]:
    """IDPP band of the nearest Li jumping into the vacancy at `vac` (endpoints included)."""
    from ase.mep import NEB

    disp = atoms.positions - vac
    frac = np.linalg.solve(atoms.cell.T, disp.T).T
    disp = (frac - np.round(frac)) @ atoms.cell
    d = np.linalg.norm(disp, axis=1)
    d[np.array(atoms.get_chemical_symbols()) != "Li"] = np.inf
    j = int(np.argmin(d))
    end = atoms.copy()
    end.positions[j] -= disp[j]
    images = [atoms.copy() for _ in range(n_images + 1)] + [end]
    band = NEB(images, method="improvedtangent")
    band.interpolate(method="idpp", mic=False)
    return images


def reference_set(path: Path, seed: int = 0, md_temps=(600.0, 1000.0, 1400.0), md_steps: int = 300,
                  log=print) -> dict:
    """CHGNet-labelled configurations, computed once and cached in `path` (npz). About 1000 CHGNet calls
    (~5 min on one core). The last 20% of every MD run is held out (`test`): later, less correlated frames."""
    path = Path(path)
    if path.exists():
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    import torch
    from ase import units
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

    from perovscreen.potentials import get_calculator

    torch.set_num_threads(1)
    calc = get_calculator("chgnet")
    rng = np.random.default_rng(seed)
    confs = []  # (atoms, group, test)

    def label(at, group, test=False):
        at = at.copy()
        at.calc = calc
        confs.append((at.get_chemical_symbols(), at.positions.copy(), np.array(at.cell), at.get_potential_energy(),
                      at.get_forces().copy(), group, test))

    perfect = li3ocl(2)
    for strain in (-0.02, -0.01, 0.0, 0.01, 0.02):  # volume -6 .. +6 %: the equation of state
        for k in range(2):
            at = perfect.copy()
            at.set_cell(at.cell * (1 + strain), scale_atoms=True)
            at.positions += rng.normal(0, 0.04, at.positions.shape) * (strain != 0 or k)
            label(at, "perfect")
    vcell, vac = schottky(perfect, seed)
    for k, im in enumerate(hop_band(vcell, vac)):  # the migration path itself, plain and rattled
        label(im, "schottky")
        im.positions += rng.normal(0, 0.03, im.positions.shape)
        label(im, "schottky")
    runs = [(vcell, t, md_steps, "schottky") for t in md_temps] + [(perfect, 800.0, md_steps // 3, "perfect")]
    for start, temp, steps, group in runs:
        t0 = time.perf_counter()
        at = start.copy()
        at.calc = calc
        MaxwellBoltzmannDistribution(at, temperature_K=temp, rng=rng)
        dyn = Langevin(at, 2.0 * units.fs, temperature_K=temp, friction=0.02, rng=rng)
        warm = 40
        dyn.run(warm)
        n_rec = (steps - warm) // 5
        for k in range(n_rec):
            dyn.run(5)
            label(at, group, test=k >= int(0.8 * n_rec))
        log(f"CHGNet MD {group} {temp:g} K: {steps} steps, {time.perf_counter() - t0:.0f} s")
    n_at = np.array([len(c[0]) for c in confs])
    ref = {"symbols": np.concatenate([c[0] for c in confs]), "positions": np.concatenate([c[1] for c in confs]),
           "cells": np.array([c[2] for c in confs]), "energy": np.array([c[3] for c in confs]),
           "forces": np.concatenate([c[4] for c in confs]), "group": np.array([c[5] for c in confs]),
           "test": np.array([c[6] for c in confs]), "n_atoms": n_at}
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **ref)
    return ref


def configurations(ref: dict) -> list[Atoms]:
    off = np.concatenate([[0], np.cumsum(ref["n_atoms"])])
    return [Atoms(list(ref["symbols"][a:b]), positions=ref["positions"][a:b], cell=c, pbc=True)
            for a, b, c in zip(off[:-1], off[1:], ref["cells"])]


# ---------------------------------------------------------------- model: Ewald (unit charges) + Buckingham
def ewald_unit(atoms: Atoms) -> tuple[float, np.ndarray]:
    """Ewald energy (eV) and forces (eV/A) of the formal charges Z (pymatgen; charged cells get the usual
    neutralising background, as in LAMMPS)."""
    from pymatgen.analysis.ewald import EwaldSummation

    s = AseAtomsAdaptor.get_structure(atoms)
    s.add_oxidation_state_by_element(Z)
    ew = EwaldSummation(s, compute_forces=True, acc_factor=14.0)
    return float(ew.total_energy), np.asarray(ew.forces)


class PairTables:
    """Neighbour pairs (ordered, r < CUTOFF) of many configurations, grouped by species pair, so that the
    Buckingham energies and forces of all configurations are a few vectorised numpy expressions."""

    def __init__(self, configs: list[Atoms], cutoff: float = CUTOFF):
        from matscipy.neighbours import neighbour_list

        self.n_conf, self.n_atoms = len(configs), sum(len(a) for a in configs)
        tab = {p: ([], [], [], []) for p in PAIRS}
        off = 0
        for c, at in enumerate(configs):
            i, j, d, vec = neighbour_list("ijdD", at, cutoff)
            sym = np.array(at.get_chemical_symbols())
            for p in PAIRS:
                m = ((sym[i] == p[0]) & (sym[j] == p[1])) | ((sym[i] == p[1]) & (sym[j] == p[0]))
                for lst, v in zip(tab[p], (np.full(m.sum(), c), i[m] + off, d[m], vec[m])):
                    lst.append(v)
            off += len(at)
        self.tab = {p: tuple(np.concatenate(v) for v in t) for p, t in tab.items()}

    def evaluate(self, pairs: dict) -> tuple[np.ndarray, np.ndarray]:
        """Buckingham energies (n_conf,) and forces (n_atoms, 3) for {pair: (A, rho, C)}."""
        e, f = np.zeros(self.n_conf), np.zeros((self.n_atoms, 3))
        for p, (conf, i, r, vec) in self.tab.items():
            a, rho, c = pairs[p]
            ex = a * np.exp(-r / rho)
            e += 0.5 * np.bincount(conf, ex - c / r ** 6, self.n_conf)  # each pair appears twice
            g = (-ex / rho + 6 * c / r ** 7) / r  # dE/dr / r; F_i = sum_j dE/dr (r_j - r_i) / r
            for k in range(3):
                f[:, k] += np.bincount(i, g * vec[:, k], self.n_atoms)
        return e, f


def unpack(x: np.ndarray) -> tuple[float, dict]:
    """Parameter vector -> (s, {pair: (A, rho, C)}); A and rho enter as logs (positive)."""
    s, k, pairs = float(x[0]), 1, {}
    for p in PAIRS:
        a, rho = np.exp(x[k]), np.exp(x[k + 1])
        k += 2
        c = 0.0
        if p in DISPERSIVE:
            c, k = float(x[k]), k + 1
        pairs[p] = (float(a), float(rho), c)
    return s, pairs


def pack(s: float, pairs: dict) -> np.ndarray:
    x = [s]
    for p in PAIRS:
        x += [np.log(pairs[p][0]), np.log(pairs[p][1])] + ([pairs[p][2]] if p in DISPERSIVE else [])
    return np.array(x)


def bounds() -> tuple[np.ndarray, np.ndarray]:
    lo, hi = [0.5], [1.0]
    for p in PAIRS:
        lo += [np.log(1.0), np.log(0.12)] + ([0.0] if p in DISPERSIVE else [])
        hi += [np.log(1e6), np.log(0.5)] + ([60.0] if p in DISPERSIVE else [])
    return np.array(lo), np.array(hi)


def potential(s: float, pairs: dict) -> dict:
    """The classical.py potential dict (Li-Li: Coulomb only)."""
    return {"charges": {el: s * z for el, z in Z.items()}, "pairs": {**pairs, ("Li", "Li"): (0.0, 1.0, 0.0)},
            "cutoff": CUTOFF, "citation": "force-matched to CHGNet 0.3.0 by perovscreen.md.forcefit"}


class Objective:
    """Residuals: forces (eV/A) and w_e * per-atom energy relative to the mean of its cell type (eV/atom)."""

    def __init__(self, ref: dict, configs: list[Atoms], mask: np.ndarray, w_e: float = 20.0):
        self.idx = np.where(mask)[0]
        cf = [configs[i] for i in self.idx]
        self.tables = PairTables(cf)
        ew = [ewald_unit(a) for a in cf]
        self.e_coul, self.f_coul = np.array([e for e, _ in ew]), np.concatenate([f for _, f in ew])
        off = np.concatenate([[0], np.cumsum(ref["n_atoms"])])
        self.f_ref = np.concatenate([ref["forces"][off[i]:off[i + 1]] for i in self.idx])
        self.e_ref, self.n = ref["energy"][self.idx], ref["n_atoms"][self.idx].astype(float)
        self.groups = [np.where(ref["group"][self.idx] == g)[0] for g in np.unique(ref["group"][self.idx])]
        self.w_e = w_e

    def predict(self, x):
        s, pairs = unpack(x)
        e, f = self.tables.evaluate(pairs)
        return e + s * s * self.e_coul, f + s * s * self.f_coul

    def energy_residuals(self, e):
        d = (e - self.e_ref) / self.n
        for g in self.groups:
            d[g] -= d[g].mean()
        return d

    def __call__(self, x):
        e, f = self.predict(x)
        return np.concatenate([(f - self.f_ref).ravel(), self.w_e * self.energy_residuals(e)])

    def metrics(self, x) -> dict:
        e, f = self.predict(x)
        df, de = f - self.f_ref, self.energy_residuals(e)
        r2 = 1 - (df ** 2).sum() / ((self.f_ref - self.f_ref.mean(0)) ** 2).sum()
        return {"n_configs": len(self.idx), "force_mae_eV_A": float(np.abs(df).mean()),
                "force_rmse_eV_A": float(np.sqrt((df ** 2).mean())), "force_r2": float(r2),
                "energy_rmse_meV_atom": float(1000 * np.sqrt((de ** 2).mean()))}


def pair_energy(pot: dict, a: str, b: str, r: np.ndarray) -> np.ndarray:
    """Pair energy with Coulomb (bare 1/r) -- for the short-range collapse check."""
    from perovscreen.md.classical import pair_params

    A, rho, C = pair_params(pot, a, b)
    return A * np.exp(-r / rho) - C / r ** 6 + KE * pot["charges"][a] * pot["charges"][b] / r


def collapse_free(pot: dict, r_min: float = 1.0) -> bool:
    """Every pair repulsive (dE/dr < 0) from r_min up to its well (or to 2.5 A): no Buckingham catastrophe."""
    r = np.linspace(r_min, 2.5, 300)
    for a, b in PAIRS:
        e = pair_energy(pot, a, b, r)
        stop = int(np.argmin(e)) if np.diff(e).max() > 0 else len(r) - 1
        if stop and np.diff(e[:stop + 1]).max() >= 0:
            return False
    return True


def fit(ref: dict, w_e: float = 20.0, log=print) -> tuple[dict, dict]:
    """Least-squares fit; returns (potential dict, metrics on the train and held-out configurations)."""
    from scipy.optimize import least_squares

    configs = configurations(ref)
    test = ref["test"].astype(bool)
    t0 = time.perf_counter()
    train = Objective(ref, configs, ~test, w_e)
    x0 = pack(X0["s"], {p: X0[p] for p in PAIRS})
    sol = least_squares(train, x0, bounds=bounds(), x_scale="jac", max_nfev=400)
    log(f"fit: {sol.nfev} evaluations, {time.perf_counter() - t0:.0f} s, cost {sol.cost:.4g}")
    s, pairs = unpack(sol.x)
    pot = potential(s, pairs)
    held = Objective(ref, configs, test, w_e)
    return pot, {"train": train.metrics(sol.x), "test": held.metrics(sol.x), "collapse_free_to_1A": collapse_free(pot)}


# CHGNet 0.3.0 on the same checks (computed once with `validate(calc)`, 1 thread): static cubic a0 and the
# climbing-image barrier of the seed-0 hop band (2x2x2, LiCl Schottky pair, relaxed endpoints, 5 images)
CHGNET_CHECKS = {"a_static_A": 3.9165, "neb_barrier_eV": 0.223}


def validate(calc) -> dict:
    """Static cubic lattice parameter and the vacancy-hop NEB barrier of any ASE calculator."""
    from scipy.optimize import minimize_scalar

    from perovscreen.neb.band import run_band

    def energy(a):
        at = li3ocl(1, a)
        at.calc = calc
        return at.get_potential_energy()

    a0 = minimize_scalar(energy, bounds=(3.7, 4.1), method="bounded", options={"xatol": 1e-4}).x
    vcell, vac = schottky(li3ocl(2), 0)
    band = hop_band(vcell, vac, 5)
    neb = run_band(band[0], band[-1], calc, n_images=5, fmax=0.05, steps=200, relax_endpoints=True)
    return {"a_static_A": round(float(a0), 4), "neb_barrier_eV": round(neb.forward_barrier, 4),
            "chgnet": CHGNET_CHECKS, "experiment_a_A": A_EXP}


def to_json(pot: dict, metrics: dict, path: Path, command: str, checks: dict | None = None) -> None:
    d = {"citation": f"{pot['citation']} (command: {command})",
         "charges": {k: round(pot["charges"]["Li"], 6) * z for k, z in Z.items()},  # exactly neutral
         "pairs": {f"{a}-{b}": [round(v, 6) for v in par] for (a, b), par in pot["pairs"].items()},
         "cutoff": pot["cutoff"], "coulomb": "Ewald (LAMMPS buck/coul/long + kspace ewald)",
         "reference": "CHGNet 0.3.0 energies/forces, 2x2x2 Li3OCl (perfect, strained, LiCl Schottky pair, "
                      "Langevin MD 600-1400 K, vacancy-hop band)", "fit_metrics": metrics, "validation": checks}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(d, indent=1) + "\n")


# ---------------------------------------------------------------- an ASE calculator of the same model
class RigidIonCalculator(Calculator):
    """Energy and forces of a classical.py potential dict (charges proportional to Z): pymatgen Ewald +
    truncated Buckingham. For NEB and checks without LAMMPS."""

    implemented_properties = ["energy", "free_energy", "forces"]

    def __init__(self, pot: dict, **kw):
        super().__init__(**kw)
        self.pot = pot
        self.s = pot["charges"]["Li"] / Z["Li"]

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        from perovscreen.md.classical import pair_params

        e_c, f_c = ewald_unit(self.atoms)
        e, f = PairTables([self.atoms], self.pot["cutoff"]).evaluate({p: pair_params(self.pot, *p) for p in PAIRS})
        self.results = {"energy": float(e[0] + self.s ** 2 * e_c), "forces": f + self.s ** 2 * f_c}
        self.results["free_energy"] = self.results["energy"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m perovscreen.md.forcefit", description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(DATA / "li3ocl_chgnet.json"))
    ap.add_argument("--cache", default=str(DATA / "li3ocl_chgnet_refs.npz"), help="CHGNet-labelled set (npz)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--w-energy", type=float, default=20.0)
    a = ap.parse_args(argv)
    ref = reference_set(Path(a.cache), a.seed)
    pot, metrics = fit(ref, a.w_energy)
    checks = validate(RigidIonCalculator(pot))
    args = sys.argv[1:] if argv is None else argv
    to_json(pot, metrics, Path(a.out), "python -m perovscreen.md.forcefit " + " ".join(args), checks)
    print(json.dumps({"charges": pot["charges"], "pairs": {"-".join(k): v for k, v in pot["pairs"].items()},
                      **metrics, "validation": checks}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
