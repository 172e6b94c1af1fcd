"""NEB cost per force call and per atom: CHGNet vs SevenNet, scaling with supercell size, against a plain
ASE NEB as matcalc's NEBCalc runs it (linear interpolation, k = 0.1, BFGS) in the same process; and,
with --dft, a DFT band seeded by the uMLIP band vs the uMLIP band for the same hop (time and barrier).

    python benchmarks/neb_cost.py [--potentials chgnet,sevenn] [--cells 0,7.8] [--n-images 3]
                                  [--fmax 0.1] [--steps 60] [--dft espresso] [--out results/neb_cost.json]

Hop: the Li vacancy hop of Li3OCl (Pm-3m, a = 3.909 A); --cells are min_length values (0: 2x2x1, 19 atoms;
7.8: 2x2x2, 39 atoms; 10: 3x3x3, 134 atoms). Both bands start from the same endpoints, relaxed once with
the potential (not timed). Cost = band wall time / (force calls x atoms). The DFT band (Quantum ESPRESSO,
SSSP efficiency, --dft-ecut eV, Gamma + the k-grid of --dft-kdensity) runs on the smallest cell.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

PSEUDOS = Path(__file__).resolve().parents[1] / ".." / "shared" / "pseudos" / "qe" / "sssp_efficiency_pbe_v1.3.0"


def endpoints(min_length: float, calc):
    from perovscreen.neb.band import _relax
    from perovscreen.neb.endpoints import as_atoms
    from perovscreen.neb.hops import distinct_hops, hop_endpoints
    from perovscreen.structures.examples import get_example

    s = get_example("Li3OCl")
    hops, _ = distinct_hops(s)
    start, end, info = hop_endpoints(s, hops[0], "vacancy", min_length)
    a, b = as_atoms(start), as_atoms(end)
    for x in (a, b):
        _relax(x, calc, "FIRE", 0.05, 200)
    return a, b, info


def plain_ase(a, b, calc, n_images: int, fmax: float, steps: int) -> dict:
    """matcalc-style: linear interpolation, NEB(climb=True, allow_shared_calculator=True), BFGS."""
    from ase.mep import NEB, NEBTools
    from ase.optimize import BFGS

    images = [a.copy() for _ in range(n_images + 1)] + [b.copy()]
    for im in images:
        im.calc = calc
    t0 = time.perf_counter()
    neb = NEB(images, climb=True, allow_shared_calculator=True, method="improvedtangent")
    neb.interpolate(mic=True)
    calls = [0]
    evaluate = neb.get_forces

    def counted():
        calls[0] += 1
        return evaluate()
    neb.get_forces = counted
    with BFGS(neb, logfile=None) as opt:
        conv = bool(opt.run(fmax=fmax, steps=steps))
    wall = time.perf_counter() - t0
    barrier, _ = NEBTools(images).get_barrier(fit=False)  # recomputes the end images (shared calculator)
    n_calls = calls[0] * (n_images + 2)  # aseneb/improvedtangent evaluate the end images every step too
    return {"barrier": barrier, "converged": conv, "steps": opt.nsteps, "wall_s": wall, "force_calls": n_calls,
            "cost_s_per_call_atom": wall / n_calls / len(a)}


def ours(a, b, calc, n_images, fmax, steps, label, seed=None) -> dict:
    from perovscreen.neb.band import run_band

    r = run_band(a, b, calc, n_images=n_images, fmax=fmax, steps=steps, label=label, seed=seed)
    return {"barrier": r.forward_barrier, "reverse": r.reverse_barrier, "converged": r.converged,
            "steps": r.steps, "wall_s": r.wall_s, "force_calls": r.force_calls,
            "cost_s_per_call_atom": r.cost_s_per_call_atom, "result": r}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--potentials", default="chgnet,sevenn")
    ap.add_argument("--cells", default="0,7.8", help="comma-separated min_length values")
    ap.add_argument("--n-images", type=int, default=3)
    ap.add_argument("--fmax", type=float, default=0.1)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--dft", default="", help="espresso or gpaw: also a DFT band on the smallest cell")
    ap.add_argument("--dft-ecut", type=float, default=340.0, help="eV (25 Ry: a cheap, unconverged test)")
    ap.add_argument("--dft-kdensity", type=float, default=1.0)
    ap.add_argument("--dft-steps", type=int, default=15)
    ap.add_argument("--dft-fmax", type=float, default=0.1)
    ap.add_argument("--dft-nprocs", type=int, default=1, help="MPI processes per DFT calculation")
    ap.add_argument("--dft-relax-endpoints", action="store_true",
                    help="relax the endpoints with the DFT code too (FIRE to --dft-fmax), not only with the uMLIP")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    from perovscreen.potentials.calculators import get_calculator

    rows, seeds = [], {}
    for pot in a.potentials.split(","):
        calc = get_calculator(pot)
        for ml in (float(x) for x in a.cells.split(",")):
            s, e, info = endpoints(ml, calc)
            r = ours(s, e, calc, a.n_images, a.fmax, a.steps, pot)
            seeds.setdefault(ml, (s, e, r.pop("result")))
            row = {"potential": pot, "supercell": info["supercell"], "n_atoms": len(s), "perovscreen": r}
            if not a.no_baseline:
                row["plain_ase"] = plain_ase(s, e, calc, a.n_images, a.fmax, a.steps)
                row["wall_ratio_plain_over_ours"] = row["plain_ase"]["wall_s"] / r["wall_s"]
            rows.append(row)
            print(json.dumps(row, default=float), flush=True)
    out = {"rows": rows, "load_average": os.getloadavg(), "cpus": os.cpu_count(),
           "settings": {"n_images": a.n_images, "fmax": a.fmax, "steps": a.steps}}
    if a.dft:
        from perovscreen.dft.engines import dft_calculator

        ml = min(seeds)
        s, e, umlip = seeds[ml]
        seed = umlip
        work = Path(tempfile.mkdtemp(prefix="neb-dft-"))
        factory = lambda i: dft_calculator(a.dft, work / f"image{i:02d}", kpoint_density=a.dft_kdensity,  # noqa: E731
                                           ecut=a.dft_ecut, pseudo_dir=str(PSEUDOS), nprocs=a.dft_nprocs)
        t0 = time.perf_counter()
        relaxed = {}
        if a.dft_relax_endpoints:
            from perovscreen.neb.band import _relax

            s, e = s.copy(), e.copy()
            for name, x, i in (("initial", s, 0), ("final", e, a.n_images + 1)):
                t1 = time.perf_counter()
                _relax(x, factory(i), "FIRE", a.dft_fmax, 100)  # in place
                relaxed[name] = {"wall_s": time.perf_counter() - t1}
            seed = None  # the uMLIP band's images belong to other endpoints: IDPP between the DFT ones
        d = ours(s, e, factory, a.n_images, a.dft_fmax, a.dft_steps, a.dft, seed=seed)
        d.pop("result")
        out["dft"] = {"engine": a.dft, "ecut_eV": a.dft_ecut, "nprocs": a.dft_nprocs, "kpoint_density": a.dft_kdensity,
                      "n_atoms": len(s), "band": d, "total_wall_s": time.perf_counter() - t0,
                      "endpoint_relaxation": relaxed,
                      "seed_band": {"potential": umlip.calculator, "barrier": umlip.forward_barrier,
                                    "wall_s": umlip.wall_s}}
        print(json.dumps(out["dft"], default=float), flush=True)
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps(out, indent=1, default=float))


if __name__ == "__main__":
    main()
