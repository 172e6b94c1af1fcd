"""GPAW vs Quantum ESPRESSO wall time for one SCF of a 5-atom perovskite (cubic SrTiO3, a = 3.905 A, one Ti
displaced so forces are non-zero), the same k-grid, each code at its production cutoff: QE the SSSP
metadata (50/400 Ry, O sets it), GPAW 600 eV. Energies differ by construction (pseudopotentials vs PAW setups).

    python benchmarks/dft_scf.py [--kpoint-density 1.5] [--nprocs 1] [--repeat 1]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from ase import Atoms

from perovscreen.dft.engines import dft_calculator

PSEUDOS = Path(__file__).resolve().parents[1] / ".." / "shared" / "pseudos" / "qe" / "sssp_efficiency_pbe_v1.3.0"


def srtio3(a: float = 3.905) -> Atoms:
    atoms = Atoms("SrTiO3", scaled_positions=[(0, 0, 0), (0.5, 0.5, 0.5), (0.5, 0.5, 0), (0.5, 0, 0.5),
                                              (0, 0.5, 0.5)], cell=[a, a, a], pbc=True)
    atoms.positions[1, 2] += 0.05  # a small polar displacement: forces and a lower symmetry, like a real step
    return atoms


def run(engine: str, density: float, nprocs: int, work: Path) -> dict:
    atoms = srtio3()
    kw = {"pseudo_dir": str(PSEUDOS)} if engine == "espresso" else {"ecut": 600.0}
    calc = dft_calculator(engine, work / engine, kpoint_density=density, atoms=atoms, nprocs=nprocs,
                          conv_thr=1e-6, **kw)
    atoms.calc = calc
    t0 = time.perf_counter()
    e = atoms.get_potential_energy()
    wall = time.perf_counter() - t0
    f = abs(atoms.get_forces()).max()
    return {"engine": engine, "wall_s": wall, "energy": e, "fmax": f, "iterations": calc.info["iterations"],
            "kpts": calc.kpts, "gap": calc.info.get("band_gap")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kpoint-density", type=float, default=1.5, help="points per A^-1 (1.5: 3x3x3 on SrTiO3)")
    ap.add_argument("--nprocs", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    print(f"SrTiO3 (5 atoms), one SCF, {a.nprocs} MPI process(es)")
    for engine in ("espresso", "gpaw"):
        rows = []
        for _ in range(a.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                rows.append(run(engine, a.kpoint_density, a.nprocs, Path(tmp)))
        r = rows[0]
        wall = statistics.median(x["wall_s"] for x in rows)
        print(f"{engine:9s} k={'x'.join(map(str, r['kpts']))}  wall {wall:6.1f} s  SCF iterations {r['iterations']:3d}  "
              f"E = {r['energy']:.4f} eV  max|F| = {r['fmax']:.3f} eV/A  PBE gap {r['gap']:.2f} eV")


if __name__ == "__main__":
    main()
