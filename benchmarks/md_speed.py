"""MD speed: steps/s and atom-steps/s of universal potentials on cubic Li3OCl supercells, and the overhead of
perovscreen's ASE engine (sampling + checkpoints) over a bare ASE Nose-Hoover loop with the same calculator.

    python benchmarks/md_speed.py --sizes 1 2 3 --steps 20 --potentials chgnet sevenn --threads 1
    python benchmarks/md_speed.py --classical --steps 2000      # OpenMM vs LAMMPS, Teter Li2O, same run
    python benchmarks/md_speed.py --fitted --sizes 2 3 --steps 20 --threads 1   # CHGNet-fitted Li3OCl (LAMMPS) vs CHGNet

Both loops run the same number of steps from the same state, alternating (bare, engine, bare, engine) so
that load drift on a shared machine hits both alike; the overhead is the median ratio of the pairs.
"""
from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
from ase import units
from ase.md.nose_hoover_chain import NoseHooverChainNVT
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
from pymatgen.io.ase import AseAtomsAdaptor

from perovscreen.core.errors import ModelError
from perovscreen.md.engine_ase import MDSettings, run_ase
from perovscreen.potentials import get_calculator
from perovscreen.structures.examples import get_example


def cell(n):
    s = get_example("Li3OCl")
    s.make_supercell([n, n, n])
    s.remove_oxidation_states()
    return AseAtomsAdaptor.get_atoms(s)


def bare(atoms, calc, steps, dt=2.0, T=800.0):
    a = atoms.copy()
    a.calc = calc
    MaxwellBoltzmannDistribution(a, temperature_K=T, rng=np.random.default_rng(0))
    dyn = NoseHooverChainNVT(a, dt * units.fs, temperature_K=T, tdamp=100 * units.fs)
    a.get_forces()
    t = time.perf_counter()
    dyn.run(steps)
    return time.perf_counter() - t


def engine(atoms, calc, steps, dt=2.0, T=800.0):
    s = MDSettings(time_ps=steps * dt / 1000, equil_ps=0, timestep_fs=dt, sample_fs=5 * dt, checkpoint_steps=10)
    with tempfile.TemporaryDirectory() as wd:
        a = atoms.copy()
        a.calc = calc
        a.get_forces()  # same warm start as the bare loop
        t = time.perf_counter()
        run_ase(a, calc, T, s, wd)
        return time.perf_counter() - t


def classical(steps: int, repeats: int) -> None:
    """OpenMM (CPU platform, 1 thread) vs LAMMPS (serial) on the same Li2O cells, potential and settings."""
    from ase.spacegroup import crystal

    from perovscreen.md.classical import POTENTIALS
    from perovscreen.md.engine_lammps import run_lammps
    from perovscreen.md.engine_openmm import run_openmm

    s = MDSettings(time_ps=steps / 1000, equil_ps=0, timestep_fs=1.0, sample_fs=20.0, checkpoint_steps=500)
    runs = {"lammps": lambda a, p, wd: run_lammps(a, p, 1200.0, s, wd),
            "openmm": lambda a, p, wd: run_openmm(a, p, 1200.0, s, wd, threads=1)}
    print(f"{'cell':6s} {'atoms':>5s} {'cutoff':>6s} {'LAMMPS steps/s':>14s} {'OpenMM steps/s':>14s} "
          f"{'OpenMM/LAMMPS':>13s}")
    for n, rc in ((3, 6.0), (5, 10.0)):
        atoms = crystal(["Li", "O"], [(0.25,) * 3, (0, 0, 0)], spacegroup=225, cellpar=[4.51] * 3 + [90] * 3).repeat(n)
        pot = dict(POTENTIALS["buckingham-li2o"], cutoff=rc)
        sps = {}
        for name, run in runs.items():
            times = []
            for _ in range(repeats):
                with tempfile.TemporaryDirectory() as wd:
                    t = time.perf_counter()
                    run(atoms, pot, wd)
                    times.append(time.perf_counter() - t)
            sps[name] = steps / np.median(times)
        print(f"{n}x{n}x{n}  {len(atoms):5d} {rc:6.1f} {sps['lammps']:14.1f} {sps['openmm']:14.1f} "
              f"{sps['openmm'] / sps['lammps']:13.2f}", flush=True)


def fitted(sizes, steps: int, repeats: int) -> None:
    """The Li3OCl potential force-matched to CHGNet (LAMMPS, serial) vs CHGNet itself (perovscreen's ASE engine)
    on the same cells and settings: what the demo gains by running the fitted potential."""
    from perovscreen.md.engine_lammps import run_lammps

    calc = get_calculator("chgnet")
    n_classical = 200 * steps
    s = MDSettings(time_ps=n_classical * 2 / 1000, equil_ps=0, timestep_fs=2.0, sample_fs=50.0, checkpoint_steps=1000)
    print(f"{'atoms':>5s} {'CHGNet steps/s':>14s} {'fitted steps/s':>14s} {'fitted/CHGNet':>13s}")
    for n in sizes:
        atoms = cell(n)
        bare(atoms, calc, 2)  # warm-up
        t_chg = np.median([engine(atoms, calc, steps) for _ in range(repeats)])
        times = []
        for _ in range(repeats):
            with tempfile.TemporaryDirectory() as wd:
                t = time.perf_counter()
                run_lammps(atoms, "li3ocl-chgnet", 800.0, s, wd)
                times.append(time.perf_counter() - t)
        chg, fit = steps / t_chg, n_classical / np.median(times)
        print(f"{len(atoms):5d} {chg:14.2f} {fit:14.1f} {fit / chg:13.0f}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--potentials", nargs="+", default=["chgnet", "sevenn"])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    ap.add_argument("--classical", action="store_true", help="OpenMM vs LAMMPS with the Teter potential instead")
    ap.add_argument("--fitted", action="store_true", help="the CHGNet-fitted Li3OCl potential vs CHGNet instead")
    args = ap.parse_args()
    if args.classical:
        return classical(args.steps, args.repeats)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.fitted:
        return fitted(args.sizes, args.steps, args.repeats)
    print(f"{'potential':9s} {'atoms':>5s} {'steps/s':>8s} {'atom-steps/s':>12s} {'bare steps/s':>12s} "
          f"{'overhead':>9s}")
    for name in args.potentials:
        try:
            calc = get_calculator(name, device=args.device)
        except (ModelError, ImportError) as exc:
            print(f"{name:9s} unavailable: {exc}")
            continue
        for n in args.sizes:
            atoms = cell(n)
            bare(atoms, calc, 2)  # warm-up (graph construction, JIT)
            tb, te = [], []
            for _ in range(args.repeats):
                tb.append(bare(atoms, calc, args.steps))
                te.append(engine(atoms, calc, args.steps))
            ratio = float(np.median(np.array(te) / np.array(tb)))
            sps = args.steps / np.median(te)
            print(f"{name:9s} {len(atoms):5d} {sps:8.2f} {sps * len(atoms):12.1f} {args.steps / np.median(tb):12.2f} "
                  f"{100 * (ratio - 1):+8.1f}%", flush=True)


if __name__ == "__main__":
    main()
